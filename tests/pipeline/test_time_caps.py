"""A clock never decides an artifact: on the ci build, every capped stage run with a clock 10^9 times too fast stops
with the error that names its cap, publishes nothing, and its rerun (resuming where the stage can) rebuilds the same
bytes as the build that was never stopped."""

from __future__ import annotations

import shutil

import pytest

from helpers.pipeline import env, run
from r1 import config
from r1.build import dag
from r1.build.artifacts import MANIFEST, hash_path, is_run_sidecar, read_manifest
from r1.build.clock import CAPPED, SCALE_ENV


@pytest.fixture(scope="module")
def repo(ci_build, tmp_path_factory):
    built, _ = ci_build
    copy = tmp_path_factory.mktemp("caps") / "repo"
    shutil.copytree(built, copy, symlinks=True)
    return copy


def _content(path):
    """An artifact's bytes but the manifest's `code` and `inputs`: the copy's git revision moves as the tests commit,
    and the input hashes cover the inputs' own manifests (the bytes of every input are compared at its own stage)."""
    if path.is_file():
        return hash_path(path)
    files = {str(p.relative_to(path)): hash_path(p) for p in sorted(path.rglob("*")) if p.is_file()
             and p.name != MANIFEST and not is_run_sidecar(p.name) and not p.name.startswith(".")}
    manifest = {k: v for k, v in read_manifest(path).items() if k not in ("code", "inputs")}
    return files, manifest


def _capped_stages(repo):
    stages = dag.for_params(config.load("ci", root=repo))
    return [s for s in stages.values() if s.module in CAPPED]


def test_every_capped_stage_fails_clearly_then_resumes_to_the_same_artifact(repo):
    import subprocess

    stages = _capped_stages(repo)
    assert {s.module for s in stages} == set(CAPPED)
    for stage in stages:
        before = {out: _content(repo / out) for out in stage.outs}
        for out in stage.outs:
            shutil.rmtree(repo / out)
        shutil.rmtree(repo / "cache", ignore_errors=True)  # a shard's chunk cache would leave it nothing to do
        cmd = stage.command("ci").split()
        fast = subprocess.run(cmd, cwd=repo, env={**env(), SCALE_ENV: "1e9"}, capture_output=True, text=True,
                              timeout=600)
        assert fast.returncode != 0, (stage.name, fast.stderr[-2000:])
        message = fast.stderr.strip().splitlines()[-1]
        assert message.startswith(f"{stage.name}: time cap time_caps.minutes.{stage.module} = 10 min reached at "
                                  "step "), message
        assert "nothing was published" in message and f"snakemake {stage.name}" in message, message
        assert not any((repo / out).exists() for out in stage.outs), stage.name
        run(cmd, repo)  # the cap as shipped: continues from what the stopped run kept
        assert {out: _content(repo / out) for out in stage.outs} == before, stage.name
