"""`student` stage (distillation): a smaller student base fine-tuned on the reasoning + non-reasoning sets, no RL.

    python -m r1.stages.student [--profile P]   ->  models/student (model, tokenizer, curve.tsv, metrics.json)

R1's distilled models are Qwen and Llama checkpoints fine-tuned on the same ~800k examples as its SFT stage, with no
RL. Here the student base (`student_base`) is pretrained like `base` at the student's size, so this student and the
RL-only `rl_student` start from the same weights: their comparison is R1's distillation-versus-RL result in
miniature. Same runner and mix cap as `sft`, with `student`'s settings.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import sft


def main(run: StageRun) -> None:
    cfg = run.cfg
    with run.publish() as out:
        metrics = sft.fine_tune(run.input("student_base"), [run.input("reasoning_set")], out, cfg.student,
                                seed=cfg.seed, checkpoint_dir=paths.checkpoints(run.name),
                                threads=cfg.compute.train_threads, non_reasoning=run.input("non_reasoning_set"),
                                cap=run.cap())
        run.timing["train_seconds"] = metrics.pop("seconds")  # run-specific: the run sidecar, not the manifest
        run.record(metrics=metrics, init=str(run.input("student_base")))
    run.log(f"wrote {run.out} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
