import hashlib
import json
import subprocess
import sys

import polars as pl
import pytest

from r1 import config
from r1.build import quality
from r1.build.stage import start
from r1.stages import tasks as stage
from r1.tasks import FAMILIES
from r1.tasks import pools as tasks
from r1.tasks.schema import TASK_SCHEMA

from helpers.tiny import corrupt

FILES = ("train.parquet", "eval.parquet", "quality.json", "manifest.json")


@pytest.fixture(scope="module")
def ci():
    return config.load("ci")


@pytest.fixture(scope="module")
def built(ci, tmp_path_factory):
    """One ci build; returns its output directory."""
    root = tmp_path_factory.mktemp("build")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        stage.main(start("tasks", ci))
    return root / "data" / "tasks"


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_main_writes_the_artifact(built, ci):
    for name in FILES:
        assert (built / name).is_file(), name
    train, evals = pl.read_parquet(built / "train.parquet"), pl.read_parquet(built / "eval.parquet")
    assert dict(train.schema) == TASK_SCHEMA and dict(evals.schema) == TASK_SCHEMA
    assert set(train["split"]) == {"train"} and set(evals["split"]) == {"eval"}
    for frame, want in ((train, ci.tasks.n_train), (evals, ci.tasks.n_eval)):
        assert {k: frame.filter(pl.col("kind") == k).height for k in FAMILIES} == want
    assert "code-eval-article" in evals["id"].to_list()
    report = json.loads((built / "quality.json").read_text())
    assert report["success"] and report["n_rows"] == train.height + evals.height
    names = [r["expectation"] for r in report["results"]]
    assert "no_train_eval_8gram_overlap" in names and "expect_column_values_to_be_unique" in names
    manifest = json.loads((built / "manifest.json").read_text())
    assert manifest["stage"] == "tasks" and set(manifest["params"]) == {"seed", "tasks"}
    assert manifest["counts"]["eval"] == ci.tasks.n_eval


def test_same_seed_gives_identical_parquet(built, ci, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    stage.main(start("tasks", ci))
    for name in ("train.parquet", "eval.parquet"):
        assert md5(tmp_path / "data" / "tasks" / name) == md5(built / name)


def test_other_seed_gives_other_tasks(ci):
    a, _ = tasks.generate(ci.tasks, seed=1)
    b, _ = tasks.generate(ci.tasks, seed=2)
    assert a["prompt"].to_list() != b["prompt"].to_list()


def test_failed_suite_raises_and_writes_nothing(ci, tmp_path, monkeypatch):
    train, evals = tasks.generate(ci.tasks, ci.seed)
    monkeypatch.setattr(tasks, "generate", lambda cfg, seed, sources=(): corrupt(train, evals))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(quality.QualityError) as err:
        stage.main(start("tasks", ci))
    msg = str(err.value)
    assert "FAILED expect_column_values_to_be_unique on column 'id'" in msg and "math-train-00000" in msg
    assert "FAILED expect_column_values_to_match_regex on column 'prompt'" in msg
    assert "FAILED expect_column_values_to_not_be_null on column 'answer'" in msg
    assert "FAILED no_train_eval_8gram_overlap on column 'prompt'" in msg
    assert not (tmp_path / "data" / "tasks").exists()
    assert not list((tmp_path / "data").glob(".tasks*"))  # no temp dir left behind either


def test_counts_are_checked(ci):
    train, evals = tasks.generate(ci.tasks, ci.seed)
    report = tasks.validate(train, evals.head(5), ci.tasks)
    assert [r.expectation for r in report.failed] == ["eval_counts_match_config"]


CORRUPT_CLI = """
import sys
from r1.build.stage import entry
from r1.stages import tasks as stage
from r1.tasks import pools as tasks
sys.path.insert(0, {tests!r})
from helpers.tiny import corrupt
real = tasks.generate
tasks.generate = lambda cfg, seed, sources=(): corrupt(*real(cfg, seed, sources))
entry(stage.main, ["--profile", "ci"])
"""


def test_cli_exits_nonzero_with_readable_report(tmp_path, root):
    out = subprocess.run([sys.executable, "-c", CORRUPT_CLI.format(tests=str(root / "tests"))], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert out.returncode != 0
    assert "tasks: QualityError: quality suite 'tasks'" in out.stderr
    assert "FAILED expect_column_values_to_be_unique on column 'id'" in out.stderr
    assert "Traceback" not in out.stderr
    assert not (tmp_path / "data" / "tasks").exists()


def test_cli_in_another_process_gives_identical_parquet(built, tmp_path, root):
    # Another interpreter with another hash seed: set iteration order must not leak into the output.
    out = subprocess.run([sys.executable, "-m", "r1.stages.tasks", "--profile", "ci"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin",
                                                      "PYTHONHASHSEED": "987"})
    assert out.returncode == 0, out.stderr
    assert "[tasks] wrote data/tasks" in out.stderr
    for name in ("train.parquet", "eval.parquet"):
        assert md5(tmp_path / "data" / "tasks" / name) == md5(built / name)
