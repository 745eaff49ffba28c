"""The recipe's effects in miniature, as one table, from the eval stages' reports/eval/<model>.json + samples.

    python -m r1.eval.effects [--eval-dir reports/eval] [--out reports/effects.md]

Per model: pass@1 (eval), the R1-Zero tag format rate (eval's `format_rate`), the readable cold-start format rate
(`|special_token| reasoning |special_token| summary`, r1.data.filters.readable_ok), "well formed" (either
format), the mean language consistency of the chain of thought (the `language_consistency` reward; an unscorable
sample counts 0) and mean response tokens. Then R1's three claims, each checked:
  1. the cold-start-trained models (interim, sft, final) write the readable format more often and their CoT is more
     language-consistent than r1_zero's (R1-Zero learns its tags perfectly; readability is what the cold start adds);
  2. final pass@1 >= r1_zero pass@1;
  3. the distilled student beats the RL-only student of the same size;
  4. the distilled student beats its own base as it comes (when `student_base` is evaluated: R1's distilled
     checkpoints against the pretrained models they started from).
Exits 1 when a claim fails, so it doubles as a check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import polars as pl

from r1.build import paths
from r1.build.artifacts import write_json
from r1.data.filters import readable_ok
from r1.verify.answer import format_ok

COLD_STARTED = ("interim", "sft", "final")


def model_row(name: str, summary_file: Path, samples_file: Path) -> dict | None:
    """One model's row from its eval stage's json and samples (None while either is missing)."""
    from r1.verify import rewards

    if not summary_file.exists() or not samples_file.exists():
        return None
    report = json.loads(summary_file.read_text())
    summary = report.get("metrics", report)  # the eval stage nests the numbers under "metrics"
    samples = pl.read_parquet(samples_file)
    texts = samples["completion"].to_list()
    lc = rewards.get("language_consistency")(texts)
    readable = [readable_ok(t) for t in texts]
    tagged = [format_ok(t) for t in texts]
    n = max(len(texts), 1)
    return {
        "model": name,
        "pass@1": summary["pass@1"],
        "tag_format": sum(tagged) / n,
        "readable_format": sum(readable) / n,
        "well_formed": sum(a or b for a, b in zip(tagged, readable)) / n,
        "language_consistency": sum(v or 0.0 for v in lc) / n,
        "mean_response_tokens": summary.get("mean_response_tokens"),
        "samples": len(texts),
    }


def _gt(a: float, b: float) -> bool:
    """a > b at the table's precision: 0.0004 vs 0.0001 is not a difference."""
    return round(a, 3) > round(b, 3)


def claims(rows: dict[str, dict]) -> list[dict]:
    out = []
    zero = rows.get("r1_zero")
    if zero:
        for name in COLD_STARTED:
            if name in rows:
                r = rows[name]
                out.append({"claim": f"{name}: readable format and language consistency above r1_zero's",
                            "holds": _gt(r["readable_format"], zero["readable_format"])
                            and _gt(r["language_consistency"], zero["language_consistency"]),
                            "observed": f"readable {r['readable_format']:.2f} vs {zero['readable_format']:.2f}; "
                                        f"language {r['language_consistency']:.2f} vs "
                                        f"{zero['language_consistency']:.2f}"})
        if "final" in rows:
            f = rows["final"]
            out.append({"claim": "final pass@1 >= r1_zero pass@1", "holds": not _gt(zero["pass@1"], f["pass@1"]),
                        "observed": f"{f['pass@1']:.3f} vs {zero['pass@1']:.3f}"})
    if "student" in rows and "rl_student" in rows:
        s, r = rows["student"], rows["rl_student"]
        out.append({"claim": "distilled student beats the RL-only student", "holds": _gt(s["pass@1"], r["pass@1"]),
                    "observed": f"pass@1 {s['pass@1']:.3f} vs {r['pass@1']:.3f} "
                                f"({_points(s['pass@1'] - r['pass@1'])})"})
    if "student" in rows and "student_base" in rows:
        s, b = rows["student"], rows["student_base"]
        out.append({"claim": "distilled student beats its base as it comes", "holds": _gt(s["pass@1"], b["pass@1"]),
                    "observed": f"pass@1 {s['pass@1']:.3f} vs {b['pass@1']:.3f} "
                                f"({_points(s['pass@1'] - b['pass@1'])})"})
    return out


def _points(diff: float) -> str:
    return f"{diff * 100:+.1f} points"


def render(rows: list[dict], checks: list[dict]) -> str:
    head = ("| model | pass@1 | tag format | readable format | well formed | language consistency | mean tokens |\n"
            "|---|---:|---:|---:|---:|---:|---:|\n")
    body = "".join(f"| {r['model']} | {r['pass@1']:.3f} | {r['tag_format']:.2f} | {r['readable_format']:.2f} | "
                   f"{r['well_formed']:.2f} | {r['language_consistency']:.2f} | "
                   f"{r['mean_response_tokens'] or 0:.1f} |\n" for r in rows)
    lines = "".join(f"- [{'x' if c['holds'] else ' '}] {c['claim']}: {c['observed']}\n" for c in checks)
    return "# The recipe's effects in miniature\n\n" + head + body + "\n" + lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m r1.eval.effects", description=__doc__.split("\n")[0])
    parser.add_argument("--eval-dir", default=str(paths.EVAL))
    parser.add_argument("--out", default=str(paths.REPORTS / "effects.md"))
    args = parser.parse_args(argv)
    eval_dir = Path(args.eval_dir)
    rows = [r for r in (model_row(m, eval_dir / f"{m}.json", eval_dir / f"{m}.samples.parquet")
                        for m in paths.MODELS_IN_ORDER) if r]
    if not rows:
        print(f"no eval reports in {args.eval_dir}: build the `eval_<model>` stages first", file=sys.stderr)
        return 1
    checks = claims({r["model"]: r for r in rows})
    text = render(rows, checks)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    write_json(Path(args.out).with_suffix(".json"), {"models": rows, "claims": checks})
    print(text)
    failed = [c["claim"] for c in checks if not c["holds"]]
    if failed:
        print(f"{len(failed)} of {len(checks)} claims do not hold: {'; '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
