"""`r1 verify`: JSONL and parquet in/out, reward and component columns with reasons, malformed rows survive."""

import json
import subprocess
import sys
from pathlib import Path

import polars as pl

from r1.verify.cli import cli

from helpers.pipeline import ROOT
ROWS = [
    {"id": "m1", "kind": "math", "prompt": "1/2?", "answer": r"\frac{1}{2}", "completion": "<think>half</think> <answer>0.5</answer>"},
    {"id": "m2", "kind": "math", "prompt": "2+2?", "answer": "4", "completion": "<answer>5</answer>"},
    {"id": "c1", "kind": "countdown", "prompt": "16", "numbers": [3, 5, 2], "target": 16, "completion": "<think>t</think> <answer>(3+5)*2</answer>"},
    {"id": "k1", "kind": "code", "prompt": "id", "tests": "assert f(1) == 1", "entry_point": "f", "completion": "```python\ndef f(x):\n    return x\n```"},
    {"id": "k2", "kind": "code", "prompt": "id", "tests": "assert f(1) == 1", "entry_point": "f", "completion": "Just return it."},
    {"id": "bad1", "kind": "math", "prompt": "?", "answer": "1"},
    {"id": "bad2", "kind": "countdown", "prompt": "?", "numbers": "oops", "target": 3, "completion": "<answer>1+2</answer>"},
]  # fmt: skip


def write_jsonl(path, rows, extra_lines=()):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
        for line in extra_lines:
            f.write(line + "\n")


def test_jsonl_roundtrip_with_malformed_rows(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, ROWS, ["{not json", "[1, 2]", ""])
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "accuracy,format"]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(got) == len(ROWS) + 2
    by_id = {r.get("id", f"line{r.get('line')}"): r for r in got}
    assert by_id["m1"]["reward"] == 2.0 and by_id["m1"]["accuracy"] == 1.0 and by_id["m1"]["format"] == 1.0
    assert by_id["m2"]["accuracy"] == 0.0 and by_id["m2"]["accuracy_reason"] == "wrong_answer"
    assert by_id["c1"]["accuracy"] == 1.0 and by_id["c1"]["numbers"] == [3, 5, 2]
    assert by_id["k1"]["accuracy"] == 1.0 and by_id["k1"]["format_reason"] == "bad_format"
    assert by_id["k2"]["accuracy_reason"] == "no_code"
    assert by_id["bad1"]["reward"] is None and "completion" in by_id["bad1"]["reason"]
    assert by_id["bad2"]["accuracy"] is None and by_id["bad2"]["accuracy_reason"].startswith("malformed")
    assert by_id["bad2"]["format"] == 0.0  # format still applies, but alone it is no reward
    assert by_id["bad2"]["reward"] is None and by_id["bad2"]["reason"].startswith("accuracy unscored: malformed")
    assert by_id["line8"]["reward"] is None and by_id["line8"]["reason"].startswith("malformed_json")
    assert by_id["line9"]["reason"].startswith("malformed_json")


def test_parquet_in_and_out(tmp_path):
    src, out = tmp_path / "in.parquet", tmp_path / "out.parquet"
    pl.DataFrame(ROWS[:4]).write_parquet(src)
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "accuracy,format,tag_count"]) == 0
    df = pl.read_parquet(out)
    assert df.columns[: len(pl.read_parquet(src).columns)] == pl.read_parquet(src).columns
    assert {"reward", "accuracy", "accuracy_reason", "format", "format_reason", "tag_count", "reason"} <= set(df.columns)
    assert df["accuracy"].to_list() == [1.0, 0.0, 1.0, 1.0]


