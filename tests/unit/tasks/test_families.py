"""Each family's worked solution reaches its stored answer; code references pass their own tests."""

import ast
import json
import random
import re
import subprocess
import sys
from collections import Counter

import pytest

from r1 import config

from r1.tasks import families
from r1.tasks.families import code as code_family
from r1.tasks.families import countdown as countdown_family

LINE_RE = re.compile(r"^(\d+) ([-+*/]) (\d+) = (\d+)$")
OPS = {"+": lambda a, b: a + b, "-": lambda a, b: a - b, "*": lambda a, b: a * b, "/": lambda a, b: a / b}


@pytest.fixture(scope="module")
def cfg():
    return config.load("default").tasks


def sample(kind, cfg, n=400, seed=0):
    rng = random.Random(seed)
    return [families.generate(kind, rng, cfg) for _ in range(n)]


def parse_lines(solution):
    """[(a, op, b, c)] after checking each line is `a op b = c` and correct."""
    steps = []
    for line in solution.splitlines():
        m = LINE_RE.match(line)
        assert m, f"not an `a op b = c` line: {line!r}"
        a, op, b, c = int(m[1]), m[2], int(m[3]), int(m[4])
        assert OPS[op](a, b) == c, f"wrong arithmetic: {line!r}"
        steps.append((a, op, b, c))
    return steps


def test_records_have_every_column_and_short_prompts(cfg):
    for kind in families.GENERATORS:
        for rec in sample(kind, cfg, n=100):
            assert set(rec) == set(families.TASK_SCHEMA)
            assert rec["kind"] == kind and rec["solution"] and rec["answer"]
            assert 0 < len(rec["prompt"]) < 130, rec["prompt"]


def test_record_rejects_unknown_columns():
    with pytest.raises(KeyError, match="not task columns"):
        families.record(kind="math", prompt="p", answr="1")


def test_math_solution_reaches_answer(cfg):
    for rec in sample("math", cfg):
        steps = parse_lines(rec["solution"])
        assert 1 <= len(steps) <= cfg.math_max_ops
        assert str(steps[-1][3]) == rec["answer"]
        for prev, step in zip(steps, steps[1:]):
            assert step[0] == prev[3], "each step continues from the previous result"
        assert all(b <= cfg.math_max_operand for _, _, b, _ in steps)
        assert all(int(n) <= cfg.math_max_operand for n in re.findall(r"\d+", rec["prompt"]))


def test_math_uses_every_operation(cfg):
    ops = Counter(op for rec in sample("math", cfg) for _, op, _, _ in parse_lines(rec["solution"]))
    assert set(ops) == set("+-*/")


@pytest.mark.parametrize("in_order, ops", [(False, "+-*/"), (False, "+-"), (True, "+-"), (True, "+-*/")])
def test_countdown_target_reachable_by_stored_solution(cfg, in_order, ops):
    import dataclasses

    cfg = dataclasses.replace(cfg, countdown_in_order=in_order, countdown_ops=ops)
    for rec in sample("countdown", cfg):
        numbers, target = rec["numbers"], rec["target"]
        assert len(numbers) == cfg.countdown_numbers
        if in_order:  # the listed order works left to right: ((n1 op n2) op n3)
            lines = parse_lines(rec["solution"])
            assert [lines[0][0]] + [b for _, _, b, _ in lines] == numbers
            assert all(a == prev[3] for (a, _, _, _), prev in zip(lines[1:], lines))
        else:
            assert numbers == sorted(numbers)
        assert all(1 <= n <= cfg.countdown_max_number for n in numbers)
        assert target not in numbers
        pool = Counter(numbers)
        for a, op, b, c in parse_lines(rec["solution"]):
            for x in (a, b):
                assert pool[x] > 0, f"{x} used more often than available in {rec}"
                pool[x] -= 1
            pool[c] += 1
        assert +pool == Counter([target])
        # The answer expression uses each number once and evaluates to the target.
        assert Counter(map(int, re.findall(r"\d+", rec["answer"]))) == Counter(numbers)
        assert eval(rec["answer"], {"__builtins__": {}}) == target  # noqa: S307 - our own digits and operators
        named = "" if set(cfg.countdown_ops) == set("+-*/") else " with " + " and ".join(cfg.countdown_ops)
        assert rec["prompt"] == f"Make {target} from {', '.join(map(str, numbers))}{named}, each once."
        assert countdown_family.allowed_ops(rec["prompt"]) == cfg.countdown_ops
        assert set(re.findall(r"[-+*/]", rec["answer"])) <= set(cfg.countdown_ops)


