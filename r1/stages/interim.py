"""`interim` stage (reasoning-oriented RL, R1's stage 4): GRPO on the cold-start SFT model, giving the interim
reasoning model that the reasoning set is sampled from.

    python -m r1.stages.interim [--profile P]   ->  models/interim (model, tokenizer, metrics.tsv per RL step)

R1 added a language-consistency reward (the share of the chain of thought in the target language) to accuracy,
summed, trading a little accuracy for readable reasoning. The same GRPO runner as R1-Zero on the same train tasks;
the rewards, their weights and every GRPO setting are `interim`'s.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import grpo
from r1.verify import rewards


def main(run: StageRun) -> None:
    cfg = run.cfg
    run.require("cold_start_sft", marker="config.json")
    with run.publish() as out:
        summary = grpo.train_on_tasks(run.input("cold_start_sft"), run.input("tasks"), out, cfg.interim,
                                      {name: rewards.get(name) for name in cfg.interim.rewards}, seed=cfg.seed,
                                      checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                      cap=run.cap())
        run.record(summary=summary)
    run.log(f"wrote {run.out} in {run.seconds():.0f}s: {summary}")


if __name__ == "__main__":
    entry(main)
