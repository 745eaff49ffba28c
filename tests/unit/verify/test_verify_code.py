"""Code verifier: classification, test splitting, type-strict comparison, the article's four completions, speed."""

import pytest

from r1.verify.rewards import get
from r1.verify import code

PROMPT = "Write Python code that takes a list of numbers, returns them sorted, and adds 42 at the beginning"
TESTS = "\n".join([
    "assert sort_add_42([3, 1, 2]) == [42, 1, 2, 3]",
    "assert sort_add_42([]) == [42]",
    "assert sort_add_42([5, -1]) == [42, -1, 5]",
    "assert sort_add_42([1.5, 0]) == [42, 0, 1.5]",
    "assert len(sort_add_42([9, 9])) == 3",
])  # fmt: skip
REFERENCE = "def sort_add_42(xs):\n    return [42] + sorted(xs)\n"
ARTICLE = [
    "<think>The user wants sorting.</think> <answer>You should sort the numbers and then put 42 in front.</answer>",
    "<think>JS is fine.</think> <answer>\n```javascript\nfunction sort_add_42(xs) {\n  return [42, ...xs.sort()];\n}\n```\n</answer>",
    "<think>Sort it.</think> <answer>\n```python\ndef sort_add_42(xs):\n    return sorted(xs) + [42]\n```\n</answer>",
    f"<think>Sort, then prepend.</think> <answer>\n```python\n{REFERENCE}```\n</answer>",
]
SLOW = ("<think>Bubble sort, slowly.</think> <answer>\n```python\nimport time\ndef sort_add_42(xs):\n"
        "    time.sleep(0.01)\n    return [42] + sorted(xs)\n```\n</answer>")  # fmt: skip


def row(n):
    return {"kind": ["code"] * n, "prompt": [PROMPT] * n, "tests": [TESTS] * n, "entry_point": ["sort_add_42"] * n,
            "reference": [REFERENCE] * n}  # fmt: skip


def test_article_four_completions_rank_strictly():
    scores = get("accuracy").details(ARTICLE, **row(4))
    assert [s.reason and s.reason.split(":")[0] for s in scores] == ["no_code", "not_python", "tests_failed", None]
    v = [s.value for s in scores]
    assert v[0] <= v[1] < v[2] < v[3] == 1.0
    assert v[2] < 0.5  # wrong code is never rewarded like right code


def test_partial_credit_grows_with_passed_tests_but_stays_below_correct():
    half = "```python\ndef sort_add_42(xs):\n    return [42] + xs\n```"  # right only when already sorted
    none = "```python\ndef sort_add_42(xs):\n    return None\n```"
    a, b = get("accuracy")([half, none], **row(2))
    assert 0.1 <= b < a < 0.5


def test_slow_correct_code_scores_below_fast_with_code_speed():
    fast, slow = get("code_speed")([ARTICLE[3], SLOW], **row(2))
    assert fast > 0.5 and slow < 0.1
    acc = get("accuracy")([ARTICLE[3], SLOW], **row(2))
    assert acc == [1.0, 1.0]
    assert fast + acc[0] > slow + acc[1]
    wrong, not_code = get("code_speed")([ARTICLE[2], ARTICLE[0]], **row(2))
    assert wrong == 0.0 and not_code == 0.0


def test_code_speed_is_none_without_reference_or_for_other_kinds():
    r = row(1)
    r["reference"] = [None]
    assert get("code_speed")([ARTICLE[3]], **r) == [None]
    assert get("code_speed")(["<answer>4</answer>"], kind=["math"], answer=["4"]) == [None]


@pytest.mark.parametrize(
    "text,reason",
    [
        ("Just sort them.", "no_code"),
        ("<answer>sorted</answer>", "no_code"),
        ("```rust\nfn main() {}\n```", "not_python"),
        ("```\nint main() { return 0; }\n```", "not_python"),
        ("<answer>function f(x) { return x; }</answer>", "not_python"),
    ],
)
def test_classify_rejects(text, reason):
    assert code.classify(text) == (None, (0.0, reason))


