"""r1.filters: each filter drops the row it must and keeps the one it must."""

import polars as pl
import pytest

from r1.data import filters

GOOD = ("|special_token| First, 3 + 4 = 7.\nThen 7 * 2 = 14.\nSo the result is 14. |special_token| "
        "The answer is <answer> 14 </answer>")


def frame(*rows):
    return pl.DataFrame([{"id": f"t{i}", "kind": k, "prompt": p, "completion": c} for i, (k, p, c) in enumerate(rows)])


def test_mixed_language_drops_a_cot_in_two_scripts_and_keeps_an_english_one():
    mixed = "|special_token| First, 3 + 4 = 7. 然后 乘以 二 得到 十四. |special_token| <answer> 14 </answer>"
    df = frame(("math", "p1", GOOD), ("math", "p2", mixed))
    kept, dropped = filters.mixed_language(df, min_score=0.9)
    assert kept["prompt"].to_list() == ["p1"] and dropped == 1


def test_mixed_language_drops_a_row_that_cannot_be_scored():
    df = frame(("math", "p1", GOOD), ("math", "p2", "x"))
    kept, _ = filters.mixed_language(df, min_score=0.5, scores=[1.0, None])
    assert kept["prompt"].to_list() == ["p1"]


@pytest.mark.parametrize("garbled", [
    "|special_token|ststst Fuulu soution is <answer> 7 </answer>",  # one marker: no summary
    "|special_token| first 3 + 4 = 7 |special_token| |special_token| <answer> 7 </answer>",  # three markers
    "|special_token| first 3 + 4 = 7 |special_token| the answer is 7",  # no answer tags in the summary
    "<think> first 3 + 4 = 7 </think> <answer> 7 </answer>",  # R1-Zero's tags, not the readable pattern
])
def test_unreadable_drops_a_broken_pattern_and_keeps_a_readable_one(garbled):
    kept, dropped = filters.unreadable(frame(("math", "p1", GOOD), ("math", "p2", garbled)))
    assert kept["prompt"].to_list() == ["p1"] and dropped == 1


def test_long_paragraph_drops_a_wall_of_text_and_keeps_short_steps():
    wall = "|special_token| " + "then add the numbers again " * 40 + "|special_token| <answer> 14 </answer>"
    df = frame(("math", "p1", GOOD), ("math", "p2", wall))
    kept, dropped = filters.long_paragraphs(df, max_chars=600)
    assert kept["prompt"].to_list() == ["p1"] and dropped == 1


def test_long_paragraph_counts_paragraphs_not_the_whole_text():
    many = "|special_token| " + "\n\n".join(["First, 3 + 4 = 7."] * 60) + " |special_token| <answer> 7 </answer>"
    assert len(many) > 600 and filters.longest_paragraph(many) < 600
    kept, _ = filters.long_paragraphs(frame(("math", "p", many)), max_chars=600)
    assert len(kept) == 1


@pytest.mark.parametrize("code", [
    "|special_token| ```python\nprint(3 + 4)\n``` |special_token| <answer> 7 </answer>",
    "|special_token| def f():\n    return 7 |special_token| <answer> 7 </answer>",
])
def test_code_block_in_a_math_answer_is_dropped(code):
    kept, dropped = filters.code_blocks(frame(("math", "p1", GOOD), ("countdown", "p2", code)))
    assert kept["prompt"].to_list() == ["p1"] and dropped == 1


def test_code_block_in_a_code_answer_is_kept():
    code = "|special_token| Keep x if x < 10. |special_token| <answer> def f(ns):\n    return ns </answer>"
    kept, dropped = filters.code_blocks(frame(("code", "p1", code)))
    assert len(kept) == 1 and dropped == 0


def test_exact_duplicates_ignore_case_and_spacing_and_keep_the_first():
    df = frame(("math", "p1", GOOD), ("math", "p1", GOOD.upper().replace(" ", "  ")), ("math", "p2", GOOD))
    kept, dropped = filters.exact_duplicates(df)
    assert kept["id"].to_list() == ["t0", "t2"] and dropped == 1


def test_near_duplicates_within_a_prompt_are_dropped_distinct_ones_kept():
    long = GOOD.replace("So the result", "Wait, check: 7 * 2 = 14, yes.\nThen 14 - 0 = 14.\n"
                                          "Check again: 3 + 4 = 7 and 7 + 7 = 14.\nSo the result")
    near = long.replace("So the result is 14.", "So the result is 14 indeed.")
    other = ("|special_token| First, 2 * 7 = 14.\nWait, check: 14 / 2 = 7, yes.\nSo the result is 14. |special_token| "
             "The answer is <answer> 14 </answer>")
    df = frame(("math", "p1", long), ("math", "p1", near), ("math", "p1", other), ("math", "p2", near))
    assert filters.jaccard(filters.shingles(long, 3), filters.shingles(near, 3)) >= 0.8
    kept, dropped = filters.near_duplicates(df, threshold=0.8, k=3)
    # the near copy under p1 goes; the distinct sample and the same text under another prompt stay
    assert kept["id"].to_list() == ["t0", "t2", "t3"] and dropped == 1


