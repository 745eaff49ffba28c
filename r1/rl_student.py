"""`rl_student` stage: the student base trained by RL alone (R1-Zero's recipe at the student's size), the other arm
of R1's distillation-versus-RL comparison (R1-Zero-Qwen-32B 47.0 vs Distill-32B 72.6 on AIME).

    python -m r1.rl_student [--profile P]   ->  models/rl_student (model, tokenizer, metrics.tsv per RL step)
"""

from __future__ import annotations

import sys
import time

from r1 import part2_paths as p2
from r1 import paths
from r1.artifacts import atomic_dir, run_stage, write_manifest
from r1.config import Params

STAGE = "rl_student"


def main(cfg: Params) -> None:
    from r1.base import load_train_records
    from r1.grpo import run_grpo
    from r1.r1_zero import rl_rows

    start = time.time()
    if not (p2.STUDENT_BASE / "config.json").exists():
        sys.exit(f"r1.rl_student: {p2.STUDENT_BASE} missing: run `python -m r1.student_base` first")
    rows = rl_rows(load_train_records())
    with atomic_dir(p2.RL_STUDENT) as out:
        summary = run_grpo(p2.STUDENT_BASE, out, cfg.rl_student, rows, seed=cfg.seed,
                           checkpoint_dir=paths.checkpoints(STAGE))
        write_manifest(out, STAGE, cfg, ["seed", "rl_student"], [p2.STUDENT_BASE, paths.TASKS],
                       time.time() - start, extra={"summary": summary})
    print(f"[{STAGE}] wrote {p2.RL_STUDENT} in {time.time() - start:.0f}s: {summary}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(STAGE, main)
