"""Task records from local files (`tasks.sources`): GSM8K, Countdown-Tasks-3to4 and HumanEval/MBPP layouts.

    rows = read_rows(Path("gsm8k/train.jsonl"))              # [(row number, {column: value})]
    imported = load(source, seed)                              # Imported: train/eval records, dropped rows

A file is JSON lines (`.jsonl`, `.jsonl.gz`: one object a line; rows are numbered by line) or Parquet (rows numbered
from 1). Each layout's fields (r1.tasks.LAYOUTS) are read from columns of the same name, or the ones
`source.columns` maps them to:

  gsm8k      question, answer ending in `#### <number>` -> math: prompt = question, answer = the number (commas
             dropped), solution = the reasoning before `####` with the `<<48/2=24>>` calculator notes taken out
  countdown  nums (a list of positive integers), target (a positive integer) -> countdown: the prompt names the
             numbers and target (and `ops` unless all four); a solver finds the worked solution and answer
  code       prompt, test, entry_point, optional canonical_solution -> code: tests = test unchanged (a HumanEval
             `check(candidate)` harness or plain asserts), reference = the canonical solution (appended to the prompt
             when, as in HumanEval, it is only the body), no worked solution

Bad input raises TaskFileError naming the file, the row and the column (every problem, the first ones listed):
a missing column, a value of the wrong type, bytes that are not UTF-8, an empty file, a repeated id, a GSM8K answer
without `####`. Nothing is written then: the stage reads every source before it writes. Rows that are well formed but
unusable are dropped and counted, never silently: a countdown target its numbers cannot reach, a prompt seen before,
and (later, in r1.tasks.pools) an eval row sharing an n-gram with train. Reason: a user's file is either fixed or
knowingly trimmed, and the quality report says which rows went.
"""

from __future__ import annotations

import ast
import gzip
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from r1.build.quality import QualityError
from r1.tasks import DEFAULT_ID_COLUMN, LAYOUTS, families
from r1.tasks.families import countdown

MAX_LISTED = 10  # problems an error lists before "... and N more"
CALCULATOR_RE = re.compile(r"<<[^<>]*>>")  # GSM8K's calculator annotations
NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?")
IDENT_RE = re.compile(r"[A-Za-z_]\w*")

# Reasons a well-formed row is not used (quality.json counts them per source).
UNREACHABLE, DUPLICATE_PROMPT, CONTAMINATED = "unreachable_target", "duplicate_prompt", "shares_ngram_with_train"


class TaskFileError(QualityError):
    """A task file that cannot be imported; the message names the file, the row and the column. A quality failure:
    the stage exits non-zero with it and writes nothing."""


@dataclass
class Imported:
    """One source's records (TASK_SCHEMA columns; `id` and `split` set, `origin` the source's label) and the rows it
    dropped: reason -> ["<file> row <n>: <why>"]."""

    label: str
    path: str
    train: list[dict] = field(default_factory=list)
    eval: list[dict] = field(default_factory=list)
    dropped: dict[str, list[str]] = field(default_factory=dict)
    rows: int = 0  # rows read

    def drop(self, reason: str, where: str) -> None:
        self.dropped.setdefault(reason, []).append(where)

    def summary(self) -> dict:
        return {"path": self.path, "rows": self.rows, "train": len(self.train), "eval": len(self.eval),
                "dropped": {reason: len(rows) for reason, rows in sorted(self.dropped.items())}}


# ---- reading -------------------------------------------------------------------------------------------------------
def read_rows(path: Path) -> list[tuple[int, dict]]:
    """(row number, row) for every row of a JSON-lines or Parquet file; TaskFileError for a file that is missing,
    empty, not UTF-8 or not well formed."""
    if not path.is_file():
        raise TaskFileError(f"{path}: no such file")
    rows = _read_parquet(path) if path.name.endswith(".parquet") else _read_jsonl(path)
    if not rows:
        raise TaskFileError(f"{path}: empty file (no rows)")
    return rows


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as err:
            raise TaskFileError(f"{path}: not a gzip file ({err})") from None
    rows, problems = [], []
    for n, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        text = line.decode("utf-8", errors="surrogateescape")  # bad bytes survive as lone surrogates, to be located
        try:
            row = json.loads(text)
        except json.JSONDecodeError as err:
            problems.append(f"row {n}: not valid JSON ({err.msg} at character {err.pos + 1})")
            continue
        if not isinstance(row, dict):
            problems.append(f"row {n}: expected a JSON object, got {type(row).__name__}")
            continue
        bad = _non_utf8(row)
        if bad:
            column, byte = bad
            problems.append(f"row {n}, column {column!r}: bytes that are not UTF-8 (0x{byte:02x}); re-encode the "
                            f"file as UTF-8")
            continue
        rows.append((n, row))
    _raise(path, problems)
    return rows


