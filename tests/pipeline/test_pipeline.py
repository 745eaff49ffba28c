"""End to end: the whole DAG on the ci profile with Snakemake, in a scratch copy; then incremental planning."""

from __future__ import annotations

import json
import polars as pl
import pytest

from helpers.pipeline import edited_yaml, planned_rules, run, snakemake
from r1 import config
from r1.build import dag

REPORT_KEYS = {"pass@1", "cons@k", "pass@k", "mean_response_tokens", "format_rate", "reflection_rate", "by_family"}


@pytest.fixture(scope="module")
def built(ci_build):
    return ci_build


def test_ci_profile_builds_every_artifact(built):
    repo, seconds = built
    cfg = config.load("ci", root=repo)
    for stage in dag.for_params(cfg).values():
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
    assert planned == {f"eval_{m}" for m in config.load("ci", root=repo).eval.models} | {"report"}


def _planned_after_editing(repo, rel: str) -> set[str]:
    path = repo / rel
    original = path.read_text()
    try:
        path.write_text(original + "\n# touched\n")
        return planned_rules(snakemake(repo, "-n", "all").stdout)
    finally:
        path.write_text(original)


def test_editing_a_stage_s_code_reruns_it_and_its_descendants(built):
    repo, _ = built
    assert _planned_after_editing(repo, "r1/eval/report.py") == {"report"}


@pytest.mark.parametrize("rel", ["r1/build/checkpoints.py", "r1/tasks/pools.py", "r1/data/filters.py"])
def test_editing_any_imported_file_reruns_exactly_its_importers_and_their_descendants(built, rel):
    """Code dependencies come from the stages' imports (r1.build.codedeps): a library file that nobody listed by hand
    (checkpoints.py, imported by the GRPO and SFT runners) still reruns every stage that runs it."""
    repo, _ = built
    stages = dag.for_params(config.load("ci", root=repo))
    importers = {name for name, s in stages.items() if rel in s.code}
    assert importers, f"no stage imports {rel}"
    assert _planned_after_editing(repo, rel) == dag.descendants(stages, importers)


def test_editing_a_file_no_stage_imports_reruns_nothing(built):
    repo, _ = built
    stages = dag.for_params(config.load("ci", root=repo))
    assert not any("r1/cli.py" in s.code for s in stages.values())
    assert _planned_after_editing(repo, "r1/cli.py") == set()


def test_lineage_walks_back_to_the_tasks(built):
    repo, _ = built
    out = run(["python", "-m", "r1.cli", "lineage", "models/r1_zero"], repo).stdout
    assert "stage=r1_zero" in out and "stage=base" in out and "stage=tasks" in out
