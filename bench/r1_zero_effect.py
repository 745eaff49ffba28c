"""The R1-Zero effect in miniature (issue: part 1, item 4), checked on a built pipeline.

    snakemake eval_base eval_r1_zero --cores 2          # tasks, base, r1_zero and both evals (default profile)
    .venv/bin/python bench/r1_zero_effect.py [BUILD_DIR] [--plots DIR]

Reads reports/eval/{base,r1_zero}.json, models/r1_zero/metrics.tsv and benchmarks/*.tsv; prints the table (overall
and per family), the claims with their thresholds (pass@1 +25 points overall and +10 in every family, mean response
length up, reflection rate at least 2x) and the stage times; draws the RL curves (reward and length against step,
reflection rate against step). Exits 1 when a claim fails, so it doubles as a check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stage_times import stage_seconds  # noqa: E402

MODELS = ("base", "r1_zero")
PART1 = ("tasks", "base", "r1_zero", "eval_base", "eval_r1_zero")


def load(build: Path) -> dict:
    out = {}
    for name in MODELS:
        path = build / "reports" / "eval" / f"{name}.json"
        if not path.exists():
            raise SystemExit(f"{path} missing: build with `snakemake eval_base eval_r1_zero --cores 2` first")
        out[name] = json.loads(path.read_text())
    return out


def claims(base: dict, zero: dict) -> list[tuple[str, str, bool]]:
    """(claim, measured, holds) for each threshold of the issue."""
    rows = []
    gain = 100 * (zero["pass@1"] - base["pass@1"])
    rows.append(("pass@1 overall +25 points", f"{gain:+.1f}", gain >= 25))
    for family in sorted(base["by_family"]):
        g = 100 * (zero["by_family"][family]["pass@1"] - base["by_family"][family]["pass@1"])
        rows.append((f"pass@1 {family} +10 points", f"{g:+.1f}", g >= 10))
    rows.append(("mean response tokens rise", f"{base['mean_response_tokens']:.1f} -> {zero['mean_response_tokens']:.1f}",
                 zero["mean_response_tokens"] > base["mean_response_tokens"]))
    rb, rz = base["reflection_rate"], zero["reflection_rate"]
    ratio = rz / rb if rb else float("inf")
    rows.append(("reflection rate x2", f"{100 * rb:.1f}% -> {100 * rz:.1f}% (x{ratio:.1f})", rz >= 2 * rb and rz > 0))
    return rows


def table(runs: dict) -> str:
    k = runs["base"]["k"]
    families = sorted(runs["base"]["metrics"]["by_family"])
    head = ["model", "pass@1", f"pass@{k}", f"cons@{k}", *families, "mean tokens", "reflection", "format"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, run in runs.items():
        m = run["metrics"]
        cells = [name, f"{m['pass@1']:.3f}", f"{m['pass@k']:.3f}", f"{m['cons@k']:.3f}",
                 *[f"{m['by_family'][f]['pass@1']:.3f}" for f in families], f"{m['mean_response_tokens']:.1f}",
                 f"{100 * m['reflection_rate']:.1f}%", f"{m['format_rate']:.3f}"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default=".", type=Path)
    parser.add_argument("--plots", type=Path, default=None, help="draw the RL curves here (default: no plots)")
    args = parser.parse_args(argv)
    runs = load(args.build)
    n = runs["base"]["n_items"]
    print(f"held-out items: {n} ({runs['base']['items_per_family']}), k={runs['base']['k']}\n")
    print(table(runs) + "\n")
    rows = claims(runs["base"]["metrics"], runs["r1_zero"]["metrics"])
    print("| claim | measured | holds |\n|---|---|---|")
    for claim, measured, holds in rows:
        print(f"| {claim} | {measured} | {'yes' if holds else 'NO'} |")
    times = stage_seconds(args.build)
    if times:
        print("\n| stage | seconds |\n|---|---:|")
        for name in PART1:
            if name in times:
                print(f"| {name} | {times[name]:.0f} |")
        # eval_base runs beside r1_zero (one core each): the critical path is tasks, base, r1_zero, eval_r1_zero
        path = sum(times.get(s, 0.0) for s in ("tasks", "base", "r1_zero", "eval_r1_zero"))
        print(f"| critical path (tasks + base + r1_zero + eval_r1_zero) | {path:.0f} ({path / 60:.1f} min) |")
    if args.plots:
        from r1.eval.report import plot_training

        args.plots.mkdir(parents=True, exist_ok=True)
        tsv = args.build / "models" / "r1_zero" / "metrics.tsv"
        for p in plot_training(tsv, "r1_zero", args.plots):
            print(f"plot: {p}")
    return 0 if all(holds for _, _, holds in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
