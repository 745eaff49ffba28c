"""The `reasoning_set` merge at the full profile's size: synthetic shards in, the real merge out, time and peak RSS.

    python bench/bench_merge.py [--rows 60000,200000,600000] [--shards 128] [--words 80]

For each size, a child process (so each size has its own peak RSS) writes `--shards` shard directories shaped like
`reasoning_shard` output (samples.parquet with the task columns, completion, accuracy, shard, chunk; stats.json), then
times r1.data.sampling.merge_shards (read, exact and near-duplicate removal, per-prompt cap, target-size sample, the
GX suite and computed checks) and the parquet write, with the full profile's reasoning_set settings (shingles,
threshold, max_per_prompt) and its target/min sizes scaled to the row count. Rows: 1-3 correct samples a prompt
(mean 2, as R1's 600k from ~300k prompts), readable completions of ~`--words` words whose steps hold, with 2% exact
and 3% near duplicates planted. Target (issue 17): 600k rows in <= 60 s and <= 8 GiB peak RSS on 2 cores.
Completions are far shorter than R1's (thousands of tokens); the cost of the text passes grows with their length.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

FILLER = ("first we read the question carefully and note what is given then we work step by step checking each "
          "result against the numbers so that nothing is lost along the way and the answer follows").split()


def completion(rng: random.Random, a: int, b: int, words: int) -> str:
    """A readable completion (reasoning between the markers, the answer in the summary) whose steps hold."""
    text = " ".join(rng.choice(FILLER) for _ in range(words))
    return (f"|special_token| We add {a} + {b} = {a + b}. {text}. |special_token| "
            f"The total is {a + b}. <answer> {a + b} </answer>")


def make_shards(root: Path, rows: int, shards: int, words: int, seed: int) -> list[Path]:
    import polars as pl

    from r1.data import sampling

    rng = random.Random(seed)
    dirs, made, prompt = [], 0, 0
    for s in range(shards):
        recs = []
        while made < rows * (s + 1) // shards:  # cumulative: every shard gets its share
            a, b = rng.randint(1, 10**6), rng.randint(1, 10**6)
            kind = ("math", "countdown", "code")[prompt % 3]
            base = dict(id=f"{kind}-train-{prompt:07d}", kind=kind, prompt=f"Problem {prompt}: what is {a} plus {b}?",
                        answer=str(a + b), numbers=None, target=None, tests=None, entry_point=None, reference=None)
            for k in range(min(1 + prompt % 3, rows - made)):
                text = completion(rng, a, b, words)
                roll = rng.random()
                if k and roll < 0.02 and recs:
                    text = recs[-1]["completion"].upper()  # an exact duplicate up to case
                elif k and roll < 0.05 and recs:
                    text = recs[-1]["completion"].replace(" the ", " a ", 1)  # a near duplicate
                recs.append(dict(base, completion=text, accuracy=1.0, shard=s, chunk=k % 4))
                made += 1
            prompt += 1
        d = root / f"shard_{s:03d}"
        d.mkdir(parents=True)
        pl.DataFrame(recs, infer_schema_length=None).with_columns(
            pl.col("shard").cast(pl.Int32), pl.col("chunk").cast(pl.Int32)).write_parquet(d / sampling.SAMPLES)
        (d / "stats.json").write_text(json.dumps({"samples": 4 * len(recs), "correct": len(recs), "kept": len(recs)}))
        dirs.append(d)
    return dirs


def _timing(module, name: str, phases: dict) -> None:
    """Wrap module.name so its seconds add up under phases[name] (a breakdown of the merge)."""
    fn = getattr(module, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, timed)


def one(rows: int, shards: int, words: int, seed: int) -> dict:
    from r1 import config
    from r1.build import quality
    from r1.data import filters, sampling

    phases: dict = {}
    for module, name in ((filters, "exact_duplicates"), (filters, "near_duplicates"), (quality, "check"),
                         (sampling, "computed_checks"), (sampling, "sample_expectations")):
        _timing(module, name, phases)

    full = config.load("full").reasoning_set
    rs = dataclasses.replace(full, target_size=max(1, full.target_size * rows // 600_000),
                             min_size=full.min_size * rows // 600_000)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        dirs = make_shards(Path(tmp), rows, shards, words, seed)
        made = time.perf_counter() - start
        start, cpu = time.perf_counter(), time.process_time()
        df, stats, report = sampling.merge_shards(dirs, rs, seed)
        merged = time.perf_counter() - start
        df.write_parquet(Path(tmp) / "train.parquet")
        total, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"rows": rows, "kept": len(df), "exact_dup": stats["merge"]["exact_duplicate"],
            "near_dup": stats["merge"]["near_duplicate"], "gate": report.success, "make_s": round(made, 1),
            "merge_s": round(merged, 1), "total_s": round(total, 1), "cpu_s": round(cpu, 1),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "phases": {k: round(v, 1) for k, v in phases.items()}}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="60000,200000,600000")
    p.add_argument("--shards", type=int, default=128)
    p.add_argument("--words", type=int, default=80)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # child: one size, JSON out
    a = p.parse_args(argv)
    if a.one:
        print(json.dumps(one(a.one, a.shards, a.words, a.seed)))
        return
    print(f"{a.shards} shards, ~{a.words}-word completions; load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'rows':>8} {'kept':>8} {'exact':>6} {'near':>6} gate  merge+write s (CPU s)  peak RSS GiB  "
          "(shards made in s)  {phase: wall s}")
    for rows in [int(r) for r in a.rows.split(",")]:
        out = subprocess.run([sys.executable, __file__, "--one", str(rows), "--shards", str(a.shards), "--words",
                              str(a.words), "--seed", str(a.seed)], capture_output=True, text=True)
        if out.returncode:
            raise SystemExit(f"{rows} rows failed:\n{out.stderr[-3000:]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        gate = "ok" if r["gate"] else "FAIL"
        print(f"{r['rows']:>8} {r['kept']:>8} {r['exact_dup']:>6} {r['near_dup']:>6} {gate:4s} "
              f"{r['total_s']:>13} ({r['cpu_s']:>5}) {r['peak_rss_gib']:>13}  ({r['make_s']})  {r['phases']}",
              flush=True)
    print(f"load {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
