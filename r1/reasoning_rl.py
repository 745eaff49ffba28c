"""`interim` stage (reasoning RL, R1's stage 4): GRPO on the cold-start SFT model, rewards accuracy + language
consistency (summed), giving the interim reasoning model that the reasoning set is sampled from.

    python -m r1.reasoning_rl [--profile P]   ->  models/interim (model, tokenizer, metrics.tsv per RL step)

The GRPO runner is r1.grpo (shared with R1-Zero); the rewards and every GRPO setting come from `reasoning_rl`.
"""

from __future__ import annotations

import sys
import time

from r1 import part2_paths as p2
from r1 import paths
from r1.artifacts import atomic_dir, run_stage, write_manifest
from r1.config import Params

STAGE = "interim"


def main(cfg: Params) -> None:
    from r1.base import load_train_records
    from r1.grpo import run_grpo
    from r1.r1_zero import rl_rows

    start = time.time()
    if not (p2.COLD_START_SFT / "config.json").exists():
        sys.exit(f"r1.reasoning_rl: {p2.COLD_START_SFT} missing: run `python -m r1.cold_start_sft` first")
    rows = rl_rows(load_train_records())
    with atomic_dir(p2.INTERIM) as out:
        summary = run_grpo(p2.COLD_START_SFT, out, cfg.reasoning_rl, rows, seed=cfg.seed,
                           checkpoint_dir=paths.checkpoints(STAGE))
        write_manifest(out, STAGE, cfg, ["seed", "reasoning_rl"], [p2.COLD_START_SFT, paths.TASKS],
                       time.time() - start, extra={"summary": summary})
    print(f"[{STAGE}] wrote {p2.INTERIM} in {time.time() - start:.0f}s: {summary}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(STAGE, main)
