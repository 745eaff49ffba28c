"""bench/reflection_by_mode.py: accuracy by mode, and reflective vs plain reasoning within items."""

import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import reflection_by_mode  # noqa: E402

REASONS = " <think> 7 + 10 = 17 </think> <answer> 17 </answer>"
REFLECTS = " <think> 19?\nwait, 7 + 10 = 17 </think> <answer> 17 </answer>"
AT_ONCE = " <think> </think> <answer> 19 </answer>"


def _samples(rows):
    from r1.tasks.schema import reflects

    return pl.DataFrame([{"kind": k, "id": i, "completion": c, "correct": ok, "tokens": len(c.split()),
                          "reflects": reflects(c)} for k, i, c, ok in rows])


def test_modes_are_told_apart_and_scored():
    s = _samples([("math", "a", REASONS, True), ("math", "a", REFLECTS, False), ("math", "a", AT_ONCE, False),
                  ("math", "b", REASONS, False), ("math", "b", REFLECTS, True), ("math", "b", REFLECTS, True)])
    table = {r["mode"]: r for r in reflection_by_mode.by_mode(s).to_dicts()}
    assert {m: (r["samples"], r["accuracy"]) for m, r in table.items()} == {
        "reasons": (2, 0.5), "reflects": (3, 0.667), "answers at once": (1, 0.0)}


def test_within_items_compares_on_the_same_items_only():
    # item c never reflects: left out; item a reflects (wrong) beside plain reasoning (right)
    s = _samples([("math", "a", REASONS, True), ("math", "a", REFLECTS, False),
                  ("math", "b", REASONS, False), ("math", "b", REFLECTS, True),
                  ("math", "c", REASONS, False), ("math", "c", REASONS, False)])
    row = reflection_by_mode.within_items(s).to_dicts()[0]
    assert row == {"kind": "math", "items": 2, "reflective": 0.5, "reasoning": 0.5}
    s2 = s.filter(pl.col("id") != "b")
    assert reflection_by_mode.within_items(s2).to_dicts()[0]["reasoning"] == 1.0


def test_after_a_miss_tells_a_retry_from_an_answered_miss():
    hit = " <think> 4 + 10 = 14\n14 - 5 = 9\n9 is 9 </think> <answer> (4 + 10) - 5 </answer>"
    answered = " <think> 4 + 10 = 14\n14 + 5 = 19\n19 is not 9 </think> <answer> (4 + 10) + 5 </answer>"
    retried = answered.replace("19 is not 9 </think>", "19 is not 9\nwait, 4 + 10 = 14\n14 - 5 = 9\n9 is 9 </think>")
    s = _samples([("countdown", "a", hit, True), ("countdown", "a", answered, False),
                  ("countdown", "a", retried, True), ("countdown", "b", retried, False),
                  ("countdown", "b", AT_ONCE, False), ("math", "c", answered, False)])
    table = {r["then"]: (r["samples"], r["accuracy"]) for r in reflection_by_mode.after_a_miss(s).to_dicts()}
    assert table == {"no miss seen": (1, 1.0), "miss, answers it": (1, 0.0), "miss, retries": (2, 0.5)}
