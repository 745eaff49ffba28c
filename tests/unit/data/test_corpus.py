import random
from collections import Counter

import pytest

from helpers.tiny import records

from r1 import config

from r1.data import corpus

from r1.tasks import families
from r1.tasks.schema import reflects
from r1.verify.answer import reasoning_of


@pytest.fixture(scope="module")
def train():
    return records("train", 200, 1)


MIX = corpus.Mix(error_rate=0.3, reflection_rate=0.05, direct_rate=0.2, malformed_rate=0.15)


def _completion(doc: dict) -> str:
    return doc["text"].split(". Assistant:", 1)[1]


def test_corpus_never_contains_eval_prompts(train):
    evals = records("eval", 60, 2)
    train_prompts = {r["prompt"] for r in train}
    held_out = [r["prompt"] for r in evals if r["prompt"] not in train_prompts]
    assert held_out
    docs = corpus.build(train, 3000, MIX, seed=0)
    text = "\n".join(d["text"] for d in docs)
    leaked = [p for p in held_out if p in text]
    assert not leaked, leaked[:3]


def test_corpus_refuses_eval_records(train):
    evals = records("eval", 2, 3)
    with pytest.raises(ValueError, match="non-train"):
        corpus.build(train + evals, 10, MIX, seed=0)


def test_corpus_rates_match_params(train):
    n = 6000
    docs = corpus.build(train, n, MIX, seed=0)
    modes = Counter(d["mode"] for d in docs)
    modes["error"] = modes["wrong"] + modes["guess"]
    for mode, rate in (("error", MIX.error_rate), ("reflective", MIX.reflection_rate), ("direct", MIX.direct_rate),
                       ("malformed", MIX.malformed_rate), ("guess", MIX.error_rate * corpus.GUESS_SHARE)):
        assert abs(modes[mode] / n - rate) < 0.02, (mode, modes[mode] / n)
    # reflection (as eval measures it) appears exactly in the reflective traces
    reflective = [reflects(_completion(d)) for d in docs]
    assert reflective == [d["mode"] == "reflective" for d in docs]


def test_modes_are_right_and_wrong_as_labelled(train):
    from r1.verify.rewards import get

    acc, fmt = get("accuracy"), get("format")
    rng = random.Random(0)
    recs = [r for r in train if r["kind"] in ("math", "countdown")][:150]
    cols = {k: [r[k] for r in recs] for k in recs[0]}
    for mode, want_acc, want_fmt in (("reasoned", 1.0, 1.0), ("reflective", 1.0, 1.0), ("direct", 1.0, 1.0),
                                     ("wrong", 0.0, 1.0), ("guess", 0.0, 1.0), ("malformed", 0.0, 0.0)):
        comps = [corpus.trace(r, mode, rng) for r in recs]
        a, f = acc(comps, **cols), fmt(comps, **cols)
        assert sum((x or 0) == want_acc for x in a) / len(a) > 0.95, (mode, comps[:2])
        assert all(x == want_fmt for x in f), mode


def test_reflective_math_catches_and_corrects_an_error():
    rec = {"kind": "math", "prompt": "p", "solution": "3 * 4 = 12\n12 + 5 = 17", "answer": "17"}
    texts = {corpus.trace(rec, "reflective", random.Random(s)) for s in range(40)}
    assert any("wait, " in t for t in texts) and any("verify: " in t for t in texts)
    for t in texts:
        assert t.endswith("<answer> 17 </answer>")
    wrong = corpus.trace(rec, "wrong", random.Random(0))
    assert "<answer> 17 </answer>" not in wrong


def test_mix_rejects_rates_over_one():
    with pytest.raises(ValueError):
        corpus.Mix(0.5, 0.3, 0.2, 0.1)


def test_worked_examples_teach_the_skill_outside_the_template(train):
    from r1.verify.rewards import get
    from r1.tasks.schema import R1_ZERO_TEMPLATE

    mix = corpus.Mix(error_rate=0.3, reflection_rate=0.05, direct_rate=0.2, malformed_rate=0.15, worked_rate=0.6)
    docs = corpus.build(train, 4000, mix, seed=1)
    worked = [d for d in docs if d["mode"] == "worked"]
    assert abs(len(worked) / len(docs) - 0.6) < 0.03
    head = R1_ZERO_TEMPLATE.split("{prompt}")[0]
    for d in docs:
        assert d["text"].startswith(corpus.WORKED_HEAD if d["mode"] == "worked" else head)
        assert ". Assistant: <think> " in d["text"]  # the loss mask's anchor, in both kinds
    # the rates of the other modes are shares of the templated documents
    templated = [d for d in docs if d["mode"] != "worked"]
    assert abs(sum(d["mode"] == "direct" for d in templated) / len(templated) - 0.2) < 0.03
    # every worked example reasons to the right answer; countdown ones often search (misses, then the hit)
    by_id = {r["id"]: r for r in train}
    recs = [by_id[d["id"]] for d in worked if d["kind"] != "code"]
    comps = [_completion(d) for d in worked if d["kind"] != "code"]
    cols = {k: [r[k] for r in recs] for k in recs[0]}
    assert all(x == 1.0 for x in get("accuracy")(comps, **cols))
    assert all("<think> </think>" not in c for c in comps)
    retries = [reflects(_completion(d)) for d in worked if d["kind"] == "countdown"]
    assert 0.3 < sum(retries) / len(retries) <= corpus.WORKED_RETRY_SHARE + 0.05