def test_countdown_answer_is_the_last_line_with_the_first_substituted():
    assert countdown_family.wrap("16 + 15", countdown_family.PREC["+"]) == "(16 + 15)"
    assert countdown_family.wrap("4 * 5", countdown_family.PREC["*"]) == "(4 * 5)"
    assert countdown_family.wrap("7", countdown_family.ATOM) == "7"
    rng = random.Random(5)
    cfg = config.load("ci").tasks
    for _ in range(50):
        rec = countdown_family.generate(rng, cfg)
        first, last = rec["solution"].splitlines()
        lhs, value = first.split(" = ")
        a, op, b = last.split(" = ")[0].split(" ")
        want = {f"({lhs}) {op} {b}", f"{a} {op} ({lhs})"} if value in (a, b) else set()
        assert rec["answer"] in want, (rec["solution"], rec["answer"])


def test_code_templates_and_article():
    assert 12 <= len(code_family.TEMPLATES) <= 20
    article = code_family.article(random.Random(0))
    assert article["prompt"].startswith("Write Python code that takes a list of numbers, returns them sorted, "
                                        "and adds 42 at the beginning")
    assert article["reference"] == "def sort42(xs):\n    return [42] + sorted(xs)\n"
    assert article["solution"] == "sort xs, then put 42 first"


def test_code_tests_are_five_literal_asserts(cfg):
    for rec in sample("code", cfg, n=200):
        lines = rec["tests"].strip().splitlines()
        assert len(lines) == 5
        for line in lines:
            node = ast.parse(line).body[0]
            assert isinstance(node, ast.Assert)
            call, expected = node.test.left, node.test.comparators[0]
            assert isinstance(node.test.ops[0], ast.Eq)
            assert call.func.id == rec["entry_point"]
            ast.literal_eval(call.args[0]), ast.literal_eval(expected)  # literals only
        assert rec["answer"] == rec["reference"]
        assert rec["reference"].startswith(f"def {rec['entry_point']}(")
        assert len(rec["solution"].splitlines()) <= 2


RUNNER = """
import json, sys
results = []
for source, tests in json.load(sys.stdin):
    ns = {}
    try:
        exec(source, ns)
        exec(tests, ns)
        results.append(True)
    except Exception:
        results.append(False)
print(json.dumps(results))
"""


def run_in_subprocess(pairs):
    out = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(pairs), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_code_reference_passes_its_tests_and_wrong_code_fails(cfg):
    recs = sample("code", cfg, n=300) + [code_family.article(random.Random(1))]
    used = {r["entry_point"] for r in recs}
    assert all(used & set(t.names) for t in code_family.TEMPLATES), "every template is exercised"
    right = [(r["reference"], r["tests"]) for r in recs]
    constant = [(f"def {r['entry_point']}(xs):\n    return {r['tests'].split(' == ')[1].splitlines()[0]}\n",
                 r["tests"]) for r in recs]  # returns the first test's expected value every time
    results = run_in_subprocess(right + constant)
    assert all(results[:len(recs)]), [r["prompt"] for r, ok in zip(recs, results) if not ok]
    assert not any(results[len(recs):]), "a constant function passed a test suite"


def test_countdown_in_order_draws_every_operation_pattern_alike(cfg):
    import dataclasses

    cfg = dataclasses.replace(cfg, countdown_in_order=True, countdown_ops="+-")
    patterns = Counter("".join(op for _, op, _, _ in parse_lines(r["solution"])) for r in sample("countdown", cfg, 800))
    assert set(patterns) == {"++", "+-", "-+", "--"}
    assert max(patterns.values()) < 1.3 * min(patterns.values())  # no pattern is a safe guess
