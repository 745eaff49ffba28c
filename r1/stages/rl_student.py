"""`rl_student` stage: the student base trained by RL alone, R1-Zero's recipe at the student's size.

    python -m r1.stages.rl_student [--profile P]   ->  models/rl_student (model, tokenizer, metrics.tsv per RL step)

The other arm of R1's distillation-versus-RL comparison: R1 found that distilling a strong reasoner into a small
model beats running large-scale RL on the small model itself. This and the distilled `student` start from the same
student base; the GRPO runner and train tasks are R1-Zero's, the settings `rl_student`'s.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train import grpo
from r1.verify import rewards


def main(run: StageRun) -> None:
    cfg = run.cfg
    run.require("student_base", marker="config.json")
    with run.publish() as out:
        summary = grpo.train_on_tasks(run.input("student_base"), run.input("tasks"), out, cfg.rl_student,
                                      {name: rewards.get(name) for name in cfg.rl_student.rewards}, seed=cfg.seed,
                                      checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                      cap=run.cap())
        run.record(summary=summary)
    run.log(f"wrote {run.out} in {run.seconds():.0f}s: {summary}")


if __name__ == "__main__":
    entry(main)
