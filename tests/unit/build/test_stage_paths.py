"""A stage reads and writes the paths its command line names (`--input <stage>=<path>`, `--output <path>`), so a
runner can hand it other paths (Snakemake's storage plugins do); the DAG writes them, and a record of the run names
the DAG's paths wherever the files lay."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

import pytest

from r1 import config
from r1.build import dag
from r1.build.artifacts import MANIFEST, hash_path
from r1.build.stage import entry, start


@pytest.fixture(scope="module")
def ci():
    return config.load("ci")


def _parse(command: str) -> argparse.Namespace:
    """The words of a DAG command that `entry` reads, parsed the way `entry` parses them."""
    words = shlex.split(command)
    assert words[:3] == ["python", "-m", words[2]] and words[2].startswith("r1.stages."), command
    parser = argparse.ArgumentParser()
    parser.add_argument("instance", nargs="?", default="")
    parser.add_argument("--profile")
    parser.add_argument("--input", action="append", default=[])
    parser.add_argument("--output", action="append", default=[])
    return parser.parse_args(words[3:])


def test_every_command_names_each_input_and_output_of_its_row(ci):
    """Every output of a needed stage once, in the row's order (eval's json and samples both reach the report),
    and every output of the stage, metrics included."""
    rows = dag.for_params(ci)
    for name, stage in rows.items():
        args = _parse(stage.command("ci"))
        assert args.input == [f"{need}={dep}" for need, dep in zip(stage.dep_stages, stage.deps)], name
        assert args.output == stage.all_outs, name
        from_command, from_row = start(name, ci, args.input, args.output), start(name, ci)
        assert (from_command.inputs, from_command.outputs) == (from_row.inputs, from_row.outputs), name
    report = _parse(rows["report"].command("ci"))
    assert "eval_base=reports/eval/base.samples.parquet" in report.input
    assert report.output[-1] == "reports/eval.json"  # the metrics file, after the outs


def test_the_multi_gpu_command_carries_the_same_paths(ci):
    full = dag.for_params(config.load("full"))
    sft = full["sft"]
    assert sft.multi_gpu_command("full").startswith("accelerate launch --config_file ")
    assert sft.multi_gpu_command("full").endswith(sft.io_args())
    assert "--input base=models/base" in sft.io_args() and sft.io_args().endswith(" --output models/sft")


def test_paths_on_the_command_line_replace_the_rows(ci, tmp_path):
    store = tmp_path / "store"
    run = start("eval_r1_zero", ci, [f"r1_zero={store}/models/r1_zero", f"tasks={store}/data/tasks"],
                [f"{store}/reports/eval/r1_zero.json", f"{store}/reports/eval/r1_zero.samples.parquet"])
    assert run.input("r1_zero") == store / "models/r1_zero" and run.input("tasks") == store / "data/tasks"
    assert run.outputs == (store / "reports/eval/r1_zero.json", store / "reports/eval/r1_zero.samples.parquet")
    assert run.out == run.outputs[0]
    # a record names the row's paths, for the input itself and for a file inside it
    assert run.row_path(store / "data/tasks/eval.parquet") == "data/tasks/eval.parquet"
    assert run.row_path(store / "models/r1_zero") == "models/r1_zero"
    # what is not given stays the row's
    partial = start("eval_r1_zero", ci, [f"tasks={store}/data/tasks"])
    assert partial.input("r1_zero") == Path("models/r1_zero") and partial.out == Path("reports/eval/r1_zero.json")


@pytest.mark.parametrize("inputs, outputs, message", [
    (["base=x"], [], "stage 'eval_r1_zero' does not need 'base' (its DAG row needs r1_zero, tasks)"),
    (["r1_zero"], [], "--input 'r1_zero': expected <stage>=<path>"),
    (["=x"], [], "expected <stage>=<path>"),
    ([], ["only/one.json"], "--output given 1 time(s), but stage 'eval_r1_zero' writes 2 output(s) "
                            "(reports/eval/r1_zero.json, reports/eval/r1_zero.samples.parquet)"),
])
def test_a_bad_path_argument_fails_naming_it(ci, inputs, outputs, message):
    with pytest.raises(ValueError) as err:
        start("eval_r1_zero", ci, inputs, outputs)
    assert message in str(err.value)


def test_a_needed_stage_with_several_outputs_needs_each(ci):
    with pytest.raises(ValueError, match=r"--input eval_base=\.\.\.: given 1 time\(s\), but 'eval_base' has 2 "
                                         r"output\(s\) \(reports/eval/base.json, reports/eval/base.samples.parquet\)"):
        start("report", ci, ["eval_base=elsewhere/base.json"])


def test_entry_exits_with_the_message(ci, tmp_path, monkeypatch):
    from r1.stages import tasks

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as err:
        entry(tasks.main, ["--profile", "ci", "--output", "a", "--output", "b"])
    assert str(err.value).startswith("tasks: --output given 2 time(s), but stage 'tasks' writes 1 output(s)")


def test_the_manifest_names_the_rows_paths_wherever_the_inputs_were_read(ci, tmp_path):
    tasks = tmp_path / "store/data/tasks"
    tasks.mkdir(parents=True)
    (tasks / "train.parquet").write_bytes(b"rows")
    run = start("base", ci, [f"tasks={tasks}"], [str(tmp_path / "store/models/base")])
    with run.publish() as out:
        (out / "weights").write_text("w")
    manifest = json.loads((tmp_path / "store/models/base" / MANIFEST).read_text())
    assert manifest["inputs"] == {"data/tasks": hash_path(tasks)}
    assert not (tmp_path / "models").exists()


def test_the_tasks_stage_writes_where_its_command_line_says(tmp_path, monkeypatch):
    """The same bytes as at the row's path: only where it lands changes. A marker for r1.build.record means 'the
    row's outputs are built', so a run that wrote elsewhere (a storage plugin's local copy, bound for a bucket) leaves
    none: there is nothing at the row's path for `dvc commit` to record."""
    from r1.build.record import MARKERS, finished
    from r1.stages import tasks

    monkeypatch.chdir(tmp_path)
    entry(tasks.main, ["--profile", "ci"])
    assert finished(tmp_path) == {"tasks": "ci"}
    (tmp_path / MARKERS / "tasks").unlink()
    entry(tasks.main, ["--profile", "ci", "--output", "store/prefix/data/tasks"])
    assert finished(tmp_path) == {}
    moved = tmp_path / "store/prefix/data/tasks"
    assert (moved / "train.parquet").exists()
    assert hash_path(moved) == hash_path(tmp_path / "data/tasks")
