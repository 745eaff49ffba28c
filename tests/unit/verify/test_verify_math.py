"""Math verifier: equivalent answers score equal; plain numbers take the fast path, the rest math-verify in workers."""

import pytest

from r1.verify.rewards import get
from r1.verify import math as vmath


@pytest.mark.parametrize(
    "gold,pred",
    [
        (r"\frac{1}{2}", "0.5"),
        (r"\frac{1}{2}", "1/2"),
        ("0.5", r"\dfrac{1}{2}"),
        ("12", r"\boxed{12}"),
        ("12", "12 cm"),
        ("12", r"12 \text{ cm}"),
        ("1000", "1,000"),
        ("-3", " -3 "),
        ("7", "$7$"),
        ("7", "x = 7"),
    ],
)
def test_fast_path_equivalences(gold, pred):
    assert vmath.fast_verify(gold, pred) is True


def test_fast_path_rejects_and_defers():
    assert vmath.fast_verify("0.5", "0.51") is False
    assert vmath.fast_verify(r"\sqrt{2}", "1.41") is None  # needs math-verify
    assert vmath.fast_verify("5", "5x") is None  # algebra, not a unit
    assert vmath.fast_verify("5", "5cm") is True


@pytest.mark.parametrize(
    "gold,pred,ok",
    [
        (r"\sqrt{2}", r"\sqrt 2", True),
        (r"x^2 + 1", "1 + x^2", True),
        (r"\frac{\pi}{2}", r"\pi/2", True),
        (r"\sqrt{2}", r"\sqrt{3}", False),
        (r"2\sqrt{2}", r"\sqrt{8}", True),
    ],
)
def test_math_verify_in_workers(gold, pred, ok):
    (s,) = vmath.verify_math([gold], [pred])
    assert s.value == (1.0 if ok else 0.0), s


def test_accuracy_math_extracts_answers():
    comps = [
        r"<think>half</think> <answer>\frac{1}{2}</answer>",
        "<think>x</think> <answer>The answer is \\boxed{0.5}.</answer>",
        r"so \boxed{1/2}",
        "<think>no answer here</think>",
        [{"role": "assistant", "content": "<think>t</think><answer>0.5</answer>"}],
    ]
    scores = get("accuracy").details(comps, kind=["math"] * 5, answer=["0.5"] * 5)
    assert [s.value for s in scores] == [1.0, 1.0, 1.0, 0.0, 1.0]
    assert scores[3].reason == "no_answer"


def test_missing_gold_is_none():
    assert get("accuracy")(["<answer>1</answer>"], kind=["math"], answer=[None]) == [None]
