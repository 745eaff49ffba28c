"""Snakemake builds, DVC versions: one build state for both front-ends (r1.build.record)."""

from __future__ import annotations

import json

from helpers.pipeline import BIN, copy_repo, planned_rules, run, snakemake

DVC = str(BIN / "dvc")


def test_a_snakemake_build_is_recorded_for_dvc(ci_build):
    """After `snakemake all`, DVC knows every artifact: status is clean and `dvc repro` runs nothing."""
    repo, _ = ci_build
    assert "Data and pipelines are up to date" in run([DVC, "status"], repo).stdout
    assert "Running stage" not in run([DVC, "repro", "--dry"], repo).stdout
    assert not list((repo / ".r1" / "finished").glob("*"))  # every marker recorded


def test_after_dvc_repro_snakemake_builds_only_the_rest(tmp_path):
    """The mixed order: `dvc repro r1_zero` builds part 1's start; Snakemake then plans only what DVC did not."""
    repo = copy_repo(tmp_path / "repo")
    run([DVC, "repro", "r1_zero"], repo)
    planned = planned_rules(snakemake(repo, "-n", "report").stdout)
    assert planned and not planned & {"tasks", "base", "r1_zero"}, planned
    assert {"cold_start", "eval_r1_zero", "report"} <= planned


def test_push_refuses_built_artifacts_dvc_has_no_record_of(tmp_path):
    """Never "Everything is up to date" while nothing was stored: an artifact built but not recorded stops the push
    with what to run; once recorded (a marker from its stage), it is pushed."""
    repo = copy_repo(tmp_path / "repo")
    remote = tmp_path / "remote"
    run([DVC, "remote", "modify", "local", "url", str(remote)], repo)
    run(["python", "-m", "r1.stages.tasks", "--profile", "ci"], repo)
    marker = repo / ".r1" / "finished" / "tasks"
    assert json.loads(marker.read_text()) == {"stage": "tasks", "profile": "ci"}
    marker.unlink()  # as if built before this change, or copied in by hand
    refused = run(["python", "-m", "r1.cli", "push"], repo, check=False)
    assert refused.returncode == 1 and "not recorded for DVC" in refused.stderr and "tasks" in refused.stderr
    assert not remote.exists()
    run(["python", "-m", "r1.stages.tasks", "--profile", "ci"], repo)  # a build leaves its marker
    pushed = run(["python", "-m", "r1.cli", "push"], repo)
    assert "1 stage(s) recorded" in pushed.stdout and any(remote.rglob("*.dir"))


def test_the_snakemake_report_carries_the_results(ci_build, tmp_path):
    repo, _ = ci_build
    html = tmp_path / "report.html"
    snakemake(repo, f"--report={html}")
    text = html.read_text(errors="replace")
    for name in ("eval.md", "effects.md", "eval.json", "Training curves", "Results"):
        assert name in text, name
    assert "r1_zero_curves" in text or ".png" in text
