"""Rejection-sampling throughput: completions generated *and verified* per second, the reasoning-set way
(r1.model.generate's batched sampling + the reward registry over the whole chunk) against a plain `model.generate` loop
over the same prompts (one prompt at a time, its n samples in one call, each verified as it comes).

    .venv/bin/python bench/bench_rejection.py [--model models/interim] [--prompts 64] [--n 4] [--profile default]

Prints a table and writes reports/bench_rejection.json. Sampling settings come from the profile's `reasoning_set`
section, so the numbers describe what a shard job does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from r1 import config  # noqa: E402
from r1.build import paths  # noqa: E402
from r1.data.readable import TASK_COLUMNS, explode_samples, score_samples, sft_prompt  # noqa: E402


def default_model() -> Path:
    for candidate in (paths.INTERIM, paths.R1_ZERO, paths.BASE):
        if (candidate / "config.json").exists():
            return candidate
    sys.exit("no model found: build models/interim (or models/r1_zero, models/base) first, or pass --model")


def verify(tasks: pl.DataFrame, completions: list[list[str]]) -> int:
    scored = score_samples(explode_samples(tasks, completions), ("accuracy",))
    return int((scored["accuracy"] == 1.0).sum())


def batched(model, tok, tasks, rs, seed):
    from r1.model.generate import generate

    start = time.perf_counter()
    completions, counts = generate((model, tok), [sft_prompt(p) for p in tasks["prompt"]], n=rs.samples_per_prompt,
                                   temperature=rs.temperature, top_p=rs.top_p, max_new_tokens=rs.max_new_tokens,
                                   batch_size=rs.batch_size, seed=seed, return_num_tokens=True, desc="batched")
    gen = time.perf_counter() - start
    correct = verify(tasks, completions)
    return {"seconds": time.perf_counter() - start, "generate_seconds": gen, "correct": correct,
            "tokens": sum(map(sum, counts))}


def plain_loop(model, tok, tasks, rs, seed):
    """What one would write first: prompt by prompt, `model.generate`, decode, verify."""
    import torch

    torch.manual_seed(seed)
    start, gen, correct, tokens = time.perf_counter(), 0.0, 0, 0
    for i in range(len(tasks)):
        row = tasks.slice(i, 1)
        enc = tok(sft_prompt(row["prompt"][0]), return_tensors="pt")
        t0 = time.perf_counter()
        with torch.inference_mode():
            out = model.generate(**enc, do_sample=True, temperature=rs.temperature, top_p=rs.top_p, top_k=0,
                                 max_new_tokens=rs.max_new_tokens, num_return_sequences=rs.samples_per_prompt,
                                 eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
        gen += time.perf_counter() - t0
        new = out[:, enc["input_ids"].shape[1]:]
        tokens += int((new != tok.pad_token_id).sum())
        texts = tok.batch_decode(new, skip_special_tokens=True)
        correct += verify(row, [texts])
    return {"seconds": time.perf_counter() - start, "generate_seconds": gen, "correct": correct, "tokens": tokens}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--profile", default=None)
    parser.add_argument("--prompts", type=int, default=64)
    parser.add_argument("--n", type=int, default=None, help="samples per prompt (default: reasoning_set's)")
    parser.add_argument("--out", default=str(paths.REPORTS / "bench_rejection.json"))
    args = parser.parse_args(argv)

    from r1.model.modeling import load_model_and_tokenizer

    cfg = config.load(args.profile)
    rs = cfg.reasoning_set
    if args.n:
        import dataclasses

        rs = dataclasses.replace(rs, samples_per_prompt=args.n)
    model_dir = Path(args.model) if args.model else default_model()
    model, tok = load_model_and_tokenizer(model_dir, device="cpu")
    tasks = pl.read_parquet(paths.TASKS / "train.parquet").select(TASK_COLUMNS) \
        .sample(n=args.prompts, shuffle=True, seed=cfg.seed)
    n = len(tasks) * rs.samples_per_prompt
    verify(tasks.head(2), [[""] * 1] * 2)  # start the verifier workers outside the timings
    results = {}
    for name, fn in (("batched (r1.model.generate + registry)", batched), ("plain model.generate loop", plain_loop)):
        r = fn(model, tok, tasks, rs, cfg.seed)
        r.update(completions=n, completions_per_s=n / r["seconds"], tokens_per_s=r["tokens"] / r["generate_seconds"])
        results[name] = r
    speedup = (results["batched (r1.model.generate + registry)"]["completions_per_s"]
               / results["plain model.generate loop"]["completions_per_s"])
    print(f"model {model_dir}, {len(tasks)} prompts x {rs.samples_per_prompt} samples, "
          f"max_new_tokens {rs.max_new_tokens}, batch_size {rs.batch_size}")
    print(f"| method | completions | seconds | completions/s | gen tokens/s | correct |\n|---|---:|---:|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['completions']} | {r['seconds']:.1f} | {r['completions_per_s']:.1f} | "
              f"{r['tokens_per_s']:.0f} | {r['correct']} |")
    print(f"speed-up of the batched path: {speedup:.1f}x")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"model": str(model_dir), "prompts": len(tasks),
                                          "samples_per_prompt": rs.samples_per_prompt, "results": results,
                                          "speedup": speedup}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
