import dataclasses

import pytest

from r1 import config
from r1.build import checkpoints
from r1.build.artifacts import THROUGHPUT, timing_fields
from r1.model import modeling
from r1.train import grpo
from r1.verify import rewards

from helpers.tiny import CapAt, records
from r1.build.clock import CapReached
from helpers.tiny import TEXTS, TINY


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny_base")
    tok = modeling.train_tokenizer(TEXTS, 300)
    modeling.save_model_and_tokenizer(modeling.build_model(TINY, tok), tok, d)
    return d


def _cfg(**over):
    g = config.load("ci").r1_zero
    kw = dict(num_generations=2, generation_batch_size=4, max_completion_length=8, max_steps=2, save_steps=1,
              bf16=False, beta=0.001)
    return dataclasses.replace(g, **{**kw, **over})


def _rows():
    return grpo.rl_rows([r for r in records("train", 20, 7) if r["kind"] != "code"])


def _rewards(cfg):
    """The rule rewards of `cfg.rewards`, as the GRPO stages on the tasks pass them."""
    return {name: rewards.get(name) for name in cfg.rewards}


def test_grpo_runs_two_steps_and_writes_metrics(tiny_model_dir, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    summary = grpo.run_grpo(tiny_model_dir, out, _cfg(), _rows(), _rewards(_cfg()), seed=0,
                            checkpoint_dir=tmp_path / "ckpt")
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
    assert not any((tmp_path / "ckpt").iterdir())  # a finished run leaves no checkpoints to continue from


class Killed(Exception):
    pass


def _killer(at_step: int):
    """A callback that kills the run once checkpoint-<at_step> is saved (and marked complete)."""
    from transformers import TrainerCallback

    class Kill(TrainerCallback):
        def on_save(self, args, state, control, **kwargs):
            if state.global_step == at_step:
                raise Killed(at_step)

    return Kill()


def _killed_run(model_dir, tmp_path, ckpt, cfg, at_step):
    out = tmp_path / "killed"
    out.mkdir(exist_ok=True)
    with pytest.raises(Killed):
        grpo.run_grpo(model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt,
                      callbacks=[_killer(at_step)])
    (work,) = [p for p in ckpt.iterdir() if p.is_dir()]
    return work


def test_resume_skips_an_unmarked_checkpoint(tmp_path):
    ckpt = tmp_path / "ckpt"
    for step, marked in ((5, True), (10, True), (15, False)):
        (ckpt / f"checkpoint-{step}").mkdir(parents=True)
        if marked:
            checkpoints.mark_complete(ckpt / f"checkpoint-{step}")
    assert checkpoints.last_complete(ckpt) == ckpt / "checkpoint-10"
    assert not (ckpt / "checkpoint-15").exists()  # the half-written one is removed
    assert checkpoints.last_complete(tmp_path / "none") is None


def test_a_killed_run_resumes_from_its_last_complete_checkpoint_with_its_weights(tiny_model_dir, tmp_path, capfd):
    from transformers import TrainerCallback

    ckpt = tmp_path / "ckpt"
    # a reward that varies within a group (by length) and a large step, so that every weight moves at step 1
    cfg = _cfg(max_steps=3, rewards={"length": 1.0}, learning_rate=1e-2)
    work = _killed_run(tiny_model_dir, tmp_path, ckpt, cfg, at_step=2)
    # checkpoint-2 lost its marker (killed mid-save) and its files are truncated: resume from checkpoint-1
    newest = work / "checkpoint-2"
    (newest / checkpoints.MARKER).unlink()
    for f in newest.glob("*.safetensors"):
        f.write_bytes(f.read_bytes()[:10])
    saved = modeling.load_model_and_tokenizer(work / "checkpoint-1")[0].state_dict()
    start = modeling.load_model_and_tokenizer(tiny_model_dir)[0].state_dict()
    experts = [k for k in saved if ".experts." in k]
    assert experts and any(not saved[k].equal(start[k]) for k in experts)  # the MoE experts did train

    resumed_weights = {}

    class Snapshot(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            resumed_weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})

    out = tmp_path / "out"
    out.mkdir()
    summary = grpo.run_grpo(tiny_model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt,
                            callbacks=[Snapshot()])
    assert summary["steps"] == 3 and f"resuming from {work / 'checkpoint-1'}" in capfd.readouterr().err
    # every weight, the experts included, is the checkpoint's (the Trainer's own reload left experts at the start's)
    assert set(resumed_weights) >= set(saved)
    assert [k for k in saved if not resumed_weights[k].equal(saved[k])] == []
    assert [int(r["step"]) for r in grpo.read_metrics(out / grpo.METRICS)] == [1, 2, 3]
    assert [int(r["step"]) for r in grpo.read_metrics(out / THROUGHPUT)] == [1, 2, 3]  # cut back on resume too
    assert not any(ckpt.iterdir())  # finished: nothing left to continue from


