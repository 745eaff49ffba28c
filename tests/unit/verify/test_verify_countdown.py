"""Countdown verifier: safe parsing, each number at most once, target hit."""

import pytest

from r1.verify.rewards import get
from r1.verify.countdown import check


@pytest.mark.parametrize(
    "eq,reason",
    [
        ("(3 + 5) * 2", None),
        ("(3 + 5) * 2 = 16", None),
        ("3 \\times 5 + 1", "wrong_numbers"),
        ("(3 + 5) * 2 * 1", "wrong_numbers"),
        ("3 + 3 + 5 * 2", "wrong_numbers"),  # 3 used twice
        ("3 + 5 + 2", "wrong_answer"),
        ("__import__('os').system('true')", "disallowed_syntax"),
        ("(lambda: 16)()", "disallowed_syntax"),
        ("2 ** 4", "disallowed_syntax"),
        ("16 // 1", "disallowed_syntax"),
        ("5 / (2 - 2)", "division_by_zero"),
        ("(3 + 5", "unparsable"),
        ("", "no_answer"),
        (None, "no_answer"),
        ("1" * 300, "too_long"),
    ],
)
def test_check(eq, reason):
    s = check(eq, [3, 5, 2, 2], 16)
    assert s.reason == reason
    assert s.value == (1.0 if reason is None else 0.0)


def test_division_is_exact():
    assert check("(8 / 3) * 3", [8, 3, 3], 8).value == 1.0
    assert check("7 / 2", [7, 2], 3).value == 0.0


def test_accuracy_countdown_and_malformed_rows():
    comps = ["<think>t</think> <answer>(3 + 5) * 2</answer>", "<answer>3 * 5</answer>", "<answer>1</answer>"]
    scores = get("accuracy").details(comps, kind=["countdown"] * 3, numbers=[[3, 5, 2], [3, 5, 2], "oops"],
                                     target=[16, 16, 1])  # fmt: skip
    assert [s.value for s in scores[:2]] == [1.0, 0.0]
    assert scores[2].value is None and scores[2].reason.startswith("malformed")
