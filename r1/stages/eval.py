"""`eval_<model>` stage: one model scored on the held-out tasks, the R1 way (r1.eval.scoring).

    python -m r1.stages.eval <model> [--profile P]   ->  reports/eval/<model>.json, <model>.samples.parquet

k samples per item with the R1-Zero template (and `eval.benchmarks`, e.g. HumanEval, as families of their own, in
`eval.benchmark_prompt` style); pass@1, cons@k (majority vote) and pass@k, response length, format and
reflection rates, overall and per family. As in R1 (pass@1 over k samples at T=0.6): greedy decoding makes reasoning
models repeat themselves, and one sample per item is a noisy estimate.
The json (metrics, generation settings, params, input hashes) holds the same bytes for two runs with the same seed
and is written last, so it marks a complete eval; the run's timings go to the <model>.run.json sidecar (DVC ignores
it).
"""

import time
from collections import Counter

from r1.build.artifacts import atomic_file, hash_path, run_info, run_sidecar_of, write_json
from r1.build.stage import StageRun, entry
from r1.config import to_dict
from r1.eval import scoring


def main(run: StageRun) -> None:
    cfg, name = run.cfg, run.stage.instance
    model_dir, tasks = run.input(name), run.input("tasks") / "eval.parquet"
    run.require(name, marker="config.json")
    run.require("tasks", marker="eval.parquet")
    out, samples_out = run.outputs
    items = scoring.load_items(tasks, cfg.eval.max_items_per_family)
    items = scoring.with_benchmarks(items, cfg.eval.benchmarks, cfg.eval.benchmark_prompt, cfg.eval.max_items_per_family)
    run.log(f"{len(items)} items x k={cfg.eval.k} from {model_dir}")
    start = time.perf_counter()
    metrics, samples, stats = scoring.evaluate(model_dir, items, cfg.eval, cfg.generation, cfg.seed)
    result = {
        "model": name, "k": cfg.eval.k, "n_items": len(items),
        "items_per_family": dict(Counter(items["family" if "family" in items.columns else "kind"].to_list())),
        "metrics": metrics, "generation": {k: v for k, v in stats.items() if k not in scoring.TIMING},
        "params": {"eval": to_dict(cfg.eval), "generation": to_dict(cfg.generation), "seed": cfg.seed},
        "inputs": {run.row_path(model_dir): hash_path(model_dir), run.row_path(tasks): hash_path(tasks)},
    }
    with atomic_file(samples_out) as tmp:
        samples.write_parquet(tmp)
    write_json(run_sidecar_of(out), run_info(time.perf_counter() - start,
                                             {"generation": {k: stats[k] for k in scoring.TIMING if k in stats}}))
    write_json(out, result)  # last: the json marks a complete eval
    run.log(f"pass@1 {metrics['pass@1']:.3f}  cons@{cfg.eval.k} {metrics['cons@k']:.3f}  "
            f"pass@{cfg.eval.k} {metrics['pass@k']:.3f}  format {metrics['format_rate']:.2f}")


if __name__ == "__main__":
    entry(main)
