"""`cold_start_sft` stage (R1's stage 3): the base fine-tuned on the cold-start set, with TRL's SFTTrainer.

    python -m r1.stages.cold_start_sft [--profile P]   ->  models/cold_start_sft (model, tokenizer, curve.tsv,
                                                           metrics.json)

R1 fine-tuned DeepSeek-V3-Base on a few thousand readable long-CoT examples before its reasoning RL, so that RL starts
from a model that already writes readable reasoning and a summary. Same here, the loss on completions only. Checkpoints
in cache/cold_start_sft resume a killed run or one stopped by its time cap.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import sft


def main(run: StageRun) -> None:
    cfg = run.cfg
    with run.publish() as out:
        metrics = sft.fine_tune(run.input("base"), [run.input("cold_start")], out, cfg.cold_start_sft, seed=cfg.seed,
                                checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                cap=run.cap())
        run.timing["train_seconds"] = metrics.pop("seconds")  # run-specific: the run sidecar, not the manifest
        run.record(metrics=metrics, init=str(run.input("base")))
    run.log(f"wrote {run.out} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
