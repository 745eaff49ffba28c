"""`interim` stage (reasoning RL, R1's stage 4): GRPO on the cold-start SFT model, rewards accuracy + language
consistency (summed), giving the interim reasoning model that the reasoning set is sampled from.

    python -m r1.reasoning_rl [--profile P]   ->  models/interim (model, tokenizer, metrics.tsv per RL step)

The GRPO runner is r1.grpo (shared with R1-Zero); the rewards and every GRPO setting come from `reasoning_rl`.
"""

from __future__ import annotations

from r1 import part2_paths as p2
from r1.artifacts import run_stage
from r1.config import Params

STAGE = "interim"


def main(cfg: Params) -> None:
    from r1.grpo import task_stage

    task_stage(cfg, STAGE, "reasoning_rl", p2.COLD_START_SFT, p2.INTERIM, start_stage="cold_start_sft")


if __name__ == "__main__":
    run_stage(STAGE, main)
