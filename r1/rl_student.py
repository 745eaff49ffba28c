"""`rl_student` stage: the student base trained by RL alone (R1-Zero's recipe at the student's size), the other arm
of R1's distillation-versus-RL comparison (R1-Zero-Qwen-32B 47.0 vs Distill-32B 72.6 on AIME).

    python -m r1.rl_student [--profile P]   ->  models/rl_student (model, tokenizer, metrics.tsv per RL step)
"""

from __future__ import annotations

from r1 import part2_paths as p2
from r1.artifacts import run_stage
from r1.config import Params

STAGE = "rl_student"


def main(cfg: Params) -> None:
    from r1.grpo import task_stage

    task_stage(cfg, STAGE, "rl_student", p2.STUDENT_BASE, p2.RL_STUDENT, start_stage="student_base")


if __name__ == "__main__":
    run_stage(STAGE, main)
