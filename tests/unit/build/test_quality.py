import json
import time

import polars as pl
import pytest

from r1.build import quality  # noqa: I001 - first, so its GX environment defaults apply
import great_expectations.expectations as gxe
from great_expectations.expectations.row_conditions import Column

SUITE = [
    gxe.ExpectColumnValuesToBeUnique(column="id"),
    gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["math", "code"]),
    gxe.ExpectColumnValuesToNotBeNull(column="answer", row_condition=Column("kind") == "math"),
]


def frame(**overrides):
    data = {"id": ["a", "b", "c"], "kind": ["math", "code", "math"], "answer": ["1", None, "3"]}
    data.update(overrides)
    return pl.DataFrame(data)


def test_clean_frame_passes():
    report = quality.require(quality.check(frame(), "demo", SUITE))
    assert report.success and len(report.results) == 3 and report.n_rows == 3
    json.dumps(report.to_dict())  # quality.json must serialise


def test_failures_are_named_with_column_observed_and_examples():
    bad = frame(id=["a", "a", "c"], kind=["math", "code", "poem"], answer=[None, None, "3"])
    report = quality.check(bad, "demo", SUITE)
    assert not report.success
    with pytest.raises(quality.QualityError) as err:
        quality.require(report)
    msg = str(err.value)
    assert "quality suite 'demo': 0/3 expectations passed on 3 rows" in msg
    assert "FAILED expect_column_values_to_be_unique on column 'id'" in msg
    assert "FAILED expect_column_values_to_be_in_set on column 'kind'" in msg and "c: 'poem'" in msg
    assert "FAILED expect_column_values_to_not_be_null on column 'answer' {'row_condition': \"kind == 'math'\"}" in msg
    assert "1 of 1 rows unexpected" in msg


def test_missing_column_is_a_readable_failure():
    report = quality.check(frame(), "demo", [gxe.ExpectColumnValuesToNotBeNull(column="prompt")])
    assert not report.success
    assert 'The column "prompt" in BatchData does not exist' in report.summary()


def test_computed_checks_join_the_report():
    report = quality.check(frame(), "demo", SUITE)
    report.add("no_overlap", False, observed="2 eval prompts", examples=["x ~ y"] * 9, column="prompt")
    assert not report.success
    assert report.failed[0].examples == ["x ~ y"] * quality.N_EXAMPLES
    assert "FAILED no_overlap on column 'prompt'\n    observed: 2 eval prompts" in report.summary()


def test_expectations_are_reusable_and_context_is_cached():
    quality.check(frame(), "first", SUITE)
    context = quality._context()
    start = time.time()
    assert quality.check(frame(), "second", SUITE).success  # the same expectation objects in a second suite
    assert quality._context() is context
    assert time.time() - start < 5


def test_a_compound_row_condition_reads_as_one_line():
    both = (Column("kind") == "math") & (Column("id") != "c")
    report = quality.check(frame(answer=[None, None, None]), "demo",
                           [gxe.ExpectColumnValuesToNotBeNull(column="answer", row_condition=both)])
    assert not report.success  # row a: math, not c, no answer
    assert report.results[0].kwargs["row_condition"] == "kind == 'math' and id != 'c'"
