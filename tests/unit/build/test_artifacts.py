import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from r1.build import artifacts

from r1 import config

from r1.build import lineage


def test_atomic_dir_appears_only_when_complete(tmp_path):
    final = tmp_path / "out"
    with artifacts.atomic_dir(final) as tmp:
        (tmp / "a.txt").write_text("a")
        assert not final.exists()
    assert (final / "a.txt").read_text() == "a"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_failure_keeps_the_previous_artifact(tmp_path):
    final = tmp_path / "out"
    with artifacts.atomic_dir(final) as tmp:
        (tmp / "v").write_text("1")
    with pytest.raises(RuntimeError):
        with artifacts.atomic_dir(final) as tmp:
            (tmp / "v").write_text("2")
            raise RuntimeError("killed")
    assert (final / "v").read_text() == "1"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


def test_atomic_dir_replaces_an_old_artifact(tmp_path):
    final = tmp_path / "out"
    for version in ("1", "2"):
        with artifacts.atomic_dir(final) as tmp:
            (tmp / "v").write_text(version)
    assert (final / "v").read_text() == "2"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_sigkill_inside_atomic_dir_leaves_no_artifact(tmp_path):
    script = textwrap.dedent(f"""
        import time
        from r1.build.artifacts import atomic_dir
        with atomic_dir({str(tmp_path / 'out')!r}) as tmp:
            (tmp / "half").write_text("x")
            print("writing", flush=True)
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (tmp_path / "out").exists()


def test_atomic_file(tmp_path):
    target = tmp_path / "f.json"
    artifacts.write_json(target, {"b": 1, "a": [1, 2]})
    assert json.loads(target.read_text()) == {"a": [1, 2], "b": 1}
    with pytest.raises(ValueError):
        with artifacts.atomic_file(target) as tmp:
            tmp.write_text("partial")
            raise ValueError
    assert json.loads(target.read_text())["b"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["f.json"]


def test_hash_path_ignores_hidden_files_and_sees_content(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("1")
    first = artifacts.hash_path(tmp_path / "d")
    (tmp_path / "d" / ".tmp").write_text("junk")
    assert artifacts.hash_path(tmp_path / "d") == first
    (tmp_path / "d" / "x").write_text("2")
    assert artifacts.hash_path(tmp_path / "d") != first


def _artifact(root, name, inputs, stage):
    cfg = config.load("ci")
    out = root / name
    out.mkdir(parents=True)
    (out / "payload").write_text(name)
    artifacts.write_manifest(out, stage, cfg, ["seed"], [root / i for i in inputs], 1.5)
    return out


def test_manifest_records_lineage(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _artifact(tmp_path, "data/tasks", [], "tasks")
    _artifact(tmp_path, "models/base", ["data/tasks"], "base")
    manifest = artifacts.read_manifest(tmp_path / "models/base")
    assert manifest["stage"] == "base" and manifest["profile"] == "ci"
    assert manifest["params"] == {"seed": config.load("ci").seed}
    assert manifest["packages"]["torch"].startswith("2.13")
    assert set(manifest["code"]) == {"git_rev", "dirty"}
    assert (tmp_path / "models/base/config.yaml").exists()


def test_lineage_chain_and_staleness(tmp_path):
    _artifact(tmp_path, "data/tasks", [], "tasks")
    _artifact(tmp_path, "models/base", ["data/tasks"], "base")
    _artifact(tmp_path, "models/r1_zero", ["models/base", "data/tasks"], "r1_zero")
    # manifest inputs are recorded by absolute path here; lineage resolves them relative to root
    chain = lineage.chain(tmp_path / "models/r1_zero", root=tmp_path)
    assert chain[0]["stage"] == "r1_zero"
    assert sorted(e["stage"] for e in chain) == ["base", "r1_zero", "tasks"]
    assert chain[0]["stale_inputs"] == []
    (tmp_path / "data/tasks/payload").write_text("rebuilt")
    chain = lineage.chain(tmp_path / "models/r1_zero", root=tmp_path)
    assert any("data/tasks" in p for p in chain[0]["stale_inputs"])
    text = lineage.format_chain(chain)
    assert "STALE" in text and "stage=base" in text