def _non_utf8(row: dict) -> tuple[str, int] | None:
    """(column, first bad byte) when a key or string value holds an undecodable byte (a lone surrogate from
    surrogateescape), else None."""
    def bad_byte(text: str) -> int | None:
        for ch in text:
            if "\udc80" <= ch <= "\udcff":
                return ord(ch) - 0xDC00
        return None

    def walk(value) -> int | None:
        if isinstance(value, str):
            return bad_byte(value)
        if isinstance(value, list):
            return next((b for b in map(walk, value) if b is not None), None)
        if isinstance(value, dict):
            return next((b for b in map(walk, [*value, *value.values()]) if b is not None), None)
        return None

    for key, value in row.items():
        found = walk(key)
        found = walk(value) if found is None else found
        if found is not None:
            return key.encode("utf-8", "surrogateescape").decode("utf-8", "replace"), found
    return None


def _read_parquet(path: Path) -> list[tuple[int, dict]]:
    import polars as pl

    if path.stat().st_size == 0:
        raise TaskFileError(f"{path}: empty file (no rows)")
    try:
        df = pl.read_parquet(path)
    except Exception as err:  # polars raises several types for unreadable or non-UTF-8 data
        raise TaskFileError(f"{path}: cannot be read as Parquet ({type(err).__name__}: {err})") from None
    return list(enumerate(df.to_dicts(), start=1))


def _raise(path: Path, problems: list[str]) -> None:
    if problems:
        more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        raise TaskFileError(f"{path}: {len(problems)} problem{'s' * (len(problems) > 1)}:\n  "
                            + "\n  ".join(problems[:MAX_LISTED]) + more)


# ---- fields --------------------------------------------------------------------------------------------------------
class _Bad(ValueError):
    """One field's problem; `column` is the file's column name."""

    def __init__(self, column: str, msg: str):
        super().__init__(msg)
        self.column = column


def _columns(source) -> dict[str, str]:
    """Layout field -> the file's column."""
    default = {f: f for f in source.fields} | {"id": DEFAULT_ID_COLUMN[source.layout]}
    return default | dict(source.columns)


def _tname(value) -> str:
    return "null" if value is None else type(value).__name__


def _text(row: dict, column: str, blank_ok: bool = False) -> str:
    value = row[column]
    if not isinstance(value, str):
        raise _Bad(column, f"expected a string, got {_tname(value)}")
    if not blank_ok and not value.strip():
        raise _Bad(column, "empty")
    return value


def _int(value, column: str, what: str = "an integer") -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Parquet and JSON writers may store whole numbers as floats
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(column, f"expected {what}, got {_tname(value)} {value!r}")
    if value < 1:
        raise _Bad(column, f"expected {what}, got {value}")
    return value


def _gsm8k(row: dict, col: dict[str, str], source) -> dict:
    question = _text(row, col["question"]).strip()
    answer = _text(row, col["answer"])
    if "####" not in answer:
        raise _Bad(col["answer"], "has no '#### <number>' final answer (GSM8K answers end with one)")
    reasoning, _, final = answer.rpartition("####")
    number = final.strip().replace(",", "").replace("$", "").rstrip(".")
    if not NUMBER_RE.fullmatch(number):
        raise _Bad(col["answer"], f"'#### {final.strip()}' is not a number")
    solution = "\n".join(" ".join(CALCULATOR_RE.sub("", line).split()) for line in reasoning.strip().splitlines())
    return families.record(kind="math", prompt=question, answer=number, solution=solution.strip() or number)


def _countdown(row: dict, col: dict[str, str], source) -> dict | str:
    nums = row[col["nums"]]
    if hasattr(nums, "tolist"):
        nums = nums.tolist()
    if not isinstance(nums, list) or len(nums) < 2:
        raise _Bad(col["nums"], f"expected a list of at least two positive integers, got {_tname(nums)} {nums!r}")
    numbers = [_int(n, col["nums"], "a list of positive integers") for n in nums]
    target = _int(row[col["target"]], col["target"], "a positive integer")
    solved = countdown.solve(numbers, target, source.ops)
    if solved is None:
        return f"target {target} cannot be reached from {numbers} with {source.ops}"
    expr, lines = solved
    return families.record(kind="countdown", prompt=countdown.prompt_of(target, numbers, source.ops),
                           numbers=numbers, target=target, answer=expr, solution="\n".join(lines))


