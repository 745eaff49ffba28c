"""`student` stage (distillation): a smaller student base fine-tuned on the reasoning + non-reasoning sets only, no RL
(R1's distilled models: SFT of Qwen/Llama on the ~800k examples).

    python -m r1.distill [--profile P]   ->  models/student (model, tokenizer, curve.tsv, metrics.json)

The student base (`models/student_base`) is pretrained like `base` at the student's size, so this student and the
RL-only `rl_student` start from the same weights: their comparison is R1's distillation-vs-RL result in miniature.
"""

from r1 import part2_paths as p2
from r1.artifacts import run_stage
from r1.config import Params
from r1.sft import run


def main(cfg: Params) -> None:
    run("student", cfg, "distill", p2.STUDENT_BASE, [(p2.REASONING_SET, "reasoning_set")], p2.STUDENT,
        non_reasoning=p2.NON_REASONING)


if __name__ == "__main__":
    run_stage("student", main)
