"""Code answers: is it code, is it Python, does it pass the task's tests (run in the sandbox), and how fast.

Accuracy, graded so that the article's four completions rank strictly (not code = not Python < fails < correct):
  0.0  no code, not Python, does not load or define the entry point, or hits a limit (timeout, memory, a blocked
       operation): hostile code earns nothing
  0.1 + 0.4 * passed/N  Python that loads and runs but fails at least one of the N tests (always below 0.5)
  None  the tests cannot judge it: no tests, tests with no assert or that do not parse, or tests that fail on the
        row's reference too
  1.0  every test passes
Speed (`code_speed`): for correct code, min(1, reference time / candidate time) over the same tests; 0 otherwise.

The task-row contract for kind "code" (columns the rewards read; imported HumanEval/MBPP rows follow it):
  tests        test source: top-level asserts, or a HumanEval harness `def check(candidate)` (never called, or
               called as `check(<entry_point>)`), flattened so each assert is a test; other statements are steps
  entry_point  the name of the function under test
  prompt       optional: when it holds Python (whole, inside the R1-Zero template, or in its last ```python fence),
               its imports and definitions other than the entry point's own stub run before the candidate and
               before the tests (HumanEval's `poly`). Read from `prompt`, else `question`, else TRL's `prompts`
  reference    optional: a correct solution, a whole program or a body completing the prompt (HumanEval's
               canonical_solution); when tests raise, it decides whose fault that is (verify_code); code_speed's
               baseline

Per test (split_tests): a value test (`== c`, tolerance, truth) is judged here from the value the sandbox reports; a
harness test (a loop or any other assert) in the sandbox; `assert True` is no test. The reason of a partial score
lists the failed asserts: `tests_failed: 2/7: [3] candidate(4) == 2 (got 3); [5] for x in ...: ... (TypeError)`.
Errors raised by the tests count against the candidate unless the reference fails them too: then `bad_tests`, None.
"""

from __future__ import annotations

import ast
import math
import operator
import os
import re
from collections import OrderedDict
from functools import lru_cache
from typing import NamedTuple

from r1.verify import Score
from r1.verify.answer import FENCE_RE, code_of, text_of

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


class Plan(NamedTuple):
    """The tests of a row, split for the sandbox. `items`: (mode, source) in the tests' order, mode `step` (not a
    test), `value` (an expression whose value the sandbox reports), or `assert` (a harness test). `checks[i]`: for a
    value item, how the caller judges the reported value (`expect`); None otherwise. `labels[i]`: the assert's source,
    for the reason column. `aliases`: other names the entry point is bound to in the tests (HumanEval's `candidate`)."""

    items: tuple
    checks: tuple
    labels: tuple
    aliases: tuple

    @property
    def n(self) -> int:
        return sum(mode != "step" for mode, _ in self.items)


BIN_OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
NO_VALUE = object()


def const_value(node):
    """The value of a literal, or of arithmetic on numeric literals (`2.0/3.0`, `10**-6`), else NO_VALUE. Evaluated
    here, in the caller: bounded so that no test can make it slow."""
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        pass
    num = (int, float)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = const_value(node.operand)
        return (-v if isinstance(node.op, ast.USub) else +v) if type(v) in num else NO_VALUE
    if isinstance(node, ast.BinOp):
        a, b = const_value(node.left), const_value(node.right)
        if type(a) not in num or type(b) not in num or abs(a) > 1e18 or abs(b) > 1e18:
            return NO_VALUE
        op = BIN_OPS.get(type(node.op))
        if op is None or (op is operator.pow and abs(b) > 64):
            return NO_VALUE
        try:
            return op(a, b)
        except (ArithmeticError, ValueError):
            return NO_VALUE
    return NO_VALUE


def _is_const(node) -> bool:
    return const_value(node) is not NO_VALUE


def _call_name(node) -> str | None:
    """`abs` for abs(...), `math.isclose` for math.isclose(...)."""
    if not isinstance(node, ast.Call):
        return None
    f = node.func
    if isinstance(f, ast.Name):
        return f.id
    if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
        return f"{f.value.id}.{f.attr}"
    return None