def _code(row: dict, col: dict[str, str], source) -> dict:
    prompt, tests = _text(row, col["prompt"]), _text(row, col["test"])
    entry = _text(row, col["entry_point"]).strip()
    if not IDENT_RE.fullmatch(entry):
        raise _Bad(col["entry_point"], f"{entry!r} is not a Python function name")
    reference = None
    canonical = row.get(col["canonical_solution"])
    if canonical is not None:
        canonical = _text(row, col["canonical_solution"])
        # HumanEval's canonical solution is the body that continues the prompt; MBPP's is a whole function.
        reference = canonical if _defines(canonical, entry) else prompt + canonical
        if not _defines(reference, entry):
            raise _Bad(col["canonical_solution"], f"does not define {entry}() (alone or after the prompt)")
    return families.record(kind="code", prompt=prompt.strip("\n"), tests=tests, entry_point=entry,
                           reference=reference, answer=reference)


def _defines(src: str, name: str) -> bool:
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError):
        return False
    return any(isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name for node in tree.body)


BUILDERS = {"gsm8k": _gsm8k, "countdown": _countdown, "code": _code}


# ---- a source ------------------------------------------------------------------------------------------------------
def load(source, seed: int, root: Path | str = ".") -> Imported:
    """A source's records, split and with ids, or TaskFileError listing every bad row. `root`: what a relative path
    is relative to (the directory the stage runs in, the repo root)."""
    path = Path(source.path) if Path(source.path).is_absolute() else Path(root) / source.path
    rows = read_rows(path)
    if source.limit is not None:
        rows = rows[:source.limit]
    col = _columns(source)
    kind, required, _ = LAYOUTS[source.layout]
    present = {c for _, row in rows for c in row}
    missing = [col[f] for f in required if col[f] not in present]
    if missing:
        mapped = " (as tasks.sources[].columns maps it)" if set(source.columns) & set(required) else ""
        raise TaskFileError(f"{path}: missing column{'s' * (len(missing) > 1)} {', '.join(map(repr, missing))}"
                            f"{mapped}; layout {source.layout!r} needs {list(required)}; the file has "
                            f"{sorted(present)}. Map other names with tasks.sources[].columns")
    if "id" in source.columns and col["id"] not in present:
        raise TaskFileError(f"{path}: missing column {col['id']!r} (mapped as the id by tasks.sources[].columns); "
                            f"the file has {sorted(present)}")
    out = Imported(source.label, source.path, rows=len(rows))
    problems, seen_ids, seen_prompts, records = [], {}, {}, []
    for n, row in rows:
        where = f"row {n}"
        absent = [col[f] for f in required if col[f] not in row]
        if absent:
            problems.append(f"{where}, column {absent[0]!r}: missing")
            continue
        if col["id"] in present and col["id"] not in row:
            problems.append(f"{where}, column {col['id']!r}: missing (other rows have it)")
            continue
        file_id = row[col["id"]] if col["id"] in present else n
        if isinstance(file_id, bool) or not isinstance(file_id, (str, int)) or not str(file_id).strip():
            problems.append(f"{where}, column {col['id']!r}: expected a string or integer id, got {_tname(file_id)}")
            continue
        if str(file_id) in seen_ids:
            problems.append(f"{where}, column {col['id']!r}: id {file_id!r} repeats row {seen_ids[str(file_id)]}")
            continue
        seen_ids[str(file_id)] = n
        try:
            rec = BUILDERS[source.layout](row, col, source)
        except _Bad as bad:
            problems.append(f"{where}, column {bad.column!r}: {bad}")
            continue
        if isinstance(rec, str):  # well formed, but unusable
            out.drop(UNREACHABLE, f"{source.path} {where}: {rec}")
            continue
        if rec["prompt"] in seen_prompts:
            out.drop(DUPLICATE_PROMPT, f"{source.path} {where}: same prompt as row {seen_prompts[rec['prompt']]}")
            continue
        seen_prompts[rec["prompt"]] = n
        rec.update(id=f"{source.label}-{file_id}", origin=source.label)
        records.append(rec)
    _raise(path, problems)
    held = set()
    if source.split == "train" and source.eval_share:
        rng = random.Random(f"{seed}:{source.label}:split")  # str seeds hash stably across runs
        held = set(rng.sample(range(len(records)), round(source.eval_share * len(records))))
    for i, rec in enumerate(records):
        split = "eval" if source.split == "eval" or i in held else "train"
        rec["split"] = split
        (out.eval if split == "eval" else out.train).append(rec)
    return out


def load_all(sources, seed: int, root: Path | str = ".") -> list[Imported]:
    """Every source, read before anything is written (the first bad file raises)."""
    return [load(source, seed, root) for source in sources]
