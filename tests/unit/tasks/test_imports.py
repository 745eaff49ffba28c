"""Task files in public layouts (r1.tasks.imports): what they become, and a clear error for each kind of bad input."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import polars as pl
import pytest

from r1 import config
from r1.build import dag
from r1.build.stage import entry, start
from r1.data import corpus
from r1.stages import tasks as stage
from r1.tasks import imports, pools
from r1.tasks.families import countdown
from r1.tasks.imports import TaskFileError
from r1.verify import rewards
from r1.verify import countdown as verify_countdown

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "tasks"
GSM8K, COUNTDOWN, HUMANEVAL = FIXTURES / "gsm8k.jsonl", FIXTURES / "countdown.parquet", FIXTURES / "humaneval.jsonl"


def params(*sources: dict, **tasks):
    raw = config.load_raw("ci")
    raw["tasks"].update(sources=list(sources), **tasks)
    return config.validate(raw)


def source(path, layout: str, **kw):
    return params({"path": str(path), "layout": layout, **kw}).tasks.sources[0]


def load(path, layout: str, **kw) -> imports.Imported:
    return imports.load(source(path, layout, **kw), seed=0)


def jsonl(tmp_path, rows: list, name: str = "t.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def error(path, layout: str, **kw) -> str:
    with pytest.raises(TaskFileError) as err:
        load(path, layout, **kw)
    return str(err.value)


# ---- the layouts ---------------------------------------------------------------------------------------------------
def test_gsm8k_rows_become_math_tasks():
    got = load(GSM8K, "gsm8k")
    assert got.rows == 8 and len(got.train) == 8 and not got.eval and not got.dropped
    first = got.train[0]
    assert first["kind"] == "math" and first["split"] == "train" and first["origin"] == "gsm8k"
    assert first["id"] == "gsm8k-1"  # no id column: the line number
    assert first["prompt"].startswith("Nina bakes 12 muffins") and first["answer"] == "7"
    assert first["solution"] == "She has 12 - 5 = 7 muffins left."  # calculator notes and `####` gone
    assert "\n" in got.train[4]["solution"]  # a two-step reasoning keeps its lines


def test_gsm8k_answer_drops_thousands_commas(tmp_path):
    path = jsonl(tmp_path, [{"question": "How many?", "answer": "So 1,200 in all.\n#### 1,200"}])
    assert load(path, "gsm8k").train[0]["answer"] == "1200"


def test_countdown_parquet_gets_solved_and_unreachable_targets_are_counted():
    got = load(COUNTDOWN, "countdown")
    assert got.rows == 7 and len(got.train) == 6
    assert list(got.dropped) == [imports.UNREACHABLE] and len(got.dropped[imports.UNREACHABLE]) == 1
    assert "row 7" in got.dropped[imports.UNREACHABLE][0] and "97" in got.dropped[imports.UNREACHABLE][0]
    for rec in got.train:
        assert rec["prompt"] == countdown.prompt_of(rec["target"], rec["numbers"], "+-*/")
        assert verify_countdown.check(rec["answer"], rec["numbers"], rec["target"]).value == 1.0
        assert rec["solution"].splitlines()[-1].endswith(f"= {rec['target']}")


def test_countdown_ops_restrict_the_solver_and_show_in_the_prompt(tmp_path):
    path = jsonl(tmp_path, [{"nums": [5, 11, 3], "target": 55}, {"nums": [5, 11, 3], "target": 19}])
    got = load(path, "countdown", ops="+-")
    assert [r["target"] for r in got.train] == [19]  # 55 needs *
    assert got.train[0]["prompt"].endswith("with + and -, each once.")


def test_humaneval_rows_keep_their_harness_and_build_the_reference():
    got = load(HUMANEVAL, "code", split="eval")
    assert len(got.eval) == 5 and not got.train
    first = got.eval[0]
    assert first["id"] == "humaneval-Mini/0" and first["entry_point"] == "add_one"
    assert first["tests"] == json.loads(HUMANEVAL.read_text().splitlines()[0])["test"]  # unchanged
    assert first["reference"] == first["answer"] == ('def add_one(x):\n    """Return x plus one."""\n'
                                                     "    return x + 1\n")  # the prompt + HumanEval's body
    assert first["solution"] is None and got.eval[4]["reference"] is None  # no canonical solution: none


def test_mbpp_style_whole_function_is_the_reference_as_it_is(tmp_path):
    code = "def sq(x):\n    return x * x\n"
    path = jsonl(tmp_path, [{"task_id": 7, "text": "Square x.", "code": code, "test": "assert sq(3) == 9",
                             "entry_point": "sq"}])
    rec = load(path, "code", columns={"prompt": "text", "canonical_solution": "code"}).train[0]
    assert rec["reference"] == code and rec["prompt"] == "Square x." and rec["id"] == "t-7"


def test_column_mapping_reads_other_names_and_names_the_unmapped_column(tmp_path):
    path = jsonl(tmp_path, [{"problem": "How many?", "solution": "2 + 2 = 4\n#### 4", "uid": "a"}])
    got = load(path, "gsm8k", columns={"question": "problem", "answer": "solution", "id": "uid"})
    assert got.train[0]["prompt"] == "How many?" and got.train[0]["id"] == "t-a"
    msg = error(path, "gsm8k", columns={"question": "problem"})
    assert str(path) in msg and "missing column 'answer'" in msg and "'solution'" in msg  # names what the file has
    assert "columns" in error(path, "gsm8k", columns={"question": "problem", "answer": "solution", "id": "key"})


def test_jsonl_gz_and_limit(tmp_path):
    path = tmp_path / "h.jsonl.gz"
    path.write_bytes(gzip.compress(HUMANEVAL.read_bytes()))
    got = load(path, "code", limit=2)
    assert got.label == "h" and [r["entry_point"] for r in got.train] == ["add_one", "double"]


def test_eval_share_holds_out_a_seeded_share():
    src = source(GSM8K, "gsm8k", eval_share=0.25)
    a, b = imports.load(src, seed=0), imports.load(src, seed=0)
    assert len(a.eval) == 2 and len(a.train) == 6
    assert [r["id"] for r in a.eval] == [r["id"] for r in b.eval]
    assert {r["split"] for r in a.eval} == {"eval"}
    other = [sorted(r["id"] for r in imports.load(src, seed=s).eval) for s in range(1, 6)]
    assert any(ids != sorted(r["id"] for r in a.eval) for ids in other)  # the seed decides


# ---- bad input: one clear error each, naming file, row and column ----------------------------------------------------
def test_missing_column_in_every_row_names_the_layout(tmp_path):
    path = jsonl(tmp_path, [{"question": "How many?"}])
    msg = error(path, "gsm8k")
    assert str(path) in msg and "missing column 'answer'" in msg and "layout 'gsm8k' needs ['question', 'answer']" in msg


def test_missing_column_in_one_row_names_the_row(tmp_path):
    path = jsonl(tmp_path, [{"nums": [1, 2], "target": 3}, {"nums": [2, 3]}])
    msg = error(path, "countdown")
    assert str(path) in msg and "row 2, column 'target': missing" in msg


@pytest.mark.parametrize("row, column, says", [
    ({"nums": [1, 2], "target": "3"}, "target", "expected a positive integer, got str"),
    ({"nums": "1 2", "target": 3}, "nums", "expected a list of at least two positive integers, got str"),
    ({"nums": [1, 2.5], "target": 3}, "nums", "expected a list of positive integers, got float 2.5"),
    ({"nums": [1, True], "target": 3}, "nums", "expected a list of positive integers, got bool True"),
    ({"nums": [1, 2], "target": -3}, "target", "expected a positive integer, got -3"),
])
def test_wrong_type_names_row_column_and_type(tmp_path, row, column, says):
    path = jsonl(tmp_path, [{"nums": [4, 5], "target": 9}, row])
    msg = error(path, "countdown")
    assert f"row 2, column {column!r}: {says}" in msg


def test_wrong_type_in_text_columns(tmp_path):
    path = jsonl(tmp_path, [{"question": 12, "answer": "#### 1"}, {"question": "Q?", "answer": None}])
    msg = error(path, "gsm8k")
    assert "2 problems" in msg
    assert "row 1, column 'question': expected a string, got int" in msg
    assert "row 2, column 'answer': expected a string, got null" in msg


def test_non_utf8_bytes_name_row_and_column(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"question": "How many?", "answer": "#### 3"}\n'
                     b'{"question": "Caf\xe9 sells 3 buns. How many?", "answer": "#### 3"}\n')
    msg = error(path, "gsm8k")
    assert str(path) in msg and "row 2, column 'question'" in msg and "not UTF-8 (0xe9)" in msg


def test_invalid_json_names_the_row(tmp_path):
    path = jsonl(tmp_path, [{"question": "Q?", "answer": "#### 1"}, '{"question": "Q2?", "answer": '])
    assert "row 2: not valid JSON" in error(path, "gsm8k")


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_jsonl_is_an_error(tmp_path, content):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(content)
    assert error(path, "gsm8k") == f"{path}: empty file (no rows)"


def test_empty_parquet_is_an_error(tmp_path):
    path = tmp_path / "empty.parquet"
    pl.DataFrame({"nums": [], "target": []}, schema={"nums": pl.List(pl.Int64), "target": pl.Int64}).write_parquet(path)
    assert error(path, "countdown") == f"{path}: empty file (no rows)"
    path.write_bytes(b"")
    assert error(path, "countdown") == f"{path}: empty file (no rows)"


def test_missing_file_is_an_error(tmp_path):
    assert "no such file" in error(tmp_path / "nope.jsonl", "gsm8k")


def test_duplicate_ids_name_both_rows(tmp_path):
    rows = [{"task_id": t, "prompt": "def f(x):\n", "test": "assert f(1) == 1", "entry_point": "f"} for t in "aba"]
    rows[2]["prompt"] = "def g(x):\n"
    msg = error(jsonl(tmp_path, rows), "code")
    assert "row 3, column 'task_id': id 'a' repeats row 1" in msg


def test_gsm8k_answer_without_marker(tmp_path):
    path = jsonl(tmp_path, [{"question": "Q?", "answer": "#### 2"}, {"question": "R?", "answer": "It is 4."},
                            {"question": "S?", "answer": "#### four"}])
    msg = error(path, "gsm8k")
    assert "row 2, column 'answer': has no '#### <number>' final answer" in msg
    assert "row 3, column 'answer': '#### four' is not a number" in msg


def test_code_row_whose_solution_defines_no_entry_point(tmp_path):
    path = jsonl(tmp_path, [{"task_id": "x", "prompt": "Write f.", "canonical_solution": "def g():\n    pass\n",
                             "test": "assert f() is None", "entry_point": "f"}])
    assert "row 1, column 'canonical_solution': does not define f()" in error(path, "code")


def test_many_problems_are_listed_up_to_a_limit(tmp_path):
    path = jsonl(tmp_path, [{"question": "Q?", "answer": "no marker"}] * 13)
    msg = error(path, "gsm8k")
    assert "13 problems" in msg and "row 10," in msg and "row 11," not in msg and "... and 3 more" in msg


# ---- params --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("entry, says", [
    ({"layout": "gsm8k"}, "tasks.sources[0].path: missing key"),
    ({"path": "a.csv", "layout": "gsm8k"}, "tasks.sources[0].path: 'a.csv' must end in one of"),
    ({"path": "a.jsonl", "layout": "mbpp"}, "tasks.sources[0].layout: 'mbpp' is not one of"),
    ({"path": "a.jsonl", "layout": "gsm8k", "columns": {"questoin": "q"}},
     "tasks.sources[0].columns.questoin: not a field of layout 'gsm8k' (did you mean 'question'?)"),
    ({"path": "a.jsonl", "layout": "gsm8k", "split": "eval", "eval_share": 0.1}, "tasks.sources[0].eval_share:"),
    ({"path": "a.jsonl", "layout": "gsm8k", "eval_share": 1.0}, "tasks.sources[0].eval_share: 1.0 must lie"),
    ({"path": "a.jsonl", "layout": "countdown", "ops": "+x"}, "tasks.sources[0].ops:"),
    ({"path": "a b.jsonl", "layout": "gsm8k"}, "tasks.sources[0].name: 'a b' must be"),
    ({"path": "a.jsonl", "layout": "gsm8k", "limit": 0}, "tasks.sources[0].limit:"),
    ({"path": "a.jsonl", "layout": "gsm8k", "lmit": 3}, "tasks.sources[0].lmit: unknown key (did you mean 'limit'?)"),
])
def test_source_params_are_validated_naming_the_key(entry, says):
    with pytest.raises(config.ConfigError) as err:
        params(entry)
    assert str(err.value).startswith(says), str(err.value)


def test_two_sources_with_one_name_are_an_error():
    with pytest.raises(config.ConfigError, match=r"tasks.sources\[1\].name: 'train' names two sources"):
        params({"path": "gsm8k/train.jsonl", "layout": "gsm8k"}, {"path": "code/train.jsonl", "layout": "code"})


def test_optional_source_keys_take_their_defaults():
    src = source("a.jsonl", "gsm8k")
    assert (src.name, src.split, src.eval_share, src.columns, src.limit, src.ops) == (None, "train", 0.0, {}, None,
                                                                                      "+-*/")


# ---- the DAG: the files are the tasks stage's inputs ---------------------------------------------------------------
def test_task_files_are_inputs_of_the_tasks_row_only():
    cfg = params({"path": "tests/fixtures/tasks/gsm8k.jsonl", "layout": "gsm8k"},
                 {"path": "tests/fixtures/tasks/gsm8k.jsonl", "layout": "gsm8k", "name": "again"})
    rows = dag.for_params(cfg)
    assert rows["tasks"].files == ("tests/fixtures/tasks/gsm8k.jsonl",)
    assert "tests/fixtures/tasks/gsm8k.jsonl" in rows["tasks"].inputs()
    assert rows["base"].deps == rows["tasks"].outs  # other rows unchanged
    assert "tests/fixtures/tasks/gsm8k.jsonl" in dag.dvc_yaml(cfg)["stages"]["tasks"]["deps"]
    assert dag.for_params(config.load("ci"))["tasks"].files == ()


# ---- the pools: same dedup, decontamination, gate and split as generated tasks ---------------------------------------
def test_imported_eval_rows_sharing_an_ngram_with_train_are_dropped_and_counted(tmp_path):
    train_q = "Nina bakes 12 muffins and sells 5 of them. How many muffins are left?"
    path = jsonl(tmp_path, [{"question": train_q.replace("12", "40"), "answer": "#### 35"},
                            {"question": "A clean question about 3 owls and 4 more owls?", "answer": "#### 7"}])
    cfg = params({"path": str(GSM8K), "layout": "gsm8k"}, {"path": str(path), "layout": "gsm8k", "split": "eval"})
    sources = imports.load_all(cfg.tasks.sources, cfg.seed)
    train, evals = pools.generate(cfg.tasks, cfg.seed, sources)
    held = evals.filter(pl.col("origin") == "t")
    assert held["id"].to_list() == ["t-2"]
    assert sources[1].summary()["dropped"] == {imports.CONTAMINATED: 1}
    report = pools.validate(train, evals, cfg.tasks, sources)
    assert report.success
    entry = next(r for r in report.results if r.expectation == "imported_t")
    assert entry.observed["dropped"] == {imports.CONTAMINATED: 1} and "t-1" in entry.examples[0]


def test_a_prompt_taken_by_an_earlier_source_is_dropped_and_counted(tmp_path):
    copy = tmp_path / "copy.jsonl"
    copy.write_bytes(GSM8K.read_bytes())
    cfg = params({"path": str(GSM8K), "layout": "gsm8k"}, {"path": str(copy), "layout": "gsm8k"})
    sources = imports.load_all(cfg.tasks.sources, cfg.seed)
    train, _ = pools.generate(cfg.tasks, cfg.seed, sources)
    assert sources[1].summary()["dropped"] == {imports.DUPLICATE_PROMPT: 8} and not sources[1].train
    assert train.filter(pl.col("origin") == "gsm8k").height == 8
    report = pools.validate(train, _, cfg.tasks, sources)
    assert [r.expectation for r in report.failed] == ["imported_copy"]  # a source left with nothing fails the gate


def test_duplicate_prompts_inside_a_file_are_dropped_and_counted(tmp_path):
    rows = [{"nums": [5, 11, 3], "target": 55}, {"nums": [5, 11, 3], "target": 55}]
    got = load(jsonl(tmp_path, rows), "countdown")
    assert len(got.train) == 1 and list(got.dropped) == [imports.DUPLICATE_PROMPT]
    assert got.dropped[imports.DUPLICATE_PROMPT] == [f"{tmp_path / 't.jsonl'} row 2: same prompt as row 1"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The tasks stage in-process on the ci profile with all three fixture files beside the generated families."""
    cfg = params({"path": str(GSM8K), "layout": "gsm8k", "eval_share": 0.25},
                 {"path": str(COUNTDOWN), "layout": "countdown"},
                 {"path": str(HUMANEVAL), "layout": "code", "split": "eval", "name": "he"})
    root = tmp_path_factory.mktemp("imports")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        stage.main(start("tasks", cfg))
    return cfg, root / "data" / "tasks"