def test_kind_shares_set_each_familys_share_of_documents(train):
    docs = corpus.build(train, 3000, MIX, seed=2, kind_shares={"math": 0.2, "countdown": 0.8})
    kinds = Counter(d["kind"] for d in docs)
    assert kinds["code"] == 0
    assert abs(kinds["countdown"] / len(docs) - 0.8) < 0.03
    uniform = Counter(d["kind"] for d in corpus.build(train, 3000, MIX, seed=2))
    assert abs(uniform["code"] / 3000 - 1 / 3) < 0.03  # records sampled uniformly (200 per family here)
    with pytest.raises(ValueError, match="select none"):
        corpus.build(train, 10, MIX, seed=2, kind_shares={"poetry": 1.0})


CD = {"kind": "countdown", "prompt": "Make 11 from 19, 5, 3 with + and -, each once.", "numbers": [19, 5, 3],
      "target": 11, "solution": "19 - 5 = 14\n14 - 3 = 11", "answer": "(19 - 5) - 3"}


def _think_lines(text: str) -> list[str]:
    return reasoning_of(text).strip().splitlines()


def test_countdown_attempts_end_by_comparing_with_the_target():
    """A hit says so, a miss says so: whether to answer or try again is then decided after seeing the miss."""
    rng = random.Random(0)
    assert corpus.trace(CD, "reasoned", rng) == corpus.wrap("19 - 5 = 14\n14 - 3 = 11\n11 is 11", "(19 - 5) - 3")
    for seed in range(10):
        wrong = corpus.trace(CD, "wrong", random.Random(seed))
        *lines, last = _think_lines(wrong)
        (a, op1, b, c), (c2, op2, d, v) = corpus.parse_lines("\n".join(lines))
        assert (a, b, d) == (19, 5, 3) and c2 == c and v != 11 and last == f"{v} is not 11"
        assert wrong.endswith(f"<answer> (19 {op1} 5) {op2} 3 </answer>") and not reflects(wrong)


def test_countdown_reflection_retries_after_a_seen_miss_up_to_the_hit():
    texts = {corpus.trace(CD, "reflective", random.Random(seed)) for seed in range(30)}
    assert len(texts) > 3  # one to three misses, drawn at random
    for text in texts:
        think = _think_lines(text)
        assert think[-3:] == ["wait, 19 - 5 = 14", "14 - 3 = 11", "11 is 11"] and reflects(text)
        assert text.endswith("<answer> (19 - 5) - 3 </answer>")
        attempts = [think[i:i + 3] for i in range(0, len(think) - 3, 3)]
        assert 1 <= len(attempts) <= 3 and len({tuple(a) for a in attempts}) == len(attempts)  # no miss repeated
        for i, (first, second, seen) in enumerate(attempts):
            first = first.removeprefix("wait, ") if i else first
            (a, _, b, c), (c2, _, d, v) = corpus.parse_lines(f"{first}\n{second}")
            assert (a, b, d) == (19, 5, 3) and c2 == c and v != 11 and seen == f"{v} is not 11"
    # numbers not listed in a working order: misses may fold them in any order
    shuffled = {**CD, "numbers": [3, 19, 5]}
    assert not corpus.folds_in_order(shuffled) and corpus.folds_in_order(CD)
    firsts = {_think_lines(corpus.trace(shuffled, "reflective", random.Random(s)))[0].split()[0] for s in range(30)}
    assert len(firsts) > 1


def test_countdown_with_nothing_to_miss_checks_the_answer():
    rec = {**CD, "prompt": "Make 6 from 3, 2 with *, each once.", "numbers": [3, 2], "target": 6,
           "solution": "3 * 2 = 6", "answer": "3 * 2"}
    text = corpus.trace(rec, "reflective", random.Random(0))
    assert _think_lines(text) == ["3 * 2 = 6", "6 is 6", "verify: 3 * 2 = 6"] and reflects(text)


def test_drills_are_lines_of_train_solutions_learned_whole(train):
    mix = corpus.Mix(error_rate=0.3, reflection_rate=0.05, direct_rate=0.2, malformed_rate=0.15, worked_rate=0.5,
                     drill_rate=0.2)
    docs = corpus.build(train, 3000, mix, seed=3)
    drills = [d for d in docs if d["mode"] == "drill"]
    assert abs(len(drills) / len(docs) - 0.2) < 0.03
    lines = {ln for r in train if r["kind"] != "code" for ln in r["solution"].splitlines()}
    for d in drills:
        assert ". Assistant:" not in d["text"]  # no template tail: the loss covers every token
        facts = d["text"].splitlines()
        assert len(facts) == corpus.DRILL_LINES and set(facts) <= lines
        for a, op, b, c in corpus.parse_lines(d["text"]):
            assert corpus.apply(a, op, b) == c
    # the other modes keep their shares of what is left
    worked = sum(d["mode"] == "worked" for d in docs) / len(docs)
    assert abs(worked - 0.8 * 0.5) < 0.03
