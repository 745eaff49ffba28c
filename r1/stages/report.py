"""`report` stage: one table of every evaluated model (reports/eval.md, the DVC metrics reports/eval.json), the
recipe's effects with R1's claims checked (reports/effects.md) and the RL training curves (reports/plots/).

    python -m r1.stages.report [--profile P]

Reads each `eval_<model>` stage's json, in the order of `eval.models`, and each RL model's metrics.tsv. R1's tables
compare its models on pass@1 and cons@64; here pass@1, cons@k and pass@k sit beside response length, format and
reflection rates, overall and per task family.
"""

from r1.build.artifacts import atomic_file
from r1.build.stage import StageRun, entry
from r1.eval import effects
from r1.eval.report import report


def main(run: StageRun) -> None:
    models = run.cfg.eval.models
    out_md, effects_md, plots_dir, out_json = run.outputs  # the row's outs, then its metrics
    report({m: run.input(f"eval_{m}") for m in models}, out_json, out_md, plots_dir,
           model_dirs={m: run.input(m) for m in models if m in run.stage.needs})
    # R1's findings as checks: R1-Zero's gain, readable cold-started models, final >= r1_zero, distillation > RL
    rows = [r for r in (effects.model_row(m, *run.input_paths(f"eval_{m}")) for m in models) if r]
    with atomic_file(effects_md) as tmp:
        tmp.write_text(effects.render(rows, effects.claims({r["model"]: r for r in rows})))


if __name__ == "__main__":
    entry(main)