def _value_test(test) -> tuple[str, tuple] | None:
    """(expression for the sandbox, how to judge its value) when `assert <test>` can be judged in the caller from one
    value the sandbox reports; None when it is a harness test. Forms: `x == c`, `x is True/False/None`,
    `abs(x - c) < t` (or `abs(x + c)`, `math.fabs`, `<=`), `math.isclose(x, c, ...)`, `x`, `not x`, with c and t
    constants."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, left, right = test.ops[0], test.left, test.comparators[0]
        if isinstance(op, ast.Eq):
            for expr, lit in ((left, right), (right, left)):
                if _is_const(lit) and not _is_const(expr):
                    return ast.unparse(expr), ("eq", const_value(lit))
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value in (True, False, None):
            if not _is_const(left):
                return ast.unparse(left), ("is", right.value)
        if isinstance(op, (ast.Lt, ast.LtE)) and _is_const(right) and _call_name(left) in ("abs", "math.fabs", "fabs"):
            arg = left.args[0] if len(left.args) == 1 and not left.keywords else None
            if isinstance(arg, ast.BinOp) and isinstance(arg.op, (ast.Sub, ast.Add)):  # |x - c|, |c - x|, |x + c|
                for expr, lit in ((arg.left, arg.right), (arg.right, arg.left)):
                    c = const_value(lit)
                    if c is not NO_VALUE and not _is_const(expr) and (isinstance(arg.op, ast.Sub) or type(c) in (int, float)):
                        c = -c if isinstance(arg.op, ast.Add) else c
                        return ast.unparse(expr), ("near", c, const_value(right), isinstance(op, ast.Lt))
        return None
    if _call_name(test) in ("math.isclose", "isclose") and len(test.args) == 2:
        kw = {k.arg: const_value(k.value) for k in test.keywords}
        if set(kw) <= {"rel_tol", "abs_tol"} and all(type(v) in (int, float) for v in kw.values()):
            for expr, lit in ((test.args[0], test.args[1]), (test.args[1], test.args[0])):
                if _is_const(lit) and not _is_const(expr):
                    return ast.unparse(expr), ("close", const_value(lit), kw.get("rel_tol", 1e-9), kw.get("abs_tol", 0.0))
        return None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Call):
        return ast.unparse(test.operand), ("truthy", False)
    if isinstance(test, ast.Call):
        return ast.unparse(test), ("truthy", True)
    return None


def expect(check: tuple, value) -> bool:
    """Does the reported `value` (a plain builtin value, parsed here) satisfy the value test `check`?"""
    kind = check[0]
    if kind == "eq":
        return same(value, check[1])
    if kind == "is":
        return value is check[1]
    if kind == "truthy":
        return bool(value) is check[1]
    if type(value) not in (int, float) or type(check[1]) not in (int, float):
        return False
    if kind == "near":
        gap = abs(value - check[1])
        return gap < check[2] if check[3] else gap <= check[2]
    if kind == "close":
        return math.isclose(value, check[1], rel_tol=check[2], abs_tol=check[3])
    raise ValueError(f"unknown value check {kind!r}")


def _has_assert(node) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _harness_body(tree: ast.Module, entry_point: str | None) -> tuple[list, tuple]:
    """The statements to run as tests, and the names bound to the entry point. A HumanEval harness (`def
    check(candidate)`, with no test of its own at top level but maybe `check(<entry point>)`) is flattened: its body
    runs at top level, `candidate` bound to the entry point, so each of its asserts is a test of its own."""
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"
                  and len(n.args.args) == 1 and not n.args.vararg and not n.args.kwonlyargs), None)  # fmt: skip
    if check is None:
        return tree.body, ()

    def calls_check(n):
        return (isinstance(n, ast.Expr) and _call_name(n.value) == "check" and len(n.value.args) == 1
                and isinstance(n.value.args[0], ast.Name) and n.value.args[0].id in (entry_point, "candidate"))

    rest = [n for n in tree.body if n is not check and not calls_check(n)]
    if any(_has_assert(n) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)) for n in rest):
        return tree.body, ()  # tests at top level: `check` is a helper they call
    inner = [n for n in check.body if not (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))]
    nested = (ast.Return, ast.Yield, ast.YieldFrom, ast.Nonlocal, ast.Global, ast.Await)
    if any(isinstance(x, nested) for n in inner for x in ast.walk(n)
           if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef))):
        # `return` in the body: it cannot be flattened; run the harness whole, as one test
        call = ast.Expr(ast.Call(ast.Name("check", ast.Load()), [ast.Name(entry_point or "candidate", ast.Load())], []))
        return [*rest, check, ast.fix_missing_locations(call)], ()
    return [*rest, *inner], (check.args.args[0].arg,)


@lru_cache(maxsize=1024)
def split_tests(tests: str, entry_point: str | None = None) -> Plan:
    """The Plan of a tests source. Top-level asserts and bare calls are the tests (a HumanEval `check(candidate)`
    harness is flattened first, see _harness_body); `assert True` is not a test; a loop or other compound statement
    holding asserts is one harness test; everything else is a step, run in order. An assert that can be judged from
    one value (see _value_test) becomes a value test: only its expression goes into the sandbox."""
    try:
        tree = ast.parse(tests)
    except (SyntaxError, ValueError) as e:
        raise BadTests(f"tests do not parse: {e}") from e
    body, aliases = _harness_body(tree, entry_point)
    items, checks, labels = [], [], []
    for node in body:
        src = ast.unparse(node)
        if isinstance(node, ast.Assert):
            if isinstance(node.test, ast.Constant) and node.test.value:
                continue  # `assert True`: not a test
            value = _value_test(node.test)
            items.append(("value", value[0]) if value else ("assert", src))
            checks.append(value[1] if value else None)
            labels.append(ast.unparse(node.test))
        elif (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)) or (
                _has_assert(node) and not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))):
            items.append(("assert", src))
            checks.append(None)
            labels.append(src.split("\n")[0] + (" ..." if "\n" in src else ""))
        else:
            items.append(("step", src))
            checks.append(None)
            labels.append(src.split("\n")[0])
    plan = Plan(tuple(items), tuple(checks), tuple(labels), aliases)
    if not plan.n:
        raise BadTests("tests hold no assert")
    for mode, src in plan.items:
        try:
            compile(src, "<tests>", "eval" if mode == "value" else "exec")
        except (SyntaxError, ValueError) as e:
            raise BadTests(f"a test does not compile: {e}") from e
    return plan


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


def python_of(text) -> str | None:
    """The Python source in a prompt: the whole text, the text inside the R1-Zero template, or its last ```python
    fence; None when none parses."""
    from r1.tasks.schema import TEMPLATE_HEAD, TEMPLATE_TAIL

    text = text_of(text)
    candidates = [text]
    if text.startswith(TEMPLATE_HEAD) and text.endswith(TEMPLATE_TAIL):
        candidates.append(text[len(TEMPLATE_HEAD) : len(text) - len(TEMPLATE_TAIL)])
    fences = FENCE_RE.findall(text)
    if fences:
        candidates.append(fences[-1][1])
    for src in candidates:
        try:
            ast.parse(src)
            return src
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue
    return None


@lru_cache(maxsize=1024)
def prompt_context(prompt: str | None, entry_point: str | None) -> str:
    """The definitions a code prompt gives (HumanEval's imports and helpers such as `poly`), without the entry
    point's own stub: run before the candidate and before the tests. "" when the prompt holds no Python."""
    src = python_of(prompt) if prompt else None
    if not src:
        return ""
    keep = [n for n in ast.parse(src).body
            if isinstance(n, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign,
                              ast.AnnAssign)) and getattr(n, "name", None) != entry_point]  # fmt: skip
    return "\n".join(ast.unparse(n) for n in keep)


def complete_program(src: str, prompt: str | None, entry_point: str) -> str:
    """`src` if it defines `entry_point`, else the prompt followed by `src` when that does (a HumanEval canonical
    solution, or a completion that continues the prompt, is only the function's body)."""
    try:
        if any(getattr(n, "name", None) == entry_point for n in ast.parse(src).body):
            return src
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        pass
    head = python_of(prompt) if prompt else None
    if head is None:
        return src
    joined = head.rstrip("\n") + "\n" + src
    try:
        ast.parse(joined)
        return joined
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return src


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


def job_for(src: str, tests: str, entry_point: str, timed: bool = False, context: str = "") -> dict:
    plan = split_tests(tests, entry_point)
    return {"code": src, "entry_point": entry_point, "aliases": list(plan.aliases), "context": context,
            "tests": list(plan.items), "time": timed, "timeout": TIMEOUT}  # fmt: skip


MAX_REASON = 400


def judge(result: dict, plan: Plan) -> tuple[Score, int, int, bool]:
    """(Score, passed, N, raised) from a sandbox result; the verdict needs every item reported by the harness, a
    value test passes only on a reported value that satisfies its check here, and `raised` says an exception other
    than AssertionError came out of the tests (whose fault it is, the caller decides: see verify_code)."""
    n = plan.n
    if result.get("timeout"):
        return Score(0.0, "timeout"), 0, n, False
    load = result.get("load")
    if "setup" in result and load in (None, "ok"):
        return Score(None, result["setup"]), 0, n, False
    if load is None:
        return Score(0.0, "crashed"), 0, n, False
    if load != "ok":
        return Score(0.0, LIMIT_REASONS.get(load) or ("blocked" if load in BLOCKED else f"load_error:{load}")), 0, n, False
    passed, k, failed, errors = 0, 0, [], []
    for i, ((mode, _), check, label) in enumerate(zip(plan.items, plan.checks, plan.labels)):
        status, payload = result["results"].get(i, ("missing", ""))
        if mode == "step":
            if status == "error":
                errors.append(payload)
                failed.append(f"step {label!r} ({payload})")
            continue
        k += 1
        ok = False
        if mode == "value" and status == "value":  # a forged "ok" for a value test is not a pass
            try:
                ok = expect(check, ast.literal_eval(payload))
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError, OverflowError):
                ok = False
        elif mode == "assert" and status == "ok":
            ok = True
        if ok:
            passed += 1
            continue
        if status == "error" and payload != "AssertionError":
            errors.append(payload)
        why = payload if status == "error" and payload != "AssertionError" else ""
        why = why or (f"got {payload[:40]}{'...' if len(payload) > 40 else ''}" if status == "value" else "")
        failed.append(f"[{k}] {label}" + (f" ({why})" if why else ""))
    if result.get("done") != str(len(plan.items)):  # the harness did not finish: the process died mid-way
        return Score(0.0, "crashed"), passed, n, False
    for e in errors:
        if e in LIMIT_REASONS or e in BLOCKED:
            return Score(0.0, LIMIT_REASONS.get(e, "blocked")), passed, n, False
    if passed == n:
        return Score(1.0, None), passed, n, False
    reason = f"tests_failed: {n - passed}/{n}: " + "; ".join(failed)
    if len(reason) > MAX_REASON:
        reason = reason[: MAX_REASON - 3] + "..."
    return Score(round(0.1 + 0.4 * passed / n, 4), reason), passed, n, bool(errors)


# A small cache: accuracy and code_speed (and rejection sampling) often ask about the same completion.
_RESULTS: OrderedDict = OrderedDict()
_CACHE_SIZE = 4096


def run_jobs(jobs: list[dict]) -> list[dict | Exception]:
    from r1.verify.pool import pool

    keys = [(j["code"], j["entry_point"], j["context"], tuple(j["aliases"]), tuple(j["tests"]), j["time"],
             j["timeout"]) for j in jobs]  # fmt: skip
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


def _col(values, n):
    return list(values) if values is not None else [None] * n


def verify_code(completions: list, tests: list, entry_points: list, timed: bool = False, references: list | None = None,
                prompts: list | None = None) -> list[tuple[Score, dict | None]]:
    """Score each completion; also returns the raw sandbox result (None when nothing ran).

    `prompts` (optional): a Python prompt's definitions are run before the candidate and the tests (prompt_context).
    `references` (optional): a row whose tests raised an error (not an AssertionError) is run again on its reference;
    only when the reference fails too is the row `bad_tests` (None); otherwise the error is the candidate's."""
    n = len(completions)
    references, prompts = _col(references, n), _col(prompts, n)
    scores: list = [None] * n
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
            jobs.append(job_for(src, t, e, timed, prompt_context(prompts[i], e)))
            where.append(i)
        except BadTests as err:
            scores[i] = (Score(None, f"bad_tests:{err}"), None)
    raised = []
    for i, r in zip(where, run_jobs(jobs) if jobs else []):
        if isinstance(r, Exception):
            scores[i] = (Score(None, "verifier_error"), None)
            continue
        score, _, _, error = judge(r, split_tests(tests[i], entry_points[i]))
        scores[i] = (score, r)
        if error and references[i]:
            raised.append(i)
    if raised:  # whose fault: do the tests pass on the task's own reference?
        verdicts = reference_scores([(references[i], tests[i], entry_points[i], prompts[i]) for i in raised])
        for i, ref in zip(raised, verdicts):
            if ref.value != 1.0:
                scores[i] = (Score(None, f"bad_tests:the reference fails too: {ref.reason}"[:MAX_REASON]), scores[i][1])
    return scores


def reference_scores(rows: list[tuple], timed: bool = False) -> list[Score]:
    """The Score of each (reference, tests, entry point, prompt) row's reference on its own tests (deduplicated)."""
    keys = sorted(set(rows), key=repr)
    jobs, out = [], {}
    for ref, t, e, p in keys:
        try:
            jobs.append((ref, t, e, p, job_for(complete_program(ref, p, e), t, e, timed, prompt_context(p, e))))
        except BadTests as err:
            out[(ref, t, e, p)] = (Score(None, f"bad_tests:{err}"), None)
    for (ref, t, e, p, _), r in zip(jobs, run_jobs([j for *_, j in jobs]) if jobs else []):
        out[(ref, t, e, p)] = ((Score(None, "verifier_error"), None) if isinstance(r, Exception)
                               else (judge(r, split_tests(t, e))[0], r))  # fmt: skip
    return [out[k] if timed else out[k][0] for k in rows]


def speed(completions: list, tests: list, entry_points: list, references: list, prompts: list | None = None) -> list[Score]:
    """min(1, t_reference / t_candidate) for correct code; 0 for incorrect; None without a reference."""
    prompts = _col(prompts, len(completions))
    refs = [r if r and t and e else None for r, t, e in zip(references, tests, entry_points)]
    ref_rows = [(r, t, e, p) for r, t, e, p in zip(refs, tests, entry_points, prompts) if r]
    ref_res = dict(zip(ref_rows, reference_scores(ref_rows, timed=True)))
    cand = verify_code(completions, tests, entry_points, timed=True, prompts=prompts)
    out = []
    for (score, res), r, t, e, p in zip(cand, refs, tests, entry_points, prompts):
        if r is None:
            out.append(Score(None, "no_reference"))
        elif score.value != 1.0:
            out.append(Score(0.0, score.reason or "incorrect"))
        else:
            ref_score, ref_raw = ref_res[(r, t, e, p)]
            if ref_score.value != 1.0 or not ref_raw or "time" not in ref_raw or "time" not in res:
                out.append(Score(None, "reference_failed"))
                continue
            t_ref, t_cand = float(ref_raw["time"]), float(res["time"])
            value = min(1.0, t_ref / max(t_cand, 1e-9))
            out.append(Score(round(value, 4), None if value >= 1.0 else "slower_than_reference"))
    return out
