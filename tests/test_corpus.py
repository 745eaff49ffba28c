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
