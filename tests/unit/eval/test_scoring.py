"""r1.eval.scoring: pass@1 / cons@k / pass@k on hand-made tables, by_family, voting, scoring in one batch, the eval stage."""

import json
import sys
from pathlib import Path

import polars as pl
import pytest

from helpers import tiny  # noqa: E402

from r1 import config  # noqa: E402
from r1.build.artifacts import timing_fields  # noqa: E402
from r1.build.stage import start  # noqa: E402
from r1.eval import report  # noqa: E402
from r1.eval.scoring import (METRICS, evaluate, load_items, majority_correct, score_samples, summarize,  # noqa: E402
                             vote_key)
from r1.stages import eval as eval_stage  # noqa: E402


def table(rows):
    """rows: (id, kind, correct, vote, tokens, format_ok, reflects) per sample, samples in order."""
    seen: dict[str, int] = {}
    out = []
    for id_, kind, correct, vote, tokens, fmt, refl in rows:
        out.append({"id": id_, "kind": kind, "sample": seen.setdefault(id_, 0), "correct": correct, "vote": vote,
                    "tokens": tokens, "format_ok": fmt, "reflects": refl})
        seen[id_] += 1
    return pl.DataFrame(out, schema_overrides={"vote": pl.Utf8})


# Item a (math): 1 of 4 correct, but the wrong answer "7" wins the vote.
# Item b (countdown): 3 of 4 correct; the correct answer wins.
HAND = table([
    ("a", "math", True, "5", 10, True, False),
    ("a", "math", False, "7", 20, True, True),
    ("a", "math", False, "7", 30, False, False),
    ("a", "math", False, None, 40, False, False),
    ("b", "countdown", True, "1+2", 1, True, False),
    ("b", "countdown", False, "3", 2, True, False),
    ("b", "countdown", True, "1+2", 3, True, True),
    ("b", "countdown", True, "1+2", 2, True, True),
])


def test_metrics_on_a_hand_made_table():
    m = summarize(HAND)
    assert m["pass@1"] == pytest.approx((1 / 4 + 3 / 4) / 2)
    assert m["cons@k"] == pytest.approx(0.5)  # a: wrong majority, b: right majority
    assert m["pass@k"] == pytest.approx(1.0)
    assert m["mean_response_tokens"] == pytest.approx((10 + 20 + 30 + 40 + 1 + 2 + 3 + 2) / 8)
    assert m["format_rate"] == pytest.approx(6 / 8)
    assert m["reflection_rate"] == pytest.approx(3 / 8)
    assert set(m) == {*METRICS, "by_family"}


def test_by_family_splits_items():
    fam = summarize(HAND)["by_family"]
    assert set(fam) == {"math", "countdown"}
    assert fam["math"] == {"pass@1": 0.25, "cons@k": 0.0, "pass@k": 1.0, "mean_response_tokens": 25.0,
                           "format_rate": 0.5, "reflection_rate": 0.25}
    assert fam["countdown"]["pass@1"] == 0.75 and fam["countdown"]["cons@k"] == 1.0
    assert fam["countdown"]["mean_response_tokens"] == 2.0


def test_items_weigh_equally_and_no_correct_sample_means_zero():
    t = table([("x", "math", False, "1", 5, True, False)] * 2 + [("y", "math", True, "2", 5, True, False)] * 4)
    m = summarize(t)
    assert m["pass@1"] == 0.5 and m["pass@k"] == 0.5 and m["cons@k"] == 0.5


def test_majority_vote_ties_and_abstentions():
    assert majority_correct(["7", "5", "5", "7"], [False, True, True, False]) is False  # tie: earliest ("7")
    assert majority_correct([None, "5", None], [False, True, False]) is True  # non-answers do not vote
    assert majority_correct([None, None], [False, False]) is False


def test_vote_keys_normalise():
    assert vote_key("math", " 14 ") == vote_key("math", "14.0") == vote_key("math", "\\boxed{14}") == "14"
    assert vote_key("math", "$1,000$.") == "1000"
    assert vote_key("countdown", "16 * 8 + 4") == vote_key("countdown", "16*8+4")
    assert vote_key("code", "def f(x):\n    return x  # c") == vote_key("code", "def f(x):\n\n  return (x)\n")
    assert vote_key("code", "def f(:") == "def f(:"
    assert vote_key("math", None) is None and vote_key("math", "  ") is None


ITEMS = pl.DataFrame({
    "id": ["m1", "m2", "c1", "k1", "k2", "k3"],
    "kind": ["math", "math", "countdown", "code", "code", "code"],
    "prompt": ["What is 1 plus 1?", "What is 2 plus 2?", "Make 3 from 1, 2.", "f", "g", "h"],
    "answer": ["2", "4", None, None, None, None],
})


