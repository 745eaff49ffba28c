"""`cold_start` stage: a few thousand readable long-CoT examples for the cold-start SFT (R1's stage 3 data).

    python -m r1.stages.cold_start [--profile P]   ->  data/cold_start/{train.parquet, quality.json, stats.json}

R1 collected R1-Zero outputs in a readable format, prompted long CoT, and had annotators refine them. Here: R1-Zero is
sampled on train prompts; the samples that are correct, well formed and whose every step holds are rewritten into the
readable pattern (r1.data.readable), and the tasks' worked solutions, rewritten the same way, stand in for prompted
long CoT when R1-Zero yields too few. No annotators, so every example is re-verified by the reward registry after the
rewrite instead, and a Great Expectations suite gates the write.
"""

from __future__ import annotations

import polars as pl

from r1.build import quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.data import readable
from r1.model.modeling import set_threads


def main(run: StageRun) -> None:
    cs = run.cfg.cold_start
    run.require("r1_zero", marker="config.json")
    set_threads(1)
    train = pl.read_parquet(run.input("tasks") / "train.parquet")
    run.log(f"sampling R1-Zero on {min(cs.n_prompts, len(train))} train prompts x {cs.samples_per_prompt}")
    df, stats = readable.build(train, str(run.input("r1_zero")), run.cfg)
    run.timing["build_seconds"] = round(run.seconds(), 1)  # run-specific: the sidecar, not stats.json
    run.log(f"{stats}")

    report = readable.validate(df, cs.min_size, cs.target_size, cs.min_language_consistency)
    run.log(report.summary())
    quality.require(report)

    run.record(stats=stats)
    with run.publish() as out:
        df.write_parquet(out / "train.parquet")
        write_json(out / "quality.json", report.to_dict())
        write_json(out / "stats.json", stats)
    run.log(f"wrote {run.out}: {len(df)} examples in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
