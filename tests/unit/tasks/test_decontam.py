import itertools

import pytest

from r1 import config

from r1.tasks import decontam
from r1.tasks.pools import generate

TRAIN = "Ann has 7 pens. Ann buys 5 more. How many pens now?"


def test_words_split_punctuation_and_keep_numbers():
    assert decontam.words("Write add_k(xs): add 7, then 42!") == ["write", "add", "k", "xs", "add", "7", "then", "42"]


def test_ngrams_and_short_texts():
    assert decontam.ngrams("a b c d", 3) == {("a", "b", "c"), ("b", "c", "d")}
    assert decontam.ngrams("Make 21 from 3, 7.", 8) == {("make", "21", "from", "3", "7")}


def test_injected_overlap_is_detected():
    index = decontam.NgramIndex(8, [TRAIN])
    injected = "Bob says: ann buys 5 more, how many pens now? Really."  # shares "ann buys 5 more how many pens now"
    gram, owner = index.shared(injected)
    assert gram == ("ann", "buys", "5", "more", "how", "many", "pens", "now") and owner == TRAIN
    assert index.shared("Ann has 7 pens. Ann buys 6 more. How many pens now?") is None
    found = decontam.overlaps([injected, "Eve has 2 cups."], [TRAIN], 8)
    assert [f["eval"] for f in found] == [injected]


def test_draw_skips_duplicates_and_overlaps():
    index = decontam.NgramIndex(8, [TRAIN])
    seen = {"Seen before."}
    stream = iter([{"prompt": "Seen before."}, {"prompt": TRAIN}, {"prompt": "Kim has 3 kites. Kim loses 1."},
                   {"prompt": "Kim has 3 kites. Kim loses 1."}, {"prompt": "Uma has 9 nuts."}]).__next__
    recs, draws = decontam.draw(stream, 2, seen, index)
    assert [r["prompt"] for r in recs] == ["Kim has 3 kites. Kim loses 1.", "Uma has 9 nuts."]
    assert draws == 5 and "Uma has 9 nuts." in seen


def test_draw_fails_clearly_when_it_cannot():
    same = itertools.repeat({"prompt": "Always the same."}).__next__
    with pytest.raises(decontam.DecontamError, match=r"code eval: found only 1 of 3 clean items in 50 draws"):
        decontam.draw(same, 3, set(), label="code eval", max_draws=50)


def test_generated_splits_are_clean_and_counted():
    cfg = config.load("ci").tasks
    train, evals = generate(cfg, seed=7)
    assert decontam.overlaps(evals["prompt"], train["prompt"], cfg.decontam_ngram) == []
    prompts = train["prompt"].to_list() + evals["prompt"].to_list()
    assert len(set(prompts)) == len(prompts)
    for frame, want in ((train, cfg.n_train), (evals, cfg.n_eval)):
        assert dict(frame.group_by("kind").len().iter_rows()) == want


def test_default_profile_decontaminates_without_starving_a_shape():
    # Templates with too few variable slots make most eval candidates collide; then eval loses whole shapes.
    cfg = config.load("default").tasks
    train, evals = generate(cfg, seed=1234)
    math_eval = evals.filter(evals["kind"] == "math")["solution"].to_list()
    assert any("/" in s for s in math_eval) and any("*" in s for s in math_eval)
    code_eval = set(evals.filter(evals["kind"] == "code")["entry_point"])
    from r1.tasks.families.code import TEMPLATES
    assert sum(bool(code_eval & set(t.names)) for t in TEMPLATES) >= len(TEMPLATES) - 2
