"""Code answers: is it code, is it Python, does it pass the task's tests (run in the sandbox), and how fast.

Accuracy, graded so that the article's four completions rank strictly (not code = not Python < fails < correct):
  0.0  no code, not Python, does not load or define the entry point, or hits a limit (timeout, memory, a blocked
       operation): hostile code earns nothing
  0.1 + 0.4 * passed/N  Python that loads and runs but fails at least one of the N tests (always below 0.5)
  1.0  every test passes
Speed (`code_speed`): for correct code, min(1, reference time / candidate time) over the same tests; 0 otherwise.
"""

from __future__ import annotations

import ast
import os
import re
from collections import OrderedDict
from functools import lru_cache

from r1.verify import Score
from r1.verify.answer import code_of

OTHER_LANGS = {
    "javascript", "js", "typescript", "ts", "java", "c", "cpp", "c++", "cs", "csharp", "c#", "go", "golang", "rust",
    "rs", "ruby", "rb", "php", "swift", "kotlin", "scala", "haskell", "lua", "perl", "r", "julia", "bash", "sh",
    "shell", "sql", "matlab", "pascal", "fortran", "dart", "elixir", "clojure", "lisp", "scheme", "ocaml", "fsharp",
}  # fmt: skip
CODE_HINTS = re.compile(r"[{};]\s*$|^\s*(?:function|def|class|int|void|let|const|var|fn|func|public|#include|import)\b|=>|\breturn\b", re.M)
BLOCKED = {"PermissionError", "OSError", "ConnectionError", "ConnectionRefusedError", "gaierror", "herror",
           "TimeoutError", "BlockingIOError", "InterruptedError", "ProcessLookupError", "ChildProcessError"}  # fmt: skip
LIMIT_REASONS = {"MemoryError": "memory", "RecursionError": "recursion"}
TIMEOUT = float(os.environ.get("R1_CODE_TIMEOUT", 3.0))  # wall-clock seconds per run (CPU limit the same); R1_CODE_TIMEOUT overrides


class BadTests(ValueError):
    pass


def _is_literal(node) -> bool:
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False


@lru_cache(maxsize=1024)
def split_tests(tests: str) -> tuple[str, tuple, tuple]:
    """(setup source, ((mode, source), ...), (expected literal or None, ...)).

    Top-level `assert`s and bare calls are the tests; everything else (imports, helpers) is setup run before them.
    `assert <expr> == <literal>` becomes a "value" test: only `<expr>` goes into the sandbox."""
    try:
        tree = ast.parse(tests)
    except SyntaxError as e:
        raise BadTests(f"tests do not parse: {e}") from e
    setup, items, expected = [], [], []
    for node in tree.body:
        if isinstance(node, ast.Assert):
            t = node.test
            if isinstance(t, ast.Compare) and len(t.ops) == 1 and isinstance(t.ops[0], ast.Eq):
                left, right = t.left, t.comparators[0]
                for expr, lit in ((left, right), (right, left)):
                    if _is_literal(lit) and not _is_literal(expr):
                        items.append(("value", ast.unparse(expr)))
                        expected.append(ast.literal_eval(lit))
                        break
                else:
                    items.append(("assert", ast.unparse(node)))
                    expected.append(None)
                continue
            items.append(("assert", ast.unparse(node)))
            expected.append(None)
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            items.append(("assert", ast.unparse(node)))
            expected.append(None)
        else:
            setup.append(ast.unparse(node))
    if not items:
        raise BadTests("tests hold no assert")
    return "\n".join(setup), tuple(items), tuple(expected)


def same(a, b) -> bool:
    """Type-strict equality: int and float compare by value, every other type must match exactly."""
    num = (int, float)
    if type(a) in num and type(b) in num:
        return a == b
    if type(a) is not type(b):
        return False
    if type(a) in (list, tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if type(a) is dict:
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return a == b


def classify(completion) -> tuple[str | None, Score | None]:
    """(Python source, None) when the answer is Python worth running, else (None, a zero Score with the reason)."""
    src, lang = code_of(completion)
    if src is None or not src.strip():
        return None, Score(0.0, "no_code")
    if lang in OTHER_LANGS:
        return None, Score(0.0, "not_python")
    try:
        tree = ast.parse(src)
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return None, Score(0.0, "not_python" if lang or CODE_HINTS.search(src) else "no_code")
    if not any(isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.Import,
                              ast.ImportFrom, ast.Lambda)) for n in ast.walk(tree)):  # fmt: skip
        return None, Score(0.0, "no_code")  # prose that happens to parse, e.g. a lone word
    return src, None


def job_for(src: str, tests: str, entry_point: str, timed: bool = False) -> dict:
    setup, items, _ = split_tests(tests)
    return {"code": src, "entry_point": entry_point, "setup": setup, "tests": list(items), "time": timed,
            "timeout": TIMEOUT}  # fmt: skip


