import random
from collections import Counter

import pytest

from r1 import config, corpus, families
from r1.schema import reflects


def _records(split: str, n: int, seed: int) -> list[dict]:
    cfg = config.load("ci").tasks
    rng = random.Random(f"{seed}:{split}")
    out = []
    for kind in ("math", "countdown", "code"):
        for i in range(n):
            rec = families.generate(kind, rng, cfg)
            rec.update(id=f"{kind}-{split}-{i}", split=split)
            out.append(rec)
    return out


@pytest.fixture(scope="module")
def train():
    return _records("train", 200, 1)


MIX = corpus.Mix(error_rate=0.3, reflection_rate=0.05, direct_rate=0.2, malformed_rate=0.15)


def _completion(doc: dict) -> str:
    return doc["text"].split(". Assistant:", 1)[1]


def test_corpus_never_contains_eval_prompts(train):
    evals = _records("eval", 60, 2)
    train_prompts = {r["prompt"] for r in train}
    held_out = [r["prompt"] for r in evals if r["prompt"] not in train_prompts]
    assert held_out
    docs = corpus.build(train, 3000, MIX, seed=0)
    text = "\n".join(d["text"] for d in docs)
    leaked = [p for p in held_out if p in text]
    assert not leaked, leaked[:3]


def test_corpus_refuses_eval_records(train):
    evals = _records("eval", 2, 3)
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
    from r1.rewards import get

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
    from r1.rewards import get
    from r1.schema import R1_ZERO_TEMPLATE

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
    searches = [reflects(_completion(d)) for d in worked if d["kind"] == "countdown"]
    assert 0.3 < sum(searches) / len(searches) <= corpus.WORKED_SEARCH_SHARE + 0.05


def test_kind_shares_set_each_familys_share_of_documents(train):
    docs = corpus.build(train, 3000, MIX, seed=2, kind_shares={"math": 0.2, "countdown": 0.8})
    kinds = Counter(d["kind"] for d in docs)
    assert kinds["code"] == 0
    assert abs(kinds["countdown"] / len(docs) - 0.8) < 0.03
    uniform = Counter(d["kind"] for d in corpus.build(train, 3000, MIX, seed=2))
    assert abs(uniform["code"] / 3000 - 1 / 3) < 0.03  # records sampled uniformly (200 per family here)
    with pytest.raises(ValueError, match="select none"):
        corpus.build(train, 10, MIX, seed=2, kind_shares={"poetry": 1.0})


def test_countdown_search_is_systematic_up_to_the_first_hit():
    """Numbers listed in a working order: every fold in a fixed order of operations, each miss checked against the
    target, stopping at the first hit, the same search every time (as reliable as the model's arithmetic)."""
    rec = {"kind": "countdown", "prompt": "Make 9 from 19, 5, 3 with + and -, each once.", "numbers": [19, 5, 3],
           "target": 11, "solution": "19 - 5 = 14\n14 - 3 = 11", "answer": "(19 - 5) - 3"}
    texts = {corpus.trace(rec, "reflective", random.Random(seed)) for seed in range(10)}
    assert texts == {corpus.wrap("19 + 5 = 24\n24 + 3 = 27\nwait, 27 is not 11\n"
                                 "19 + 5 = 24\n24 - 3 = 21\nwait, 21 is not 11\n"
                                 "19 - 5 = 14\n14 + 3 = 17\nwait, 17 is not 11\n"
                                 "19 - 5 = 14\n14 - 3 = 11", "(19 - 5) - 3")}
    # a hit on the first try ends with a check, so that every search reflects
    first = {**rec, "target": 27, "solution": "19 + 5 = 24\n24 + 3 = 27", "answer": "(19 + 5) + 3"}
    text = corpus.trace(first, "reflective", random.Random(0))
    assert text == corpus.wrap("19 + 5 = 24\n24 + 3 = 27\nverify: 27 = 27", "(19 + 5) + 3") and reflects(text)
    # the first hit need not be the listed solution: any fold that makes the target is right
    other = {**rec, "numbers": [6, 3, 3], "target": 6, "solution": "6 - 3 = 3\n3 + 3 = 6", "answer": "(6 - 3) + 3"}
    assert corpus.trace(other, "reflective", random.Random(0)).endswith("<answer> (6 + 3) - 3 </answer>")


def test_countdown_search_tries_other_operations_in_the_listed_order():
    rec = {"kind": "countdown", "prompt": "Make 32 from 3, 10, 2, each once.", "numbers": [3, 10, 2], "target": 32,
           "solution": "3 * 10 = 30\n30 + 2 = 32", "answer": "(3 * 10) + 2"}
    assert corpus.folds_in_order(rec)
    assert not corpus.folds_in_order({**rec, "numbers": [2, 3, 10]})
    for seed in range(20):
        text = corpus.trace(rec, "reflective", random.Random(seed))
        think = text.split("<think>")[1].split("</think>")[0].strip().splitlines()
        misses = [i for i, line in enumerate(think) if line.startswith("wait, ")]
        assert misses and think[-2:] == ["3 * 10 = 30", "30 + 2 = 32"]
        for i in misses:  # each miss: two lines folding 3, 10, 2 in that order, then the check against 32
            (a, _, b, c), (c2, _, d, v) = corpus.parse_lines("\n".join(think[i - 2:i]))
            assert (a, b, d) == (3, 10, 2) and c2 == c and v != 32
            assert think[i] == f"wait, {v} is not 32"


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
