"""`r1_zero` stage: GRPO straight on the base with rule-based rewards and the R1-Zero template, no SFT (R1-Zero).

    python -m r1.stages.r1_zero [--profile P]   ->  models/r1_zero (model, tokenizer, metrics.tsv per RL step)

R1-Zero showed that RL alone, with rewards a rule can check (answer accuracy, the think/answer format), teaches a
base model to reason at length. Here GRPO (TRL) runs on the train tasks, each prompt in the R1-Zero template; the
rewards and their weights are `r1_zero.rewards`, from r1.verify.rewards. Checkpoints in cache/r1_zero/checkpoints
resume a killed run.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import grpo
from r1.verify import rewards


def main(run: StageRun) -> None:
    cfg = run.cfg
    run.require("base", marker="config.json")
    with run.publish() as out:
        summary = grpo.train_on_tasks(run.input("base"), run.input("tasks"), out, cfg.r1_zero,
                                      {name: rewards.get(name) for name in cfg.r1_zero.rewards}, seed=cfg.seed,
                                      checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                      cap=run.cap())
        run.record(summary=summary)
    run.log(f"wrote {run.out} in {run.seconds():.0f}s: {summary}")


if __name__ == "__main__":
    entry(main)
