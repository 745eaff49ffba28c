"""`r1 verify --in FILE --out FILE [--rewards accuracy,format,...]`: score completion rows with the reward registry.

Reads JSONL or parquet rows (a task record plus `completion`), writes the same rows (format chosen by the output's
suffix) with one column per reward component, `<name>_reason` beside it (why it is not full marks), and `reward`, the
sum of the components that apply: null when none does, and null whenever `accuracy` is asked for and is null (a
format reward alone must not look like a pass). A malformed row (bad JSON, no `completion`, a value that breaks a
verifier) gets `reward` null and a `reason`; the run goes on. Progress goes to stderr, then a summary: per component
how many rows it scored and could not score, with the commonest reasons. Exit 1 when no row's accuracy (or, without
`accuracy`, no row's reward) could be scored: the file was not verified.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from r1.build.artifacts import atomic_file
from r1.verify.rewards import NAMES, UnknownReward, get

BATCH = 256


def read_rows(path: Path) -> list[dict]:
    """Rows of a parquet or JSONL file; a line that is not a JSON object becomes {"reason": "malformed_json: ..."}."""
    if path.suffix == ".parquet":
        import polars as pl

        return pl.read_parquet(path).to_dicts()
    rows = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                row = json.loads(raw.decode("utf-8", "replace"))
                if not isinstance(row, dict):
                    raise ValueError(f"a JSON {type(row).__name__}, not an object")
            except ValueError as e:
                row = {"line": lineno, "reason": f"malformed_json: {str(e)[:200]}"}
            rows.append(row)
    return rows


def write_rows(path: Path, rows: list[dict]) -> None:
    with atomic_file(path) as tmp:
        if path.suffix == ".parquet":
            import polars as pl

            pl.from_dicts(rows, infer_schema_length=None).write_parquet(tmp)
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for row in rows:
                    f.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")


def row_problem(row: dict) -> str | None:
    if "reason" in row and "completion" not in row:
        return row["reason"]
    c = row.get("completion")
    if not isinstance(c, (str, list)):
        return "malformed: no completion" if c is None else f"malformed: completion is a {type(c).__name__}"
    if not isinstance(row.get("kind"), str):
        return "malformed: no kind"
    return None


HUMANEVAL_NAMES = {"test": "tests", "canonical_solution": "reference"}  # HumanEval's column -> the task row's


def task_view(row: dict) -> dict:
    """The row as the rewards read it: HumanEval's own columns (`test`, `canonical_solution`) stand in for `tests` and
    `reference` when those are absent, and a row with tests and an entry point but no `kind` is a code row."""
    view = dict(row)
    for theirs, ours in HUMANEVAL_NAMES.items():
        if view.get(ours) is None and view.get(theirs) is not None:
            view[ours] = view[theirs]
    if view.get("kind") is None and view.get("tests") and view.get("entry_point"):
        view["kind"] = "code"
    return view


def verify_rows(rows: list[dict], names: list[str], progress: bool = True) -> list[dict]:
    rewards = [get(n) for n in names]
    out = []
    bar = None
    if progress and len(rows) >= BATCH:
        from tqdm import tqdm

        bar = tqdm(total=len(rows), desc="verify", unit="row", file=sys.stderr)
    for start in range(0, len(rows), BATCH):
        batch = [dict(r) for r in rows[start : start + BATCH]]
        views = [task_view(r) for r in batch]
        for r, v in zip(batch, views):
            r["reason"] = row_problem(v)
        good = [r for r in batch if r["reason"] is None]
        seen = [v for r, v in zip(batch, views) if r["reason"] is None]
        ours = {"completion", "reason", "reward", *names, *(f"{n}_reason" for n in names)}
        cols = {k: [v.get(k) for v in seen] for k in {k for v in seen for k in v} - ours}
        scores = {rw.__name__: rw.details([r["completion"] for r in good], **cols) for rw in rewards} if good else {}
        for r in batch:
            for name in names:
                r[name] = r[f"{name}_reason"] = None
            r["reward"] = None
        for j, r in enumerate(good):
            values = []
            for name in names:
                s = scores[name][j]
                r[name], r[f"{name}_reason"] = s.value, s.reason
                if s.value is not None:
                    values.append(s.value)
            r["reward"] = sum(values) if values else None
            if not values:
                r["reason"] = "no reward applies: " + ", ".join(f"{n}={scores[n][j].reason}" for n in names)
            elif "accuracy" in names and r["accuracy"] is None:
                r["reward"] = None
                r["reason"] = f"accuracy unscored: {r['accuracy_reason']}"
        out.extend(batch)
        if bar:
            bar.update(len(batch))
    if bar:
        bar.close()
    return out


def cli(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="r1 verify", description=__doc__.split("\n\n")[0])
    ap.add_argument("--in", dest="inp", required=True, type=Path, help="completion rows: .jsonl or .parquet")
    ap.add_argument("--out", required=True, type=Path, help="scored rows: .jsonl or .parquet")
    ap.add_argument("--rewards", default="accuracy,format", help=f"comma-separated, from: {', '.join(NAMES)}")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.rewards.split(",") if n.strip()]
    try:
        for n in names:
            get(n)
    except UnknownReward as e:
        print(f"r1 verify: {e}", file=sys.stderr)
        return 2
    if not args.inp.exists():
        print(f"r1 verify: no such file: {args.inp}", file=sys.stderr)
        return 2
    t0 = time.monotonic()
    rows = read_rows(args.inp)
    out = verify_rows(rows, names)
    write_rows(args.out, out)
    lines, failed = summary(out, names)
    print(f"r1 verify: {len(out)} rows, {time.monotonic() - t0:.1f}s -> {args.out}", file=sys.stderr)
    for line in lines:
        print(f"  {line}", file=sys.stderr)
    if failed:
        print(f"r1 verify: {failed}", file=sys.stderr)
        return 1
    return 0


def _why(rows: list[dict], column: str, top: int = 3) -> str:
    reasons = Counter(str(r.get(column) or r.get("reason") or "?")[:80] for r in rows)
    return "; ".join(f"{n} x {reason}" for reason, n in reasons.most_common(top))


def summary(rows: list[dict], names: list[str]) -> tuple[list[str], str | None]:
    """(one line per component and for `reward`: scored, unscored and why; the failure when nothing could be scored:
    no row's accuracy, or without accuracy, no row's reward)."""
    lines = []
    for col in [*names, "reward"]:
        unscored = [r for r in rows if r.get(col) is None]
        values = [r[col] for r in rows if r.get(col) is not None]
        mean = f", mean {sum(values) / len(values):.3f}" if values else ""
        why = f" ({_why(unscored, f'{col}_reason' if col != 'reward' else 'reason')})" if unscored else ""
        lines.append(f"{col}: {len(values)} scored{mean}, {len(unscored)} unscored{why}")
    key = "accuracy" if "accuracy" in names else "reward"
    if rows and all(r.get(key) is None for r in rows):
        why = _why(rows, f"{key}_reason" if key != "reward" else "reason")
        return lines, f"no row's {key} could be scored ({why})"
    if not rows:
        return lines, "no rows"
    return lines, None


if __name__ == "__main__":
    sys.exit(cli())
