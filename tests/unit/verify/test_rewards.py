"""The reward registry: names, TRL signature, picklability, answer extraction, the cheap rewards, pool cleanup."""

import os
import pickle
import subprocess
import sys
import time

import pytest

from helpers.pipeline import ROOT

from r1.verify.rewards import NAMES, REWARDS, UnknownReward, extract_answer, get
from r1.verify.answer import format_ok, reasoning_of

DOCUMENTED = ["accuracy", "format", "tag_count", "language_consistency", "code_speed", "repetition_penalty", "length",
              "reasoning_steps"]  # fmt: skip


def test_every_documented_name_resolves():
    assert set(DOCUMENTED) == set(NAMES) == set(REWARDS)
    for name in DOCUMENTED:
        assert get(name).__name__ == name


def test_the_registry_is_read_only():
    """A stage with other reward functions passes them to the GRPO runner; no run can change what a name means."""
    with pytest.raises(TypeError):
        REWARDS["accuracy"] = REWARDS["format"]
    with pytest.raises(AttributeError):
        REWARDS.pop("accuracy")
    assert get("accuracy").__name__ == "accuracy"


def test_unknown_name_raises_with_the_known_ones():
    with pytest.raises(UnknownReward, match="accuracy"):
        get("acuracy")
    with pytest.raises(KeyError):
        get("nope")


def test_importable_without_torch():
    code = "import sys, r1.verify.rewards; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_rewards_are_picklable_and_take_trl_kwargs():
    for name in NAMES:
        assert pickle.loads(pickle.dumps(get(name))).__name__ == name
    r = pickle.loads(pickle.dumps(get("repetition_penalty", ngram_size=2)))
    assert r.options == {"ngram_size": 2}
    out = REWARDS["accuracy"](
        ["<think>a</think> <answer>4</answer>"], prompts=["p"], completion_ids=[[1, 2]], trainer_state=None,
        kind=["math"], answer=["4"], numbers=[None], target=[None], tests=[None], entry_point=[None],
    )  # fmt: skip
    assert out == [1.0]


@pytest.mark.parametrize(
    "text,answer",
    [
        ("<think>x</think> <answer> 42 </answer>", "42"),
        ("<answer>1</answer> then <answer>2</answer>", "2"),
        (r"<answer>so \boxed{\frac{1}{2}}.</answer>", r"\frac{1}{2}"),
        (r"The result is \boxed{\frac{a}{b+{c}}} ok", r"\frac{a}{b+{c}}"),
        ("|special_token| I reason. <answer>9</answer> |special_token| Summary: <answer>7</answer>", "7"),
        (r"|special_token|reasoning \boxed{1}|special_token|So the answer is \boxed{8}.", "8"),
        ("|special_token|reasoning|special_token| 12 ", "12"),
        ("no answer at all", None),
        ("<answer></answer>", None),
        ([{"role": "assistant", "content": "<answer>5</answer>"}], "5"),
        (None, None),
    ],
)
def test_extract_answer(text, answer):
    assert extract_answer(text) == answer


def test_reasoning_of_each_format():
    assert reasoning_of("<think> a b </think><answer>1</answer>") == " a b "
    assert reasoning_of("|special_token|why|special_token|sum") == "why"
    assert reasoning_of("plain then <answer>1</answer>") == "plain then "


@pytest.mark.parametrize(
    "text,ok",
    [
        ("<think>r</think> <answer>a</answer>", True),
        ("  <think>\nr\n</think>\n<answer>\na\n</answer>\n", True),
        ("<answer>a</answer>", False),
        ("<think>r</think> <answer>a</answer> trailing", False),
        ("<think>r</think><answer>a</answer><answer>b</answer>", False),
        ("<think>r<think>x</think></think><answer>a</answer>", False),
        ("<think>r</think>", False),
    ],
)
def test_format(text, ok):
    assert format_ok(text) is ok
    assert REWARDS["format"]([text]) == [1.0 if ok else 0.0]


def test_tag_count():
    assert REWARDS["tag_count"](["<think>a</think><answer>b</answer>", "<think>a</think>", "x"]) == [1.0, 0.5, 0.0]


def test_language_consistency():
    r = REWARDS["language_consistency"]
    en = "<think>First add the numbers, then check.</think><answer>3</answer>"
    mixed = "<think>First 我们 add 数字</think><answer>3</answer>"
    zh = "<think>我们先把数字加起来</think><answer>3</answer>"
    assert r([en, zh]) == [1.0, 0.0]
    v = r([mixed])[0]
    assert 0.0 < v < 1.0  # 2 English words, 4 Chinese characters
    assert v == pytest.approx(2 / 6, abs=1e-3)
    assert r([zh, en], language=["zh", "zh"]) == [1.0, 0.0]
    assert get("language_consistency", target_language="zh")([zh]) == [1.0]
    assert r([zh], language=["xx"]) == [None]
    assert r(["<think></think><answer>1</answer>"]) == [0.0]