def test_stage_writes_imported_rows_beside_generated_ones(built):
    cfg, out = built
    train, evals = pl.read_parquet(out / "train.parquet"), pl.read_parquet(out / "eval.parquet")
    by_origin = lambda df: dict(sorted(df.group_by("origin").len().iter_rows()))  # noqa: E731
    synthetic = {s: sum(getattr(cfg.tasks, f"n_{s}").values()) for s in ("train", "eval")}
    assert by_origin(train) == {"countdown": 6, "gsm8k": 6, "synthetic": synthetic["train"]}
    assert by_origin(evals) == {"gsm8k": 2, "he": 5, "synthetic": synthetic["eval"]}
    report = json.loads((out / "quality.json").read_text())
    assert report["success"] and report["n_rows"] == train.height + evals.height
    counts = {r["expectation"]: r["observed"] for r in report["results"] if r["expectation"].startswith("imported_")}
    assert counts["imported_countdown"]["dropped"] == {imports.UNREACHABLE: 1}
    manifest = json.loads((out / "manifest.json").read_text())
    assert {str(GSM8K), str(COUNTDOWN), str(HUMANEVAL)} <= set(manifest["inputs"])  # hashed: lineage of the files
    assert manifest["imported"]["he"]["eval"] == 5


def test_imported_rows_are_scored_by_the_math_and_countdown_rewards(built):
    _, out = built
    rows = pl.read_parquet(out / "train.parquet").filter(pl.col("origin") != "synthetic").to_dicts()
    right = [f"<think> {r['solution']} </think> <answer> {r['answer']} </answer>" for r in rows]
    wrong = [f"<think> </think> <answer> {r['answer']}1 </answer>" for r in rows]
    cols = {c: [r[c] for r in rows] for c in ("kind", "answer", "numbers", "target")}
    assert rewards.get("accuracy")(right, **cols) == [1.0] * len(rows)
    assert rewards.get("accuracy")(wrong, **cols) == [0.0] * len(rows)


