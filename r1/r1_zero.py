"""Stage `r1_zero`: GRPO straight on the base with rule-based rewards and the R1-Zero template (no SFT).

Reads models/base and data/tasks/train.parquet; checkpoints in cache/r1_zero/checkpoints (resumable, not an output);
writes models/r1_zero/ atomically: model + tokenizer, metrics.tsv (one row per RL step), manifest.json.
"""

from __future__ import annotations

from r1 import paths
from r1.artifacts import run_stage
from r1.config import Params
from r1.grpo import REWARD_COLUMNS, rl_rows  # noqa: F401 - part of this stage's interface

STAGE = "r1_zero"


def main(cfg: Params) -> None:
    from r1.grpo import task_stage

    task_stage(cfg, STAGE, "r1_zero", paths.BASE, paths.R1_ZERO, start_stage="base")


if __name__ == "__main__":
    run_stage(STAGE, main)
