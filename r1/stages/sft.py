"""`sft` stage (R1's stage 5): the base fine-tuned on the reasoning set plus the non-reasoning set.

    python -m r1.stages.sft [--profile P]   ->  models/sft (model, tokenizer, curve.tsv, metrics.json)

R1 retrained DeepSeek-V3-Base (not the RL checkpoint) for two epochs on ~600k reasoning samples rejection-sampled
from the interim model and ~200k non-reasoning ones (writing, factual QA, self-cognition, translation). Here the
non-reasoning share of the mix is capped at `sft.non_reasoning_share`, R1's proportion, since long non-reasoning texts
would otherwise take most of the loss. TRL's SFTTrainer, the loss on completions only; checkpoints in cache/sft.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import sft


def main(run: StageRun) -> None:
    cfg = run.cfg
    with run.publish() as out:
        metrics = sft.fine_tune(run.input("base"), [run.input("reasoning_set")], out, cfg.sft, seed=cfg.seed,
                                checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                non_reasoning=run.input("non_reasoning_set"), cap=run.cap())
        run.timing["train_seconds"] = metrics.pop("seconds")  # run-specific: the run sidecar, not the manifest
        run.record(metrics=metrics, init=str(run.input("base")))
    run.log(f"wrote {run.out} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