def test_classify_accepts_bare_and_fenced_python():
    assert code.classify("<answer>def f(x):\n    return x</answer>")[0].startswith("def f")
    assert code.classify("```py\ndef f(x): return x\n```")[0] == "def f(x): return x\n"
    assert code.classify([{"role": "assistant", "content": "```python\nf = lambda x: x\n```"}])[0]


def test_split_tests_keeps_expected_values_out_of_the_sandbox():
    plan = code.split_tests("import math\nassert f(1) == 2\nassert 3 == f(2)\nassert f(0)\ncheck(f)\nassert True")
    assert plan.items == (("step", "import math"), ("value", "f(1)"), ("value", "f(2)"), ("value", "f(0)"),
                          ("assert", "check(f)"))
    assert plan.checks == (None, ("eq", 2), ("eq", 3), ("truthy", True), None)
    assert plan.n == 4  # `assert True` is not a test, a step is not one either
    with pytest.raises(code.BadTests):
        code.split_tests("x = 1\nassert True")
    with pytest.raises(code.BadTests):
        code.split_tests("assert f(1) ==")


@pytest.mark.parametrize("test,expr,check", [
    ("assert abs(f(2) - 2.0/3.0) < 1e-6", "f(2)", ("near", 2.0 / 3.0, 1e-6, True)),
    ("assert math.fabs(0.5 - f(2)) <= 10**-3", "f(2)", ("near", 0.5, 10**-3, False)),
    ("assert abs(f(2) + 0.5) < 1e-6", "f(2)", ("near", -0.5, 1e-6, True)),
    ("assert math.isclose(f(2), -1.5, rel_tol=1e-4)", "f(2)", ("close", -1.5, 1e-4, 0.0)),
    ("assert not f(3)", "f(3)", ("truthy", False)),
    ("assert f(3) is None", "f(3)", ("is", None)),
    ("assert sorted(f(3)) == [1, 2]", "sorted(f(3))", ("eq", [1, 2])),
])  # fmt: skip
def test_value_tests_include_tolerance_and_truth_checks(test, expr, check):
    plan = code.split_tests(test)
    assert plan.items == (("value", expr),) and plan.checks == (check,)


def test_harness_tests_stay_in_the_sandbox():
    plan = code.split_tests("x = 4\nassert f(x) == g(x)\nfor i in range(3):\n    assert f(i) == i\n"
                            "assert abs(f(1) - x) < 1e-6")  # fmt: skip
    assert [m for m, _ in plan.items] == ["step", "assert", "assert", "assert"]


HUMANEVAL_TESTS = """
METADATA = {'author': 'jt'}


def check(candidate):
    import math
    assert candidate(2) == 4
    assert True, "not a test"
    assert abs(candidate(1.5) - 3.0) < 1e-6
    for x in range(3):
        assert candidate(x) == helper(x)
    assert candidate(0) == 0, "a message"
"""
HUMANEVAL_PROMPT = 'def helper(x):\n    return 2 * x\n\n\ndef double(x):\n    """Twice x."""\n'


def test_humaneval_check_harness_is_flattened_per_assert():
    plan = code.split_tests(HUMANEVAL_TESTS, "double")
    assert plan.aliases == ("candidate",)
    assert [m for m, _ in plan.items] == ["step", "step", "value", "value", "assert", "value"]
    assert plan.checks[2:4] == (("eq", 4), ("near", 3.0, 1e-6, True)) and plan.n == 4
    # a harness that returns early cannot be flattened: it runs whole, as one test
    early = "def check(candidate):\n    assert candidate(1) == 2\n    if candidate(0):\n        return\n    assert False\n"
    plan = code.split_tests(early, "double")
    assert [m for m, _ in plan.items] == ["step", "assert"] and plan.items[1] == ("assert", "check(double)")
    # `check` that the tests call with something else than the entry point is a helper, not the harness
    assert code.split_tests("def check(got):\n    assert got == 1\ncheck(f(1))", "f").items[-1] == ("assert", "check(f(1))")


