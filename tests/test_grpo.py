import dataclasses

import pytest

from r1 import config, grpo, modeling
from r1.artifacts import THROUGHPUT, timing_fields
from r1.r1_zero import rl_rows

from test_corpus import _records
from test_modeling import TEXTS, TINY


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny_base")
    tok = modeling.train_tokenizer(TEXTS, 300)
    modeling.save_model_and_tokenizer(modeling.build_model(TINY, tok), tok, d)
    return d


def _cfg(**over):
    g = config.load("ci").r1_zero
    kw = dict(num_generations=2, generation_batch_size=4, max_completion_length=8, max_steps=2, save_steps=1,
              max_minutes=1.0, bf16=False, beta=0.001)
    return dataclasses.replace(g, **{**kw, **over})


def _rows():
    return rl_rows([r for r in _records("train", 20, 7) if r["kind"] != "code"])


def test_grpo_runs_two_steps_and_writes_metrics(tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    summary = grpo.run_grpo(tiny_model_dir, out, _cfg(), _rows(), seed=0, checkpoint_dir=tmp_path / "ckpt")
    assert summary["steps"] == 2
    rows = grpo.read_metrics(out / grpo.METRICS)
    assert [int(r["step"]) for r in rows] == [1, 2]
    # the clock goes to the throughput sidecar: metrics.tsv and the summary (both hashed) hold no timing
    assert not timing_fields(out / grpo.METRICS) and not set(summary) & {"minutes", "seconds"}
    timing = grpo.read_metrics(out / THROUGHPUT)
    assert [int(r["step"]) for r in timing] == [1, 2] and all(float(r["elapsed_s"]) >= 0 for r in timing)
    for col in ("accuracy", "reward_accuracy", "reward_format", "completion_length", "kl", "reflection_rate"):
        assert rows[-1][col] != "", col
    assert (out / "config.json").exists() and (out / "tokenizer.json").exists()
    assert all(grpo.is_complete(p) for p in (tmp_path / "ckpt").glob("checkpoint-*"))


def test_resume_skips_an_unmarked_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    for step, marked in ((5, True), (10, True), (15, False)):
        (ckpt / f"checkpoint-{step}").mkdir(parents=True)
        if marked:
            grpo.mark_complete(ckpt / f"checkpoint-{step}")
    assert grpo.last_complete_checkpoint(ckpt) == ckpt / "checkpoint-10"
    assert not (ckpt / "checkpoint-15").exists()  # the half-written one is removed
    assert grpo.last_complete_checkpoint(tmp_path / "none") is None


def test_rerun_resumes_from_last_complete_checkpoint(tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    ckpt = tmp_path / "ckpt"
    grpo.run_grpo(tiny_model_dir, out, _cfg(), _rows(), seed=0, checkpoint_dir=ckpt)
    # the newest checkpoint lost its marker (killed mid-save), and its files are truncated
    newest = ckpt / "checkpoint-2"
    (newest / grpo.MARKER).unlink()
    for f in newest.glob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:10])
    summary = grpo.run_grpo(tiny_model_dir, out, _cfg(max_steps=3), _rows(), seed=0, checkpoint_dir=ckpt)
    assert summary["resumed_from"].endswith("checkpoint-1")
    assert summary["steps"] == 3
    assert [int(r["step"]) for r in grpo.read_metrics(out / grpo.METRICS)] == [1, 2, 3]
    assert [int(r["step"]) for r in grpo.read_metrics(out / THROUGHPUT)] == [1, 2, 3]  # cut back on resume too