def test_unknown_reward_and_missing_file(tmp_path, capsys):
    src = tmp_path / "in.jsonl"
    write_jsonl(src, ROWS[:1])
    assert cli(["--in", str(src), "--out", str(tmp_path / "o.jsonl"), "--rewards", "acuracy"]) == 2
    assert "unknown reward 'acuracy'" in capsys.readouterr().err
    assert cli(["--in", str(tmp_path / "missing.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    assert not (tmp_path / "o.jsonl").exists()


def test_module_entry_point_and_progress(tmp_path):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, ROWS[:3] * 100)
    p = subprocess.run([sys.executable, "-m", "r1.verify.cli", "--in", str(src), "--out", str(out)], cwd=ROOT,
                       capture_output=True, text=True)  # fmt: skip
    assert p.returncode == 0, p.stderr
    assert "300 rows" in p.stderr and "verify" in p.stderr and "row" in p.stderr  # progress bar and summary
    assert len(out.read_text().splitlines()) == 300


def test_summary_counts_unscored_rows_per_component(tmp_path, capsys):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, ROWS)
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "accuracy,format"]) == 0
    err = capsys.readouterr().err
    assert "accuracy: 5 scored, mean 0.600, 2 unscored (1 x malformed: no completion; 1 x malformed:ValueError)" in err
    assert "format: 6 scored, mean 0.333, 1 unscored" in err
    assert "reward: 5 scored, mean 1.000, 2 unscored (1 x malformed: no completion; 1 x accuracy unscored: " in err


def test_a_file_with_no_scorable_accuracy_fails_and_says_why(tmp_path, capsys):
    """The issue's HumanEval case before harnesses were understood: a format reward alone is no pass."""
    rows = [{"id": f"k{i}", "kind": "code", "tests": "def check(c):\n    x = c(1)\n", "entry_point": "f",
             "completion": "<think>t</think> <answer>```python\ndef f(x):\n    return x\n```</answer>"}
            for i in range(3)]  # fmt: skip
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, rows)
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "accuracy,format"]) == 1
    err = capsys.readouterr().err
    assert "no row's accuracy could be scored (3 x bad_tests:tests hold no assert)" in err
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["format"] for r in got] == [1.0] * 3 and [r["reward"] for r in got] == [None] * 3
    # without accuracy, a file where no reward applies fails the same way
    write_jsonl(src, [{"id": "x", "kind": "math", "answer": "1", "completion": "<answer>1</answer>"}])
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "code_speed"]) == 1
    assert "no row's reward could be scored" in capsys.readouterr().err


def test_humaneval_rows_as_they_come(tmp_path, capsys):
    """HumanEval's own columns (prompt, test, entry_point, canonical_solution), plus a completion: no renaming."""
    prompt = 'import math\n\n\ndef poly(xs, x):\n    return sum(c * math.pow(x, i) for i, c in enumerate(xs))\n\n\n' \
             'def half_root(xs: list):\n    """x with poly(xs, x) == 0 for a line."""\n'
    test = ("\n\nMETADATA = {}\n\n\ndef check(candidate):\n    assert True\n    assert abs(candidate([2, 4]) + 0.5) < 1e-6\n"
            "    for xs in ([1, 2], [3, -6]):\n        assert math.fabs(poly(xs, candidate(xs))) < 1e-6\n")
    body = "    return -xs[0] / xs[1]\n"
    base = {"task_id": "T/0", "prompt": prompt, "test": test, "entry_point": "half_root", "canonical_solution": body}
    rows = [{**base, "completion": f"```python\n{prompt}{body}```"},
            {**base, "completion": "```python\ndef half_root(xs):\n    return xs[0]\n```"}]  # fmt: skip
    src, out = tmp_path / "he.jsonl", tmp_path / "out.jsonl"
    write_jsonl(src, rows)
    assert cli(["--in", str(src), "--out", str(out), "--rewards", "accuracy"]) == 0
    got = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["accuracy"] for r in got] == [1.0, 0.1]
    assert got[1]["accuracy_reason"].startswith("tests_failed: 2/2: [1] abs(candidate([2, 4]) + 0.5) < 1e-06 (got 2)")
    assert "kind" not in got[0] and got[0]["test"] == test  # the rows are written back as they came
