"""`cold_start_sft` stage: the base fine-tuned on the cold-start set (R1's stage 3), with TRL's SFTTrainer.

    python -m r1.cold_start_sft [--profile P]   ->  models/cold_start_sft (model, tokenizer, curve.tsv, metrics.json)
"""

from r1 import part2_paths as p2
from r1 import paths
from r1.artifacts import run_stage
from r1.config import Params
from r1.sft import run


def main(cfg: Params) -> None:
    run("cold_start_sft", cfg, "cold_start_sft", paths.BASE, [(p2.COLD_START, "cold_start")], p2.COLD_START_SFT)


if __name__ == "__main__":
    run_stage("cold_start_sft", main)
