"""Stage `r1_zero`: GRPO straight on the base with rule-based rewards and the R1-Zero template (no SFT).

Reads models/base and data/tasks/train.parquet; checkpoints in cache/r1_zero/checkpoints (resumable, not an output);
writes models/r1_zero/ atomically: model + tokenizer, metrics.tsv (one row per RL step), manifest.json.
"""

from __future__ import annotations

import sys
import time

from r1 import paths
from r1.artifacts import atomic_dir, run_stage, write_manifest
from r1.config import Params
from r1.schema import r1_zero_prompt

STAGE = "r1_zero"
REWARD_COLUMNS = ("id", "kind", "answer", "numbers", "target", "tests", "entry_point", "reference")


def rl_rows(records: list[dict]) -> list[dict]:
    """Dataset rows: the templated prompt plus the columns the rewards read."""
    return [{"prompt": r1_zero_prompt(r["prompt"]), **{k: r.get(k) for k in REWARD_COLUMNS}} for r in records]


def main(cfg: Params) -> None:
    from r1.base import load_train_records
    from r1.grpo import run_grpo

    start = time.time()
    if not (paths.BASE / "config.json").exists():
        sys.exit(f"r1.{STAGE}: {paths.BASE} missing: run `python -m r1.base` first")
    rows = rl_rows(load_train_records())
    with atomic_dir(paths.R1_ZERO) as out:
        summary = run_grpo(paths.BASE, out, cfg.r1_zero, rows, seed=cfg.seed,
                           checkpoint_dir=paths.checkpoints(STAGE))
        write_manifest(out, STAGE, cfg, ["seed", "r1_zero"], [paths.BASE, paths.TASKS], time.time() - start,
                       extra={"summary": summary})
    print(f"[{STAGE}] wrote {paths.R1_ZERO} in {time.time() - start:.0f}s: {summary}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(STAGE, main)
