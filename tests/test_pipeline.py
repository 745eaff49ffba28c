"""End to end: the whole DAG on the ci profile with Snakemake, in a scratch copy; then incremental planning."""

from __future__ import annotations

import json
import polars as pl
import pytest

from pipeline_util import edited_yaml, planned_rules, run, snakemake
from r1 import config, dag

REPORT_KEYS = {"pass@1", "cons@k", "pass@k", "mean_response_tokens", "format_rate", "reflection_rate", "by_family"}


@pytest.fixture(scope="module")
def built(ci_build):
    return ci_build


def test_ci_profile_builds_every_artifact(built):
    repo, seconds = built
    cfg = config.load("ci", root=repo)
    for stage in dag.stages(cfg.eval.models):
        for out in stage.all_outs:
            assert (repo / out).exists(), f"{stage.name} did not produce {out}"
    for model in cfg.eval.models:
        manifest = json.loads((repo / "models" / model / "manifest.json").read_text())
        assert manifest["stage"] == model and manifest["profile"] == "ci"
    # target: under 10 minutes on a quiet 2-core machine; the bound leaves room for a loaded one
    assert seconds < 900, f"ci end-to-end took {seconds:.0f} s"


def test_datasets_validate(built):
    repo, _ = built
    train = pl.read_parquet(repo / "data/tasks/train.parquet")
    held_out = pl.read_parquet(repo / "data/tasks/eval.parquet")
    assert train["id"].is_unique().all() and held_out["id"].is_unique().all()
    assert not set(train["prompt"]) & set(held_out["prompt"])
    assert set(held_out["kind"]) == {"math", "countdown", "code"}


def test_eval_report_has_the_required_shape(built):
    repo, _ = built
    report = json.loads((repo / "reports/eval.json").read_text())
    assert set(report) == set(config.load("ci", root=repo).eval.models)
    for metrics in report.values():
        assert REPORT_KEYS <= set(metrics)
        assert set(metrics["by_family"]) == {"math", "countdown", "code"}
        assert 0.0 <= metrics["pass@1"] <= metrics["pass@k"] <= 1.0
    assert (repo / "reports/eval.md").read_text().count("|") > 10
    assert list((repo / "reports/plots").glob("*.png"))


def test_snakemake_plans_nothing_after_a_build(built):
    repo, _ = built
    out = snakemake(repo, "-n", "all").stdout
    assert planned_rules(out) == set(), out[-2000:]


def test_changing_one_param_reruns_exactly_its_descendants(built):
    repo, _ = built
    with edited_yaml(repo / "configs/ci.yaml", "eval.k", 3):
        planned = planned_rules(snakemake(repo, "-n", "all").stdout)
    assert planned == {f"eval_{m}" for m in config.load("ci", root=repo).eval.models} | {"eval"}


def test_editing_a_stage_s_code_reruns_it_and_its_descendants(built):
    repo, _ = built
    report_py = repo / "r1/report.py"
    original = report_py.read_text()
    try:
        report_py.write_text(original + "\n# touched\n")
        planned = planned_rules(snakemake(repo, "-n", "all").stdout)
    finally:
        report_py.write_text(original)
    assert planned == {"eval"}


def test_lineage_walks_back_to_the_tasks(built):
    repo, _ = built
    out = run(["python", "-m", "r1.cli", "lineage", "models/r1_zero"], repo).stdout
    assert "stage=r1_zero" in out and "stage=base" in out and "stage=tasks" in out