class StandIn:
    """Accuracy = 'the completion's answer tag holds the item's answer'; counts calls to prove batching."""

    def __init__(self):
        self.calls = {"accuracy": 0, "format": 0}

    def accuracy(self, completions, kind, answer, **_):
        self.calls["accuracy"] += 1
        return [None if k == "code" else float(a is not None and f"<answer>{a}</answer>" in c)
                for c, k, a in zip(completions, kind, answer)]

    def format(self, completions, **_):
        self.calls["format"] += 1
        return [1.0 if c.startswith("<think>") else 0.0 for c in completions]

    @property
    def rewards(self):
        return {"accuracy": self.accuracy, "format": self.format}


def extract(text):
    return text.split("<answer>")[-1].split("</answer>")[0] if "<answer>" in text else None


def test_score_calls_each_reward_once_with_the_columns():
    k = 3
    completions = [[f"<think>x</think><answer>{a}</answer>" if a else "nope"] * k for a in ITEMS["answer"]]
    stand = StandIn()
    samples = score_samples(ITEMS, ITEMS["prompt"].to_list(), completions, [[4] * k] * len(ITEMS), stand.rewards, extract)
    assert stand.calls == {"accuracy": 1, "format": 1}
    assert len(samples) == len(ITEMS) * k
    assert samples["sample"].to_list()[:4] == [0, 1, 2, 0]
    assert samples.filter(pl.col("kind") == "math")["correct"].all()
    assert not samples.filter(pl.col("kind") == "code")["correct"].any()  # None is not correct
    assert samples.filter(pl.col("kind") == "code")["reward"].null_count() == 3 * k
    assert samples.filter(pl.col("id") == "m1")["vote"].to_list() == ["2"] * k


def test_load_items_caps_each_family(tmp_path):
    path = tmp_path / "eval.parquet"
    ITEMS.write_parquet(path)
    capped = load_items(path, 2)
    assert capped["id"].to_list() == ["m1", "m2", "c1", "k1", "k2"]
    assert len(load_items(path, None)) == len(ITEMS)


def eval_cfg(**kw):
    base = dict(models=["base"], k=2, temperature=0.6, top_p=0.95, max_new_tokens=6, batch_size=8,
                max_items_per_family=None)
    return config.EvalConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def lm():
    tok = tiny.plain_tokenizer()
    return tiny.llama(tok), tok


def test_evaluate_end_to_end_with_a_tiny_model(lm):
    stand = StandIn()
    metrics, samples, stats = evaluate(lm, ITEMS, eval_cfg(k=3), rewards=stand.rewards, extract_answer=extract)
    assert len(samples) == len(ITEMS) * 3 and stand.calls == {"accuracy": 1, "format": 1}
    assert samples.group_by("id").len()["len"].to_list() == [3] * len(ITEMS)
    assert 0 < samples["tokens"].max() <= 6
    assert set(metrics["by_family"]) == {"math", "countdown", "code"}
    assert stats["tokens"] == samples["tokens"].sum() and stats["tokens_per_s"] > 0


def test_eval_stage_writes_json_and_samples(lm, tmp_path, monkeypatch):
    """The stage on real rewards (math + countdown: no sandbox start-up) in a scratch workflow directory."""
    model, tok = lm
    monkeypatch.chdir(tmp_path)
    model.save_pretrained("models/base")
    tok.save_pretrained("models/base")
    Path("data/tasks").mkdir(parents=True)
    ITEMS.filter(pl.col("kind") != "code").with_columns(
        numbers=pl.Series([None, None, [1, 2]], dtype=pl.List(pl.Int64)), target=pl.Series([None, None, 3]),
    ).write_parquet("data/tasks/eval.parquet")
    cfg = config.load("ci")
    cfg = type(cfg)(**{**vars(cfg), "eval": eval_cfg(max_items_per_family=1)})
    eval_stage.main(start("eval_base", cfg))
    result = json.loads(Path("reports/eval/base.json").read_text())
    assert result["model"] == "base" and result["k"] == 2 and result["n_items"] == 2
    # timing in the run sidecar (DVC ignores it), none in the hashed json
    assert not timing_fields("reports/eval/base.json") and result["generation"]["tokens"] > 0
    run = json.loads(Path("reports/eval/base.run.json").read_text())
    assert run["wall_seconds"] > 0 and run["generation"]["tokens_per_s"] > 0
    assert {"seconds", "scoring_seconds"} <= set(run["generation"])
    assert set(result["metrics"]) == {*METRICS, "by_family"}
    samples = pl.read_parquet("reports/eval/base.samples.parquet")
    assert {"id", "sample", "completion", "correct", "tokens"} <= set(samples.columns) and len(samples) == 4
    assert not list(Path("reports/eval").glob(".*"))  # no temp files left


def test_metric_names_agree_with_the_report():
    assert METRICS == report.METRICS