def test_apply_all_reports_each_filter():
    df = frame(("math", "p1", GOOD), ("math", "p1", GOOD), ("countdown", "p2", "|special_token| ```x``` "
                                                                             "|special_token| <answer> 1 </answer>"))
    kept, stats = filters.apply_all(df, min_language=0.0, max_paragraph_chars=600, near_dup_threshold=0.8,
                                    shingle_words=3, language=[1.0, 1.0, 1.0])
    assert len(kept) == 1
    assert stats == {"input": 3, "mixed_language": 0, "unreadable": 0, "wrong_steps": 0, "long_paragraph": 0, "code_block": 1,
                     "exact_duplicate": 1, "near_duplicate": 0, "kept": 1}


def test_wrong_steps_drops_a_right_answer_after_a_false_step_and_keeps_a_caught_slip():
    from r1.data.filters import steps_hold, wrong_steps

    false_step = "|special_token| first 13 - 2 = 11\n11 - 12 = 1 |special_token| <answer> (13 - 2) + 12 </answer>"
    true_steps = "|special_token| first 13 - 2 = 11\n11 + 12 = 23 |special_token| <answer> (13 - 2) + 12 </answer>"
    caught = "|special_token| first 4 + 5 = 10\nwait, 4 + 5 = 9\n9 * 2 = 18 |special_token| <answer> 18 </answer>"
    division = "|special_token| first 8 - 5 = 3\n3 / 5 = 1 |special_token| <answer> 1 </answer>"
    negative = "|special_token| first 3 - 7 = -4\n-4 + 10 = 6 |special_token| <answer> 6 </answer>"
    assert not steps_hold(false_step) and not steps_hold(division)
    assert steps_hold(true_steps) and steps_hold(caught) and steps_hold(negative)
    df = pl.DataFrame({"id": ["a", "b", "c"], "kind": ["countdown", "countdown", "math"], "prompt": ["p", "p", "q"],
                       "completion": [false_step, true_steps, caught]})
    kept, dropped = wrong_steps(df)
    assert dropped == 1 and kept["id"].to_list() == ["b", "c"]


def _near_duplicates_reference(df, threshold, k):
    """The definition: each row against the earlier kept rows of its prompt, by shingle-set Jaccard."""
    kept_by: dict = {}
    keep = []
    for prompt, text in zip(df["prompt"], df["completion"]):
        sh = filters.shingles(text, k)
        others = kept_by.setdefault(prompt, [])
        dup = any(filters.jaccard(sh, o) >= threshold for o in others)
        keep.append(not dup)
        if not dup:
            others.append(sh)
    return keep


@pytest.mark.parametrize("k,threshold", [(3, 0.8), (2, 0.5), (5, 0.3)])
def test_near_duplicates_agree_with_the_pairwise_definition(k, threshold):
    import random

    rng = random.Random(k)
    words = "we add the two numbers then check the sum again and wait it holds".split()
    recs = []
    for i in range(400):
        prompt = f"p{rng.randint(0, 60)}"
        if recs and rng.random() < 0.4:  # an edit of an earlier text: near copies, chains of them
            source = rng.choice(recs)
            prompt = source[1]  # near copies arise among one prompt's samples
            base = source[2].split() or ["we"]
            base[rng.randrange(len(base))] = rng.choice(words)
            text = " ".join(base)
        else:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(0, 14)))
        recs.append(("math", prompt, text))
    df = frame(*recs)
    kept, dropped = filters.near_duplicates(df, threshold=threshold, k=k)
    want = _near_duplicates_reference(df, threshold, k)
    assert kept["id"].to_list() == [i for i, w in zip(df["id"], want) if w]
    assert dropped == want.count(False) > 20


def test_normalized_expression_agrees_with_normalize():
    texts = ["Hello,  World!", "déjà VU: ÉTÉ\n\tça", "x_1 = 2*y", "", "Ünïcödé 数学 題 42",
             "MIXED case\u00a0nbsp"]
    got = pl.DataFrame({"t": texts}).select(filters.normalized("t")).to_series().to_list()
    assert got == [filters.normalize(t) for t in texts]


def test_code_expression_agrees_with_has_code():
    texts = ["```py\nx\n```", "so\n  def f(x): ...", "import os", "from math import pi", "we return home",
             "x\nreturn 1", "print(1)", "a = print(2)", "", None, "class A", "no code here\n\tclass B: pass"]
    got = pl.DataFrame({"t": texts}, schema={"t": pl.Utf8}).select(filters.code_expr("t")).to_series().to_list()
    assert got == [filters.has_code(t) for t in texts]
    assert sum(got) >= 6
