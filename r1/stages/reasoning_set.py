"""`reasoning_set` stage: every reasoning shard merged into R1's reasoning SFT set.

    python -m r1.stages.reasoning_set [--profile P]   ->  data/reasoning_set/{train.parquet, stats.json, quality.json}

The shards are deduplicated across each other (exact, then near duplicates within a prompt), capped at
`max_per_prompt` per prompt and at `target_size` by a seeded sample, so every kind keeps its share; a Great
Expectations suite and the filters' computed checks gate the write. stats.json sums the shards' counts and gives the
acceptance rate (correct samples per sample drawn).
"""

from __future__ import annotations

import sys

from r1.build import quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.data import sampling


def main(run: StageRun) -> None:
    rs = run.cfg.reasoning_set
    shard_dirs = run.read_paths()  # one per shard, in shard order
    missing = [str(d) for d in shard_dirs if not (d / sampling.SAMPLES).exists()]
    if missing:
        sys.exit(f"{run.name}: shards not built: {missing}")
    df, stats, report = sampling.merge_shards(shard_dirs, rs, run.cfg.seed, run.name)
    run.log(report.summary())
    quality.require(report)

    run.record(rows=len(df), acceptance_rate=stats["acceptance_rate"])
    with run.publish() as out:
        df.write_parquet(out / "train.parquet")
        write_json(out / "stats.json", stats)
        write_json(out / "quality.json", report.to_dict())
    run.log(f"wrote {run.out}: {len(df)} examples from {len(shard_dirs)} shards "
            f"(acceptance {stats['acceptance_rate']:.1%}) in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
