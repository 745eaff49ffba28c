"""`student_base` stage: the students' starting point, pretrained like `base` at the student's size.

    python -m r1.stages.student_base [--profile P]   ->  models/student_base (model, tokenizer, curve.tsv, corpus.json)

R1 distilled into pretrained Qwen and Llama models. Here the student base is built by `base`'s code from the
`student_base` params section (a smaller miniature DeepSeek-V3 from scratch on the same corpus, or an imported
checkpoint), so the distilled `student` and the RL-only `rl_student` start from the same weights.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train.pretrain import build_base


def main(run: StageRun) -> None:
    cfg = run.cfg
    with run.publish() as out:
        run.record(**build_base(cfg.student_base, run.input("tasks"), cfg.seed, cfg.compute.train_threads, out,
                              cap=run.cap(), checkpoint_dir=paths.checkpoints(run.name)))
    run.log(f"wrote {run.out} in {run.seconds():.0f}s")


if __name__ == "__main__":
    entry(main)
