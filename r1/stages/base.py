"""`base` stage: the starting point of R1-Zero (R1 starts from DeepSeek-V3-Base).

    python -m r1.stages.base [--profile P]   ->  models/base (model, tokenizer, curve.tsv, corpus.json)

With `base.source: scratch`, a byte-level BPE tokenizer and a miniature DeepSeek-V3 (MLA + MoE) pretrained on CPU on
a synthetic corpus built from the train tasks (r1.data.corpus): a base that can reason but under the R1-Zero template
mostly answers at once, the gap RL turns into reliability. `hf_dir | gguf` imports a local checkpoint instead.
Pretraining runs `max_steps`; a run stopped by its time cap continues from its saved state when rerun.
"""

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.train.pretrain import build_base


def main(run: StageRun) -> None:
    cfg = run.cfg
    with run.publish() as out:
        run.record(**build_base(cfg.base, run.input("tasks"), cfg.seed, cfg.compute.train_threads, out,
                              cap=run.cap(), checkpoint_dir=paths.checkpoints(run.name)))
    run.log(f"wrote {run.out} in {run.seconds():.0f}s")


if __name__ == "__main__":
    entry(main)