def judge(result: dict, tests: str) -> tuple[Score, int, int]:
    """(Score, passed, N) from a sandbox result; the verdict needs all N tests reported by the harness."""
    _, items, expected = split_tests(tests)
    n = len(items)
    if result.get("timeout"):
        return Score(0.0, "timeout"), 0, n
    load = result.get("load")
    if load is None:
        return Score(0.0, "crashed"), 0, n
    if load != "ok":
        return Score(0.0, LIMIT_REASONS.get(load) or ("blocked" if load in BLOCKED else f"load_error:{load}")), 0, n
    if "setup" in result:
        return Score(None, f"bad_tests:{result['setup']}"), 0, n
    passed, errors = 0, []
    for i in range(n):
        status, payload = result["results"].get(i, ("missing", ""))
        if status == "ok":
            passed += 1
        elif status == "value":
            try:
                passed += same(ast.literal_eval(payload), expected[i])
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                pass
        elif status == "error":
            errors.append(payload)
    if result.get("done") != str(n):  # the harness did not finish: the process died mid-way
        return Score(0.0, "crashed"), passed, n
    for e in errors:
        if e in LIMIT_REASONS or e in BLOCKED:
            return Score(0.0, LIMIT_REASONS.get(e, "blocked")), passed, n
    if passed == n:
        return Score(1.0, None), passed, n
    return Score(round(0.1 + 0.4 * passed / n, 4), "tests_failed"), passed, n


# A small cache: accuracy and code_speed (and rejection sampling) often ask about the same completion.
_RESULTS: OrderedDict = OrderedDict()
_CACHE_SIZE = 4096


def run_jobs(jobs: list[dict]) -> list[dict | Exception]:
    from r1.verify.pool import pool

    keys = [(j["code"], j["entry_point"], j["setup"], tuple(j["tests"]), j["time"], j["timeout"]) for j in jobs]
    todo = [i for i, k in enumerate(keys) if k not in _RESULTS]
    fresh = pool("code").map("r1.verify.sandbox:run_batch", [jobs[i] for i in todo], chunk=4) if todo else []
    out = {}
    for i, r in zip(todo, fresh):
        out[i] = r
        if not isinstance(r, Exception):
            _RESULTS[keys[i]] = r
            if len(_RESULTS) > _CACHE_SIZE:
                _RESULTS.popitem(last=False)
    return [out[i] if i in out else _RESULTS[k] for i, k in enumerate(keys)]


def verify_code(completions: list, tests: list, entry_points: list, timed: bool = False) -> list[tuple[Score, dict | None]]:
    """Score each completion; also returns the raw sandbox result (None when nothing ran)."""
    scores: list = [None] * len(completions)
    jobs, where = [], []
    for i, (c, t, e) in enumerate(zip(completions, tests, entry_points)):
        if not t or not e:
            scores[i] = (Score(None, "no_tests"), None)
            continue
        src, early = classify(c)
        if early:
            scores[i] = (early, None)
            continue
        try:
            jobs.append(job_for(src, t, e, timed))
            where.append(i)
        except BadTests as err:
            scores[i] = (Score(None, f"bad_tests:{err}"), None)
    for i, r in zip(where, run_jobs(jobs) if jobs else []):
        if isinstance(r, Exception):
            scores[i] = (Score(None, "verifier_error"), None)
        else:
            scores[i] = (judge(r, tests[i])[0], r)
    return scores


def speed(completions: list, tests: list, entry_points: list, references: list) -> list[Score]:
    """min(1, t_reference / t_candidate) for correct code; 0 for incorrect; None without a reference."""
    refs = [r if r and t and e else None for r, t, e in zip(references, tests, entry_points)]
    ref_keys = sorted({(r, t, e) for r, t, e in zip(refs, tests, entry_points) if r})
    ref_res = dict(zip(ref_keys, verify_code([f"```python\n{r}\n```" for r, _, _ in ref_keys],
                                             [t for _, t, _ in ref_keys], [e for _, _, e in ref_keys], timed=True)))
    cand = verify_code(completions, tests, entry_points, timed=True)
    out = []
    for (score, res), r, t, e in zip(cand, refs, tests, entry_points):
        if r is None:
            out.append(Score(None, "no_reference"))
        elif score.value != 1.0:
            out.append(Score(0.0, score.reason or "incorrect"))
        else:
            ref_score, ref_raw = ref_res[(r, t, e)]
            if ref_score.value != 1.0 or not ref_raw or "time" not in ref_raw or "time" not in res:
                out.append(Score(None, "reference_failed"))
                continue
            t_ref, t_cand = float(ref_raw["time"]), float(res["time"])
            value = min(1.0, t_ref / max(t_cand, 1e-9))
            out.append(Score(round(value, 4), None if value >= 1.0 else "slower_than_reference"))
    return out