def test_imported_humaneval_rows_are_scored_by_the_code_reward(built):
    _, out = built
    rows = [r for r in pl.read_parquet(out / "eval.parquet").to_dicts() if r["origin"] == "he" and r["reference"]]
    comps = [f"<think> </think> <answer>\n```python\n{r['reference']}```\n</answer>" for r in rows]
    stubs = [f"<think> </think> <answer>\n```python\ndef {r['entry_point']}(*a):\n    return None\n```\n</answer>"
             for r in rows]
    cols = {c: [r[c] for r in rows] for c in ("kind", "tests", "entry_point", "reference", "prompt")}
    assert rewards.get("accuracy")(comps, **cols) == [1.0] * len(rows)
    # a stub that runs but fails its tests is not correct: graded below 0.5 (r1.verify.code), never None
    assert all(0.0 < s < 0.5 for s in rewards.get("accuracy")(stubs, **cols))


def test_corpus_skips_imported_code_without_a_worked_solution(built):
    _, out = built
    evals = pl.read_parquet(out / "eval.parquet").filter(pl.col("origin") == "he").to_dicts()
    recs = [dict(r, split="train") for r in evals]
    docs = corpus.build(recs, 20, corpus.Mix(0.0, 0.0, 0.0, 0.0), seed=0)
    assert {d["id"] for d in docs} == {r["id"] for r in recs if r["reference"]}