def test_humaneval_row_sees_the_prompts_helpers_and_names_failed_asserts():
    assert code.prompt_context(HUMANEVAL_PROMPT, "double") == "def helper(x):\n    return 2 * x"
    right = "```python\ndef double(x):\n    return helper(x)\n```"  # uses the prompt's helper
    wrong = "```python\ndef double(x):\n    return x + 2\n```"  # right only at 2
    scores = get("accuracy").details([right, wrong], kind=["code"] * 2, tests=[HUMANEVAL_TESTS] * 2,
                                     entry_point=["double"] * 2, prompt=[HUMANEVAL_PROMPT] * 2)  # fmt: skip
    assert scores[0] == (1.0, None)
    assert scores[1].value == round(0.1 + 0.4 * 1 / 4, 4)
    assert scores[1].reason == ("tests_failed: 3/4: [2] abs(candidate(1.5) - 3.0) < 1e-06 (got 3.5); "
                                "[3] for x in range(3): ...; [4] candidate(0) == 0 (got 2)")


def test_same_is_type_strict():
    assert code.same([1, 2.0], [1.0, 2])
    assert not code.same(True, 1)
    assert not code.same((1, 2), [1, 2])
    assert not code.same({"a": [1]}, {"a": (1,)})
    assert code.same({1, 2}, {2, 1})


def test_bad_tests_and_missing_columns_give_none():
    """Tests with no assert, or no tests at all: nothing to score. (Errors while tests run: test_whose_fault_*.)"""
    scores = get("accuracy").details([ARTICLE[3]] * 2, kind=["code"] * 2, tests=["x = 1", None],
                                     entry_point=["sort_add_42"] * 2)  # fmt: skip
    assert [s.value for s in scores] == [None, None]
    assert scores[0].reason.startswith("bad_tests") and scores[1].reason == "no_tests"


def _acc(completion, tests, reference=None, entry="f"):
    return get("accuracy").details([f"```python\n{completion}```"], kind=["code"], tests=[tests], entry_point=[entry],
                                   reference=[reference])[0]  # fmt: skip


def test_whose_fault_an_error_is_the_candidates_when_the_reference_passes():
    tests = "import textwrap\nassert f(1) == 2\nassert f(2) == 4"
    ref = "def f(x):\n    return 2 * x\n"
    # the case: a wrong solution that breaks an import the tests need; the reference shows the tests work
    wrong = "import sys\nsys.modules['textwrap'] = None\ndef f(x):\n    return x\n"
    s = _acc(wrong, tests, ref)
    assert s.value == 0.1 and s.reason.startswith("tests_failed: 2/2: step 'import textwrap' (ModuleNotFoundError)")
    raising = "def f(x):\n    raise ValueError(x)\n"
    assert _acc(raising, "y = f(1)\nassert y == 2", ref).value == 0.1
    assert _acc(raising, tests, ref).value == 0.1
    # without a reference nothing says the tests are at fault: the error still counts against the candidate
    assert _acc(wrong, tests).value == 0.1


def test_whose_fault_bad_tests_only_when_the_reference_fails_too():
    broken = "assert f(1) == 2\nassert helper(2) == 4"  # `helper` is defined nowhere
    ref = "def f(x):\n    return 2 * x\n"
    s = _acc(ref, broken, ref)
    assert s.value is None and s.reason.startswith("bad_tests:the reference fails too: tests_failed: 1/2: [2] helper(2)")
    # a wrong answer without an error is scored as usual: the reference is not consulted
    s = _acc("def f(x):\n    return 0\n", "assert f(1) == 2\nassert f(0) == 0", ref)
    assert s.value == 0.3
    # the reference given as HumanEval's body only (prompt + canonical solution) is completed from the prompt
    prompt = 'def f(x):\n    """Twice x."""\n'
    got = get("accuracy").details(["```python\ndef f(x):\n    raise ValueError\n```"], kind=["code"], tests=[broken],
                                  entry_point=["f"], reference=["    return 2 * x\n"], prompt=[prompt])[0]  # fmt: skip
    assert got.value is None and got.reason.startswith("bad_tests:the reference fails too")