def test_repetition_penalty():
    r = REWARDS["repetition_penalty"]
    rep = "the cat sat " * 20
    unique = "one two three four five six seven"
    a, b, c = r([rep, unique, "too short"])
    assert a < -0.8 and b == 0.0 and c == 0.0
    assert get("repetition_penalty", max_penalty=-0.5)([rep])[0] == pytest.approx(a / 2, abs=1e-3)


def test_length_prefers_short_correct_answers():
    comps = ["<answer>4</answer>", "<think>" + "long " * 50 + "</think><answer>4</answer>", "<answer>5</answer>"]
    short_ok, long_ok, wrong = REWARDS["length"](comps, kind=["math"] * 3, answer=["4"] * 3)
    assert short_ok > long_ok and wrong <= 0.0


def test_reasoning_steps():
    assert REWARDS["reasoning_steps"](["Step 1: a\nStep 2: b\nStep 3: c", "no steps"]) == [1.0, 0.0]


def test_malformed_rows_get_none_alone():
    comps = ["<answer>4</answer>", 12345, "<answer>4</answer>"]
    scores = get("accuracy").details(comps, kind=["math", "math", "alien"], answer=["4", "4", "4"])
    assert scores[0] == (1.0, None)
    assert scores[1].value is None and scores[1].reason.startswith("malformed")
    assert scores[2] == (None, "unknown_kind:alien")
    assert get("format")(comps) == [0.0, None, 0.0]


def test_workers_stop_when_the_caller_exits():
    script = (
        "from r1.verify.rewards import get\nfrom r1.verify.pool import pool\n"
        "get('accuracy')(['```python\\ndef f(): return 1\\n```'], kind=['code'], tests=['assert f() == 1'],"
        " entry_point=['f'])\n"
        "get('accuracy')(['<answer>\\\\sqrt{2}</answer>'], kind=['math'], answer=['\\\\sqrt 2'])\n"
        "print(' '.join(str(w.proc.pid) for k in ('code', 'math') for w in pool(k).workers))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         cwd=ROOT)  # fmt: skip
    pids = [int(p) for p in out.stdout.split()]
    assert pids
    time.sleep(0.3)
    alive = [p for p in pids if os.path.exists(f"/proc/{p}") and "Z" not in open(f"/proc/{p}/stat").read().split()[2]]
    assert alive == []


def test_a_dead_worker_is_replaced():
    from r1.verify.pool import pool

    acc = get("accuracy")
    row = {"kind": ["code"], "tests": ["assert f() == 1"], "entry_point": ["f"]}
    assert acc(["```python\ndef f():\n    return 1\n```"], **row) == [1.0]
    for w in list(pool("code").workers):
        w.proc.kill()
        w.proc.wait()
    # the chunk sent to a dead worker fails as None (verifier_error), never as a wrong score; the next call works
    first = acc(["```python\ndef f():\n    return 1 + 0\n```"], **row)
    assert first in ([None], [1.0])
    # a replacement worker starts within a few calls even on a loaded machine
    later = [acc([f"```python\ndef f():\n    return {i} - {i - 1}\n```"], **row) for i in range(2, 5)]
    assert [1.0] in later and all(r in ([None], [1.0]) for r in later)


def test_gated_rewards_give_none_where_accuracy_is_none():
    """GRPO: TRL gives a completion no learning signal only when every reward function returns None for it."""
    from r1.verify.rewards import gated

    fmt, acc = gated([get("format"), get("accuracy")])
    comps = ["<think>a</think> <answer>4</answer>"] * 3
    cols = {"kind": ["math", "code", "general"], "answer": ["4", None, None], "tests": [None, None, None],
            "entry_point": [None, None, None]}  # fmt: skip
    assert get("format")(comps, **cols) == [1.0, 1.0, 1.0]
    assert fmt(comps, **cols) == [1.0, None, 1.0]  # the code row has no tests: unscored; a general row keeps format
    assert acc(comps, **cols) == [1.0, None, None]
    assert fmt.__name__ == "format" and pickle.loads(pickle.dumps(fmt))(comps, **cols) == [1.0, None, 1.0]


def test_gated_accuracy_is_computed_once_per_batch(monkeypatch):
    from r1.verify import math as vmath
    from r1.verify.rewards import gated

    calls = []
    real = vmath.verify_math
    monkeypatch.setattr(vmath, "verify_math", lambda *a, **k: calls.append(1) or real(*a, **k))
    funcs = gated([get("accuracy"), get("format"), get("tag_count")])
    comps, cols = ["<answer>7</answer>", "<answer>8</answer>"], {"kind": ["math"] * 2, "answer": ["7", "9"]}
    assert [f(comps, **cols) for f in funcs] == [[1.0, 0.0], [0.0, 0.0], [0.5, 0.5]]
    assert len(calls) == 1
