"""End to end with your own task files: the GSM8K, Countdown-Tasks-3to4 and HumanEval fixture files declared as
`tasks.sources` on the ci profile, built by Snakemake through tasks -> base -> r1_zero in a scratch copy of the repo.

Every generated family is switched off for train (n_train 0), so each prompt R1-Zero trains on is an imported one:
the rewards logged at each step score imported rows. (A HumanEval `check(candidate)` harness scores once the verify
branch's harness support is merged; until then its code rows score None and the math and countdown rows carry the
accuracy; tests/unit/tasks/test_imports.py has the code assertion, marked xfail until then.)
"""

from __future__ import annotations

import csv
import json
import math

import polars as pl
import pytest
import yaml

from helpers.pipeline import copy_repo, planned_rules, snakemake

FIXTURES = "tests/fixtures/tasks"
SOURCES = [
    {"path": f"{FIXTURES}/gsm8k.jsonl", "layout": "gsm8k", "eval_share": 0.25},
    {"path": f"{FIXTURES}/countdown.parquet", "layout": "countdown"},
    {"path": f"{FIXTURES}/humaneval.jsonl", "layout": "code", "name": "he", "eval_share": 0.4},
]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    repo = copy_repo(tmp_path_factory.mktemp("imports_build"))
    overlay = repo / "configs/ci.yaml"
    ci = yaml.safe_load(overlay.read_text())
    ci["tasks"].update(sources=SOURCES, n_train={"math": 0, "countdown": 0, "code": 0})
    overlay.write_text(yaml.safe_dump(ci, sort_keys=False))
    snakemake(repo, "r1_zero")
    return repo


def test_imported_rows_are_split_and_gated(built):
    train = pl.read_parquet(built / "data/tasks/train.parquet")
    held_out = pl.read_parquet(built / "data/tasks/eval.parquet")
    counts = lambda df: dict(sorted(df.group_by("origin").len().iter_rows()))  # noqa: E731
    assert counts(train) == {"countdown": 6, "gsm8k": 6, "he": 3}  # every train row imported
    assert counts(held_out)["gsm8k"] == 2 and counts(held_out)["he"] == 2
    assert set(train["kind"]) == {"math", "countdown", "code"}
    report = json.loads((built / "data/tasks/quality.json").read_text())
    assert report["success"]
    observed = {r["expectation"]: r["observed"] for r in report["results"]}
    assert observed["imported_countdown"]["dropped"] == {"unreachable_target": 1}
    manifest = json.loads((built / "data/tasks/manifest.json").read_text())
    assert {s["path"] for s in SOURCES} <= set(manifest["inputs"])


def test_base_and_r1_zero_train_on_the_imported_rows(built):
    assert (built / "models/base/manifest.json").exists()
    with open(built / "models/r1_zero/metrics.tsv") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    assert rows, "r1_zero logged no step"
    numeric = lambda v: v not in ("", None) and not math.isnan(float(v))  # noqa: E731
    assert all(numeric(r["reward"]) for r in rows)
    # only imported prompts are trained on, so a scored accuracy is a reward computed on imported rows
    assert any(numeric(r["accuracy"]) for r in rows), rows


def test_editing_a_task_file_reruns_tasks_and_what_follows(built):
    assert planned_rules(snakemake(built, "-n", "r1_zero").stdout) == set()
    path = built / SOURCES[0]["path"]
    original = path.read_bytes()
    try:
        path.write_bytes(original + b'{"question": "Is 2 + 2 four?", "answer": "2 + 2 = 4\\n#### 4"}\n')
        planned = planned_rules(snakemake(built, "-n", "r1_zero").stdout)
    finally:
        path.write_bytes(original)
    assert planned == {"tasks", "base", "r1_zero"}
