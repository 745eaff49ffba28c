"""`r1 pull` (r1.build.record.pull) on a tiny DVC repo with a directory remote: it pulls what dvc.lock records (a
partial build), refuses a remote that does not verify downloads, and a corrupted object fails it naming the file.
The same against S3: tests/pipeline/test_s3.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from helpers.pipeline import BIN, run
from r1.build import dag, record

DVC_YAML = """stages:
  a:
    cmd: mkdir -p art && echo built-a > art/payload
    outs: [art]
  b:
    cmd: mkdir -p brt && cat art/payload > brt/payload
    deps: [art]
    outs: [brt]
"""
STAGES = {"a": dag.Stage("a", outs=("art",)), "b": dag.Stage("b", needs=("a",), outs=("brt",), deps=("art",))}


def _dvc(repo: Path, *args: str):
    return run([str(BIN / "dvc"), *args], repo)


@pytest.fixture
def pushed(tmp_path):
    """A repo where only stage `a` is built and recorded, pushed to a directory remote that verifies; and a clone
    of it with neither cache nor outputs."""
    repo, remote = tmp_path / "repo", tmp_path / "remote"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "r", str(remote))
    _dvc(repo, "remote", "modify", "r", "verify", "true")
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "art").mkdir()
    (repo / "art/payload").write_text("built-a\n" * 200)
    _dvc(repo, "commit", "--force", "-q", "a")
    _dvc(repo, "push", "-q")
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "a"], repo)
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    return repo, remote, clone


def test_a_partial_build_pulls_what_the_lock_records(pushed):
    """Plain `dvc pull` fails here (stage b has no hash to check out); r1 pull fetches a and leaves b to build."""
    repo, _, clone = pushed
    assert record.locked(STAGES, clone) == ["a"]
    assert run([str(BIN / "dvc"), "pull"], clone, check=False).returncode != 0
    shutil.rmtree(clone / "art", ignore_errors=True)
    assert record.pull(STAGES, clone, log=lambda _: None) == ["a"]
    assert (clone / "art/payload").read_bytes() == (repo / "art/payload").read_bytes()
    assert not (clone / "brt").exists()


def test_a_remote_that_does_not_verify_is_refused(pushed):
    _, _, clone = pushed
    _dvc(clone, "remote", "modify", "r", "verify", "false")
    with pytest.raises(record.RecordError, match=r"remote 'r' does not verify .* `dvc remote modify r verify true`"):
        record.pull(STAGES, clone, log=lambda _: None)
    assert not (clone / "art").exists()


def test_a_corrupted_object_fails_the_pull_naming_the_file(pushed):
    _, remote, clone = pushed
    victim = next(p for p in remote.rglob("*") if p.is_file() and p.stat().st_size > 1000)
    victim.write_bytes(b"corrupt")
    with pytest.raises(record.RecordError) as err:
        record.pull(STAGES, clone, log=lambda _: None)
    assert "Corrupted in the remote (1)" in str(err.value) and str(err.value).rstrip().endswith("`dvc repro <stage>`).")
    assert "art/payload" in str(err.value)
    assert not (clone / "art/payload").exists()


def test_nothing_recorded_says_so(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "r", str(tmp_path / "remote"))
    _dvc(repo, "remote", "modify", "r", "verify", "true")
    (repo / "dvc.yaml").write_text(DVC_YAML)
    with pytest.raises(record.RecordError, match="dvc.lock records no stage"):
        record.pull(STAGES, repo, log=lambda _: None)