def test_a_rerun_with_other_settings_starts_afresh(tiny_model_dir, tmp_path, capfd):
    ckpt = tmp_path / "ckpt"
    old = _killed_run(tiny_model_dir, tmp_path, ckpt, _cfg(max_steps=3), at_step=2)
    assert checkpoints.last_complete(old, remove_incomplete=False).name == "checkpoint-2"
    out = tmp_path / "out"
    out.mkdir()
    cfg = _cfg(max_steps=3, learning_rate=1e-3)
    summary = grpo.run_grpo(tiny_model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt)
    assert summary["steps"] == 3 and "resuming" not in capfd.readouterr().err
    assert not old.exists()  # the other run's checkpoints are gone
    # and a finished run is not continued by its own rerun either: the rerun trains from the start again
    again = grpo.run_grpo(tiny_model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt)
    assert again["steps"] == 3 and "resuming" not in capfd.readouterr().err


def test_every_weighted_reward_needs_its_function(tiny_model_dir, tmp_path):
    cfg = _cfg(rewards={"accuracy": 1.0, "format": 0.5})
    with pytest.raises(ValueError, match="format"):
        grpo.run_grpo(tiny_model_dir, tmp_path, cfg, _rows(), {"accuracy": rewards.get("accuracy")}, seed=0,
                      checkpoint_dir=tmp_path / "ckpt")


def test_a_capped_run_fails_then_resumes_to_the_model_an_uninterrupted_run_builds(tiny_model_dir, tmp_path):
    """The time cap stops GRPO with a checkpoint and CapReached, publishing nothing; the rerun continues from the
    checkpoint and writes the same weights and metrics.tsv as a run that was never stopped."""
    cfg = _cfg(max_steps=3, rewards={"length": 1.0}, learning_rate=1e-2, save_steps=10)
    whole = tmp_path / "whole"
    whole.mkdir()
    grpo.run_grpo(tiny_model_dir, whole, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=tmp_path / "c1")

    ckpt, out = tmp_path / "c2", tmp_path / "out"
    out.mkdir()
    with pytest.raises(CapReached, match=r"reached at step 1 of 3.*checkpoint-1"):
        grpo.run_grpo(tiny_model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt, cap=CapAt(1))
    assert not (out / "config.json").exists()
    grpo.run_grpo(tiny_model_dir, out, cfg, _rows(), _rewards(cfg), seed=0, checkpoint_dir=ckpt)
    assert (out / grpo.METRICS).read_bytes() == (whole / grpo.METRICS).read_bytes()
    a = modeling.load_model_and_tokenizer(whole)[0].state_dict()
    b = modeling.load_model_and_tokenizer(out)[0].state_dict()
    assert [k for k in a if not a[k].equal(b[k])] == []


def test_every_reward_function_is_gated_on_accuracy(tiny_model_dir, tmp_path, monkeypatch):
    """An unscored task row (accuracy None) must get None from every function, the reflection probe included: TRL
    drops a completion from its group's baseline only then; a format reward alone would read as a partial pass."""
    import trl

    seen = {}

    class Stop(Exception):
        pass

    def spy(self, *args, reward_funcs=None, **kwargs):
        seen["funcs"] = reward_funcs
        raise Stop

    monkeypatch.setattr(trl.GRPOTrainer, "__init__", spy)
    with pytest.raises(Stop):
        grpo.run_grpo(tiny_model_dir, tmp_path, _cfg(), _rows(), _rewards(_cfg()), seed=0, checkpoint_dir=tmp_path / "c")
    comps = ["<think>wait</think> <answer>4</answer>"] * 2
    cols = {"kind": ["math", "code"], "answer": ["4", None], "tests": [None, None], "entry_point": [None, None]}
    values = [f(comps, prompts=["p", "p"], **cols) for f in seen["funcs"]]
    assert [v[1] for v in values] == [None] * len(values)  # the code row has no tests: nothing scores it
    assert all(v[0] is not None for v in values)