def test_a_bad_file_writes_nothing(built, tmp_path, monkeypatch):
    cfg, _ = built
    bad = jsonl(tmp_path, [{"question": "Q?", "answer": "#### 1"}, {"question": "R?", "answer": "4"}], "bad.jsonl")
    raw = config.load_raw("ci")
    raw["tasks"]["sources"] = [{"path": str(GSM8K), "layout": "gsm8k"}, {"path": str(bad), "layout": "gsm8k"}]
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TaskFileError, match=r"bad.jsonl: 1 problem:\n  row 2, column 'answer'"):
        stage.main(start("tasks", config.validate(raw)))
    assert not (tmp_path / "data").exists()


def test_the_stage_exits_non_zero_naming_the_file(tmp_path, monkeypatch):
    bad = jsonl(tmp_path, [{"nums": [1, 2], "target": "3"}], "cd.jsonl")
    cfg = params({"path": str(bad), "layout": "countdown"})
    monkeypatch.setattr(config, "load", lambda profile=None: cfg)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as err:
        entry(stage.main, ["--profile", "ci"])
    assert str(err.value).startswith(f"tasks: TaskFileError: {bad}: 1 problem:\n  row 1, column 'target'")
    assert not (tmp_path / "data").exists()


# ---- the solver ------------------------------------------------------------------------------------------------------
def test_solver_answers_verify_and_unreachable_means_no_expression():
    rng = random.Random(0)
    found = 0
    for _ in range(300):
        nums = [rng.randint(1, 30) for _ in range(rng.choice((2, 3, 4)))]
        target = rng.randint(1, 60)
        solved = countdown.solve(nums, target)
        if solved:
            found += 1
            assert verify_countdown.check(solved[0], nums, target).value == 1.0
    assert 0 < found < 300
    assert countdown.solve([2, 3, 5], 97) is None  # above 2 * 3 * 5, the largest value
    assert countdown.solve([4, 4], 4) is None  # only by quoting a number: no step reaches it


def _reachable(pool: list[int], target: int) -> bool:
    """Brute force: any ordered pair combined (countdown.combine) reaches the target, now or later."""
    for i, a in enumerate(pool):
        for j, b in enumerate(pool):
            if i != j:
                for op in "+-*/":
                    c = countdown.combine(a, b, op)
                    rest = [v for k, v in enumerate(pool) if k not in (i, j)]
                    if c is not None and (c == target or _reachable(rest + [c], target)):
                        return True
    return False


def test_solver_finds_a_solution_exactly_when_brute_force_does():
    rng = random.Random(1)
    for _ in range(400):
        nums = [rng.randint(1, 12) for _ in range(rng.choice((2, 3, 4)))]
        target = rng.randint(1, 40)
        assert (countdown.solve(nums, target) is not None) == _reachable(nums, target), (nums, target)
