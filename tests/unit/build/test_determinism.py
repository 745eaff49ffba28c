"""Determinism of artifacts: the manifest holds no timing (the run sidecars do), two runs of a stage write the same
bytes, and DVC leaves the sidecars (run.json, throughput.tsv, <name>.run.json) out of a directory out's hash, push
and pull. The full two-build comparison is bench/determinism.py (minutes); these are the fast checks of each piece;
each writer's own test checks its files with `artifacts.timing_fields`, and the ci_build fixture checks every file of
the whole ci build."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

from r1.build import artifacts

from r1 import config

from r1.build import lineage


def _write(out: Path, wall: float, timing: dict | None = None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "payload").write_text("same data")
    artifacts.write_manifest(out, "tasks", config.load("ci"), ["seed", "tasks"], [], wall, extra={"counts": {"a": 1}},
                             timing=timing)


def test_manifest_has_no_timing_and_the_sidecar_has_it(tmp_path):
    _write(tmp_path / "art", 12.345, timing={"build_seconds": 3.0})
    manifest = artifacts.read_manifest(tmp_path / "art")
    assert {"stage", "profile", "params", "inputs", "code", "packages"} <= set(manifest)
    assert not artifacts.timing_fields(tmp_path / "art" / "manifest.json"), manifest
    run = artifacts.read_run_info(tmp_path / "art")
    assert run["wall_seconds"] == 12.35 and run["build_seconds"] == 3.0
    assert run["host"] == socket.gethostname()
    assert run["started"] <= run["finished"]  # ISO 8601, same zone: string order is time order


def test_manifest_bytes_do_not_depend_on_the_clock_or_the_host(tmp_path, monkeypatch):
    _write(tmp_path / "one", 1.0)
    later = time.time() + 86400 * 400
    monkeypatch.setattr(artifacts.time, "time", lambda: later)
    monkeypatch.setattr(artifacts.socket, "gethostname", lambda: "another-host")
    _write(tmp_path / "two", 999.0)
    for name in (artifacts.MANIFEST, artifacts.RESOLVED_CONFIG, "payload"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert (tmp_path / "one" / artifacts.RUN_INFO).read_bytes() != (tmp_path / "two" / artifacts.RUN_INFO).read_bytes()
    assert artifacts.hash_path(tmp_path / "one") == artifacts.hash_path(tmp_path / "two")


def test_input_hashes_ignore_the_inputs_run_sidecar(tmp_path):
    """A downstream manifest records its inputs' hashes: an input's run.json must not enter them."""
    _write(tmp_path / "art", 1.0)
    before = artifacts.hash_path(tmp_path / "art")
    artifacts.write_run_info(tmp_path / "art", 2.0, now=time.time() + 1000)
    assert artifacts.hash_path(tmp_path / "art") == before
    (tmp_path / "art" / "payload").write_text("other data")
    assert artifacts.hash_path(tmp_path / "art") != before


def test_hash_path_skips_every_run_sidecar(tmp_path):
    _write(tmp_path / "art", 1.0)
    before = artifacts.hash_path(tmp_path / "art")
    (tmp_path / "art" / artifacts.THROUGHPUT).write_text("step\ttokens_per_s\n1\t123.4\n")
    (tmp_path / "art" / "base.run.json").write_text("{}")
    assert artifacts.hash_path(tmp_path / "art") == before
    assert artifacts.run_sidecar_of("reports/eval/base.json") == Path("reports/eval/base.run.json")
    assert artifacts.is_run_sidecar(artifacts.run_sidecar_of("reports/eval/r1_zero.json").name)
    assert not artifacts.is_run_sidecar("metrics.tsv") and not artifacts.is_run_sidecar("curve.tsv")


def test_timing_fields_finds_keys_at_any_depth_and_tsv_columns(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"summary": {"steps": 3, "minutes": 1.0}, "rows": [{"seconds": 2}]}))
    (tmp_path / "b.json").write_text(json.dumps({"metrics": {"pass@1": 0.5}, "params": {"max_minutes": 3}}))
    (tmp_path / "c.tsv").write_text("step\tloss\telapsed_s\n1\t2.0\t0.5\n")
    (tmp_path / "d.tsv").write_text("step\tloss\n1\t2.0\n")
    assert artifacts.timing_fields(tmp_path / "a.json") == {"minutes", "seconds"}
    assert artifacts.timing_fields(tmp_path / "b.json") == set()
    assert artifacts.timing_fields(tmp_path / "c.tsv") == {"elapsed_s"}
    assert artifacts.timing_fields(tmp_path / "d.tsv") == set()


def test_base_stage_twice_writes_identical_files_but_its_sidecars(tmp_path, monkeypatch):
    """A tiny base pretrained twice: weights, tokenizer, curve.tsv, manifest identical; tokens/s, which always
    differs between runs, only in the throughput sidecar."""
    import dataclasses

    from helpers.tiny import TINY, write_tasks

    from r1.build.stage import start
    from r1.stages import base as base_stage
    from r1.train import pretrain as base

    cfg = config.load("ci")
    cfg = dataclasses.replace(cfg, base=dataclasses.replace(
        cfg.base, model=TINY, corpus_examples=200, vocab_size=400, seq_len=128, batch_size=8, max_steps=4,
        warmup_steps=2, bf16=False))
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        write_tasks(tmp_path / name)
        artifacts.seed_everything(cfg.seed)
        base_stage.main(start("base", cfg))
    one, two = tmp_path / "one/models/base", tmp_path / "two/models/base"
    files = sorted(p.name for p in one.iterdir())
    assert files == sorted(p.name for p in two.iterdir())
    assert {"model.safetensors", base.CURVE, artifacts.MANIFEST, artifacts.RUN_INFO, artifacts.THROUGHPUT} <= set(files)
    differ = {f for f in files if (one / f).read_bytes() != (two / f).read_bytes()}
    assert differ <= set(artifacts.RUN_SIDECARS), differ
    assert not {f: artifacts.timing_fields(one / f) for f in files if f not in artifacts.RUN_SIDECARS
                and f != "tokenizer.json" and artifacts.timing_fields(one / f)}
    assert artifacts.hash_path(one) == artifacts.hash_path(two)


def test_tasks_stage_twice_writes_identical_files(tmp_path, monkeypatch):
    """The ci tasks stage, run twice with clocks a year apart: every file identical, the sidecar aside."""
    from r1.build.stage import entry
    from r1.stages import tasks as stage

    real_time = time.time
    for name, shift in (("one", 0.0), ("two", 86400 * 365.0)):
        (tmp_path / name).mkdir()
        monkeypatch.chdir(tmp_path / name)
        monkeypatch.setattr(time, "time", lambda: real_time() + shift)
        entry(stage.main, ["--profile", "ci"])
    monkeypatch.setattr(time, "time", real_time)
    one, two = tmp_path / "one/data/tasks", tmp_path / "two/data/tasks"
    files = sorted(p.name for p in one.iterdir())
    assert files == sorted(p.name for p in two.iterdir())
    assert {"manifest.json", "quality.json", "train.parquet", "eval.parquet", artifacts.RUN_INFO} <= set(files)
    differ = [f for f in files if (one / f).read_bytes() != (two / f).read_bytes()]
    assert differ == [artifacts.RUN_INFO], differ
    assert not artifacts.timing_fields(one / "quality.json"), (one / "quality.json").read_text()


def test_lineage_shows_wall_time_from_the_sidecar_and_says_when_it_is_absent(tmp_path):
    _write(tmp_path / "data/tasks", 7.25)
    text = lineage.format_chain(lineage.chain(Path("data/tasks"), root=tmp_path))
    assert "wall=7.25s" in text
    (tmp_path / "data/tasks" / artifacts.RUN_INFO).unlink()  # as after `dvc pull`: DVC does not carry it
    entry = lineage.chain(Path("data/tasks"), root=tmp_path)[0]
    assert entry["wall_seconds"] is None
    assert f"no {artifacts.RUN_INFO}" in lineage.format_chain([entry])


DVC_STAGE = """stages:
  art:
    cmd: "true"
    outs:
    - art
