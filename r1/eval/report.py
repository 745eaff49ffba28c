"""The report: one table of every evaluated model, and the RL curves.

Merges the per-model eval jsons (in the order given) into one json (the DVC metrics: {model: {metric: float,
"by_family": {family: {metric: float}}}}), writes markdown tables and PNG plots: per RL model with a metrics.tsv,
reward (and accuracy) and mean completion length against step, and reflection rate against step; plus pass@1 per
model and family.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402
import polars as pl  # noqa: E402

from r1.build.artifacts import atomic_dir, atomic_file, write_json  # noqa: E402
from r1.build.log import logger  # noqa: E402

METRICS = ("pass@1", "cons@k", "pass@k", "mean_response_tokens", "format_rate", "reflection_rate")
LABELS = {"pass@1": "pass@1", "cons@k": "cons@{k}", "pass@k": "pass@{k}", "mean_response_tokens": "mean tokens",
          "format_rate": "format rate", "reflection_rate": "reflection rate"}
# metrics.tsv column names, first found wins (r1.train.grpo writes the first of each)
CURVES = {"reward": ("reward",), "accuracy": ("accuracy", "rewards/accuracy/mean"),
          "completion_length": ("completion_length", "completions/mean_length"),
          "reflection_rate": ("reflection_rate",)}

log = logger("report")


def report(evals: Mapping[str, Path | str], out_json: Path | str, out_md: Path | str, plots_dir: Path | str,
           model_dirs: Mapping[str, Path | str] | None = None) -> dict:
    """Write `out_json`, `out_md` and the plots in `plots_dir` for the models of `evals` (name -> its eval json),
    in that order; a model whose directory in `model_dirs` holds a metrics.tsv (an RL model) gets its training
    curves. Returns the merged metrics."""
    runs = {name: _read_run(Path(path), name) for name, path in evals.items()}
    merged = {name: metrics_of(run) for name, run in runs.items()}
    model_dirs = model_dirs or {}
    with atomic_dir(plots_dir) as tmp:
        plots = [plot_pass_at_1(merged, tmp / "eval_pass1.png")] if merged else []
        for name in evals:
            tsv = Path(model_dirs[name]) / "metrics.tsv" if name in model_dirs else None
            if tsv is not None and tsv.exists():
                plots += plot_training(tsv, name, tmp)
    plots = [Path(plots_dir) / p.name for p in plots]
    with atomic_file(out_md) as tmp:
        tmp.write_text(markdown(runs, merged, plots, Path(out_md).parent))
    write_json(out_json, merged)
    log(f"{len(merged)} models -> {out_json}, {out_md}, {len(plots)} plots in {plots_dir}")
    return merged


def _read_run(path: Path, name: str) -> dict:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no eval for model {name!r}; build the `eval_{name}` stage first")
    return json.loads(path.read_text())


def metrics_of(run: dict) -> dict:
    """Exactly the metric keys (and by_family), in a fixed order."""
    m = run["metrics"]
    missing = [k for k in METRICS if k not in m]
    if missing:
        raise KeyError(f"eval of {run.get('model')!r} lacks metrics {missing}")
    out = {k: float(m[k]) for k in METRICS}
    out["by_family"] = {fam: {k: float(v[k]) for k in METRICS} for fam, v in sorted(m.get("by_family", {}).items())}
    return out


# --------------------------------------------------------------------------------------------------------------------
# Markdown.


def markdown(runs: dict, merged: dict, plots: list[Path], md_dir: Path) -> str:
    ks = {run["k"] for run in runs.values()}
    k = ks.pop() if len(ks) == 1 else "k"
    first = next(iter(runs.values()), {})
    sampling = first.get("params", {}).get("eval", {})
    lines = ["# Evaluation", "",
             f"Held-out tasks, R1-Zero template, k={k} samples per item at T={sampling.get('temperature', '?')}, "
             f"top-p {sampling.get('top_p', '?')}, at most {sampling.get('max_new_tokens', '?')} new tokens. "
             "pass@1: mean correctness over the k samples; cons@k: the majority answer is correct; pass@k: any "
             "sample is correct. Items weigh equally; rates are over samples.", ""]
    cols = [LABELS[m].format(k=k) for m in METRICS]
    lines += ["| model | items | " + " | ".join(cols) + " |", "|---|---:|" + "---:|" * len(cols)]
    for name, m in merged.items():
        lines.append(f"| {name} | {runs[name].get('n_items', '')} | " + " | ".join(_fmt(m[c]) for c in METRICS) + " |")
    lines += ["", "## By family", "", "| family | model | " + " | ".join(cols) + " |",
              "|---|---|" + "---:|" * len(cols)]
    families = sorted({fam for m in merged.values() for fam in m["by_family"]})
    for fam in families:
        for name, m in merged.items():
            if fam in m["by_family"]:
                lines.append(f"| {fam} | {name} | " + " | ".join(_fmt(m["by_family"][fam][c]) for c in METRICS) + " |")
    if plots:
        lines += ["", "## Plots", ""]
        lines += [line for p in plots for line in (f"![{p.stem}]({_rel(p, md_dir)})", "")]
        lines.pop()
    return "\n".join(lines) + "\n"


def _fmt(v: float) -> str:
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.3f}"


def _rel(path: Path, base: Path) -> str:
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


# --------------------------------------------------------------------------------------------------------------------
# Plots.


def read_curves(tsv: Path) -> pl.DataFrame:
    """step plus whichever curves the file has, as floats (empty cells become null)."""
    raw = pl.read_csv(tsv, separator="\t", infer_schema=False)
    if "step" not in raw.columns:
        raise ValueError(f"{tsv}: no 'step' column (has {raw.columns})")
    cols = [pl.col("step").cast(pl.Float64, strict=False)]
    for name, aliases in CURVES.items():
        found = next((a for a in aliases if a in raw.columns), None)
        if found:
            cols.append(pl.col(found).cast(pl.Float64, strict=False).alias(name))
    return raw.select(cols).filter(pl.col("step").is_not_null()).sort("step")


def plot_training(tsv: Path, model: str, out_dir: Path) -> list[Path]:
    """<model>_reward_length.png and <model>_reflection.png (curves the file lacks are skipped)."""
    df = read_curves(tsv)
    if df.is_empty():
        log(f"{tsv} has no rows; no curves for {model}")
        return []
    out = []
    panels = [p for p in (("reward", "accuracy"), ("completion_length",)) if _has(df, p[0])]
    if panels:
        fig, axes = plt.subplots(len(panels), 1, figsize=(7, 2.8 * len(panels) + 0.6), sharex=True, squeeze=False)
        for ax, names in zip(axes[:, 0], panels):
            for name in names:
                if _has(df, name):
                    _curve(ax, df, name)
            ax.set_ylabel("tokens" if names[0] == "completion_length" else "reward / accuracy")
            ax.set_title("mean completion length" if names[0] == "completion_length" else "reward and accuracy",
                         fontsize=10)
            ax.legend(loc="best", fontsize=8)
        axes[-1, 0].set_xlabel("RL step")
        fig.suptitle(f"{model}: training curves" + _note(df))
        out.append(_save(fig, out_dir / f"{model}_reward_length.png"))
    if _has(df, "reflection_rate"):
        fig, ax = plt.subplots(figsize=(7, 3.4))
        _curve(ax, df, "reflection_rate")
        ax.set_ylim(bottom=0)
        ax.set(xlabel="RL step", ylabel="share of completions",
               title=f"{model}: reflection rate" + _note(df))
        ax.legend(loc="best", fontsize=8)
        out.append(_save(fig, out_dir / f"{model}_reflection.png"))
    return out


def plot_pass_at_1(merged: dict, path: Path) -> Path:
    """Grouped bars: pass@1 per family (and overall) for each model."""
    groups = ["overall", *sorted({f for m in merged.values() for f in m["by_family"]})]
    width = 0.8 / len(merged)
    fig, ax = plt.subplots(figsize=(min(10.0, max(5.5, 0.3 * len(groups) * len(merged) + 2)), 3.8))
    for i, (name, m) in enumerate(merged.items()):
        values = [m["pass@1"] if g == "overall" else m["by_family"].get(g, {}).get("pass@1", 0.0) for g in groups]
        bars = ax.bar([x + (i - (len(merged) - 1) / 2) * width for x in range(len(groups))], values, width,
                      label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=2, rotation=90 if len(merged) > 3 else 0)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.08)
    ax.set(ylabel="pass@1", title="pass@1 on held-out tasks")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # outside: never covers a bar
    return _save(fig, path)


def _has(df: pl.DataFrame, name: str) -> bool:
    return name in df.columns and df[name].drop_nulls().len() > 0


def _curve(ax, df: pl.DataFrame, name: str) -> None:
    """Raw values faint, a rolling mean bold (RL curves are noisy)."""
    sub = df.select("step", name).drop_nulls()
    x, y = sub["step"].to_list(), sub[name]
    window = _window(len(sub))
    line, = ax.plot(x, y.to_list(), alpha=0.3 if window > 1 else 1.0, linewidth=1,
                    marker="o" if len(sub) < 20 else None, markersize=4,  # few points: show each
                    label=name.replace("_", " ") if window == 1 else None)
    if window > 1:
        ax.plot(x, y.rolling_mean(window, min_samples=1).to_list(), color=line.get_color(), linewidth=2,
                label=f"{name.replace('_', ' ')} (mean of {window})")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers


def _window(n: int) -> int:
    return max(1, n // 20)


def _note(df: pl.DataFrame) -> str:
    return " (faint: each logged step)" if _window(len(df)) > 1 else ""


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