"""


def _dvc(repo: Path, *args: str) -> str:
    from helpers.pipeline import BIN, run

    return run([str(BIN / "dvc"), *args], repo).stdout


def _lock_md5(repo: Path) -> str:
    import yaml

    return yaml.safe_load((repo / "dvc.lock").read_text())["stages"]["art"]["outs"][0]["md5"]


def test_dvc_leaves_the_sidecar_out_of_the_directory_hash_push_and_pull(tmp_path, root):
    """With the project's .dvcignore: a changed run.json or throughput.tsv leaves the out's md5 and status alone, and a
    push/pull round trip carries the data but not the sidecars."""
    from helpers.pipeline import run

    repo, remote = tmp_path / "repo", tmp_path / "remote"
    repo.mkdir()
    run(["git", "init", "-q"], repo)
    _dvc(repo, "init", "-q")
    _dvc(repo, "remote", "add", "-d", "r", str(remote))
    shutil.copy(root / ".dvcignore", repo / ".dvcignore")
    (repo / "dvc.yaml").write_text(DVC_STAGE)
    _write(repo / "art", 1.0)
    (repo / "art" / artifacts.THROUGHPUT).write_text("step\ttokens_per_s\n1\t100.0\n")
    _dvc(repo, "commit", "--force", "-q")
    md5 = _lock_md5(repo)
    artifacts.write_run_info(repo / "art", 50.0, now=time.time() + 1000)  # another run's timing
    (repo / "art" / artifacts.THROUGHPUT).write_text("step\ttokens_per_s\n1\t250.0\n")
    assert "up to date" in _dvc(repo, "status")
    _dvc(repo, "commit", "--force", "-q")
    assert _lock_md5(repo) == md5
    listing = json.loads(next((repo / ".dvc/cache/files/md5").glob(f"{md5[:2]}/{md5[2:].removesuffix('.dir')}.dir"))
                         .read_text())
    assert {e["relpath"] for e in listing} == {"payload", artifacts.MANIFEST, artifacts.RESOLVED_CONFIG}
    _dvc(repo, "push", "-q")
    shutil.rmtree(repo / ".dvc/cache")
    shutil.rmtree(repo / "art")
    _dvc(repo, "pull", "-q")
    assert (repo / "art/payload").read_text() == "same data"
    assert not (repo / "art" / artifacts.RUN_INFO).exists() and not (repo / "art" / artifacts.THROUGHPUT).exists()
    assert "up to date" in _dvc(repo, "status")


def test_seed_everything_seeds_torch_imported_later():
    """torch seeds its default generator at random per process: a stage that imports torch after entry() seeded
    (reward models' new score head) must still start from the seed."""
    import subprocess
    import sys

    code = ("import sys; from r1.build.artifacts import seed_everything; assert 'torch' not in sys.modules; "
            "seed_everything(1234); import torch; print(torch.initial_seed())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "1234"
