"""Part 2's trainers on tiny stand-ins: the shared SFT runner (loss goes down, completion-only loss, time cap,
resume from a complete checkpoint only) and the reward models (trained scores rank chosen above rejected)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest
from transformers import TrainerCallback

from helpers import tiny
from helpers.tiny import CapAt
from r1.build.clock import CapReached
from r1 import config
from r1.build import checkpoints
from r1.build.artifacts import RUN_INFO, THROUGHPUT, read_manifest, read_run_info, timing_fields
from r1.build.stage import start
from r1.data import readable as cold_start
from r1.model.modeling import load_model_and_tokenizer
from r1.train import reward_model as reward_models
from r1.train import sft


@pytest.fixture(scope="module")
def cfg():
    return config.load()


@pytest.fixture(scope="module")
def init(tmp_path_factory):
    return tiny.save_model(tmp_path_factory.mktemp("tiny") / "init")


@pytest.fixture(scope="module")
def moe_init(tmp_path_factory):
    """A tiny DeepSeek-V3 (MoE experts), as the default profile trains."""
    from helpers.tiny import TINY

    from r1.model import modeling

    tok = tiny.tokenizer()
    path = tmp_path_factory.mktemp("tiny_moe") / "init"
    modeling.save_model_and_tokenizer(modeling.build_model(TINY, tok), tok, path)
    return path


@pytest.fixture(scope="module")
def examples(cfg):
    df = tiny.tasks(30)
    completions = [cold_start.from_solution(s, a, k) for s, a, k in zip(df["solution"], df["answer"], df["kind"])]
    return sft.examples_frame(pl.DataFrame({"prompt": df["prompt"], "completion": completions}), seed=0)


def small(cfg, **kw):
    return dataclasses.replace(cfg.cold_start_sft, **{"max_steps": 8, "per_device_train_batch_size": 8,
                                                      "learning_rate": 3e-3, "save_steps": 4, "logging_steps": 2,
                                                      "warmup_ratio": 0.0, "bf16": False, **kw})


def test_examples_are_templated_like_eval_prompts(examples):
    from r1.tasks.schema import r1_zero_prompt

    assert all(p.startswith(r1_zero_prompt("")[:40]) and p.endswith("Assistant:") for p in examples["prompt"])


def test_sft_lowers_the_loss_and_saves_a_loadable_model(cfg, init, examples, tmp_path):
    from r1.model.generate import generate

    out = tmp_path / "out"
    out.mkdir()
    metrics = sft.train(init, examples, out, small(cfg), 0, work=tmp_path / "work")
    assert metrics["steps"] == 8 and metrics["final_loss"] < metrics["first_loss"]
    assert (out / "curve.tsv").read_text().splitlines()[0] == "step\tloss"
    # timing: returned and in the throughput sidecar, never in the hashed curve.tsv / metrics.json
    assert metrics["seconds"] > 0 and not timing_fields(out / "curve.tsv") and not timing_fields(out / "metrics.json")
    assert (out / THROUGHPUT).read_text().splitlines()[0] == "step\tseconds"
    texts = generate(out, ["User: hi. Assistant:"], n=2, max_new_tokens=5, temperature=1.0)
    assert len(texts[0]) == 2
    assert not (tmp_path / "work").exists()  # a finished run leaves no checkpoints to continue from


def test_sft_resumes_from_the_newest_complete_checkpoint_only(cfg, moe_init, examples, tmp_path, monkeypatch, capfd):
    init = moe_init
    work = tmp_path / "work"
    first = tmp_path / "a"
    first.mkdir()
    with monkeypatch.context() as m:  # as if killed right after its last checkpoint: nothing cleaned up
        m.setattr(checkpoints, "remove_finished", lambda *a, **k: None)
        sft.train(init, examples, first, small(cfg, max_steps=4), 0, work=work)
    assert sorted(p.name for p in work.glob("checkpoint-*")) == ["checkpoint-4"]
    assert checkpoints.is_complete(work / "checkpoint-4")
    saved = load_model_and_tokenizer(work / "checkpoint-4")[0].state_dict()
    broken = work / "checkpoint-6"  # a half-written checkpoint: no completion marker
    broken.mkdir()
    (broken / "model.safetensors").write_bytes(b"truncated")
    second = tmp_path / "b"
    second.mkdir()
    resumed_weights = {}

    class Snapshot(TrainerCallback):
        def on_train_begin(self, args, state, control, model=None, **kwargs):
            resumed_weights.update({k: v.detach().clone() for k, v in model.state_dict().items()})

    metrics = sft.train(init, examples, second, small(cfg, max_steps=8), 0, work=work, callbacks=[Snapshot()])
    assert metrics["steps"] == 8 and "resume from checkpoint-4" in capfd.readouterr().err
    assert not broken.exists()
    # the weights it went on from are checkpoint-4's, MoE experts included
    assert [k for k in saved if not resumed_weights[k].equal(saved[k])] == []


def test_a_capped_sft_run_fails_then_resumes_to_the_model_an_uninterrupted_run_builds(cfg, moe_init, examples,
                                                                                       tmp_path):
    """The cap stops SFT at a logging step with a checkpoint and CapReached, publishing nothing; the rerun writes
    the same weights, curve.tsv and metrics.json as a run that was never stopped."""
    whole, out = tmp_path / "whole", tmp_path / "out"
    whole.mkdir()
    out.mkdir()
    sft.train(moe_init, examples, whole, small(cfg, save_steps=100), 0, work=tmp_path / "w1")
    with pytest.raises(CapReached, match=r"reached at step 2 of 8.*checkpoint-2"):
        sft.train(moe_init, examples, out, small(cfg, save_steps=100), 0, work=tmp_path / "w2", cap=CapAt(1))
    assert not (out / "config.json").exists()
    sft.train(moe_init, examples, out, small(cfg, save_steps=100), 0, work=tmp_path / "w2")
    for name in ("curve.tsv", "metrics.json", "model.safetensors"):
        assert (out / name).read_bytes() == (whole / name).read_bytes(), name


def test_sft_masks_the_prompt_in_the_loss(cfg, init, examples, tmp_path):
    """completion_only_loss: the labels of prompt tokens are -100."""
    from trl import SFTConfig, SFTTrainer

    from r1.model.modeling import load_model_and_tokenizer

    model, tok = load_model_and_tokenizer(init)
    args = SFTConfig(output_dir=str(tmp_path), completion_only_loss=True, max_length=256, use_cpu=True,
                     report_to="none", eos_token=tok.eos_token)
    from datasets import Dataset

    ds = Dataset.from_dict({"prompt": examples["prompt"][:2].to_list(),
                            "completion": examples["completion"][:2].to_list()})
    trainer = SFTTrainer(model=model, args=args, train_dataset=ds, processing_class=tok)
    row = trainer.train_dataset[0]
    n_prompt = len(tok(examples["prompt"][0])["input_ids"])
    assert set(row["labels"][:n_prompt]) == {-100} and -100 not in row["labels"][n_prompt:]
    assert row["input_ids"][-1] == tok.eos_token_id  # the completion ends in eos: the model learns to stop


def test_reward_model_learns_to_rank_chosen_above_rejected(cfg, init, tmp_path):
    rm = dataclasses.replace(cfg.reward_models, max_steps=30, per_device_train_batch_size=8, learning_rate=3e-3,
                             bf16=False, heldout_share=0.25, warmup_ratio=0.0)
    pairs = pl.DataFrame({"id": [f"p{i}" for i in range(48)], "prompt": ["Say something kind."] * 48,
                          "chosen": ["Thank you, that is kind and helpful."] * 48,
                          "rejected": ["You idiot, go away."] * 48})
    metrics = reward_models.train_one("harmlessness", init, pairs, tmp_path / "harmlessness", rm, 0,
                                      work_dir=tmp_path / "work")
    assert metrics["heldout_accuracy"] == 1.0 and metrics["seconds"] > 0  # the stage moves seconds to run.json
    reward = reward_models.reward_function("harmlessness", tmp_path)
    scores = reward(["Thank you, that is kind and helpful.", "You idiot, go away.", "<answer> 3 </answer>"],
                    question=["Say something kind."] * 3, kind=["general", "general", "math"])
    assert scores[0] > scores[1] and scores[2] is None


def test_an_sft_stage_publishes_its_model_with_metrics_and_run_timing(tmp_path, monkeypatch):
    """`cold_start_sft` run in-process on tiny stand-ins: the model, its curve and metrics published with the
    manifest (metrics, init, its DAG inputs); the training seconds only in the run sidecar; no checkpoints left."""
    from r1.build import paths
    from r1.stages import cold_start_sft

    cfg = config.load("ci")
    cfg = dataclasses.replace(cfg, cold_start_sft=dataclasses.replace(
        cfg.cold_start_sft, max_steps=2, save_steps=1, logging_steps=1, per_device_train_batch_size=4, bf16=False))
    monkeypatch.chdir(tmp_path)
    tiny.save_model(tmp_path / paths.BASE)
    df = tiny.tasks(12)
    completions = [cold_start.from_solution(s, a, k) for s, a, k in zip(df["solution"], df["answer"], df["kind"])]
    (tmp_path / paths.COLD_START).mkdir(parents=True)
    pl.DataFrame({"prompt": df["prompt"], "completion": completions}).write_parquet(
        tmp_path / paths.COLD_START / "train.parquet")
    cold_start_sft.main(start("cold_start_sft", cfg))
    out = tmp_path / paths.COLD_START_SFT
    manifest = read_manifest(out)
    assert manifest["metrics"]["steps"] == 2 and manifest["init"] == str(paths.BASE)
    assert set(manifest["inputs"]) == {str(paths.BASE), str(paths.COLD_START)}
    assert set(manifest["params"]) == {"seed", "cold_start_sft", "compute"}
    assert read_run_info(out)["train_seconds"] > 0 and not timing_fields(out / "manifest.json")
    assert (out / "config.json").exists() and (out / "curve.tsv").exists() and (out / RUN_INFO).exists()
    assert not any((tmp_path / paths.checkpoints("cold_start_sft")).iterdir())


@pytest.mark.slow
def test_final_stage_runs_grpo_with_rule_and_model_rewards(tmp_path, monkeypatch):
    """The general-RL stage end to end on tiny stand-ins: rule rewards on task rows, reward models on general rows
    (the preference phase from the start here), a saved final model with per-reward metrics, and the reward
    registry as it was."""
    import torch
    from transformers import LlamaConfig, LlamaForSequenceClassification

    from r1.build import paths
    from r1.data import non_reasoning
    from r1.stages import final
    from r1.verify import rewards

    registry = dict(rewards.REWARDS)
    cfg = config.load("ci")
    cfg = dataclasses.replace(cfg, final=dataclasses.replace(cfg.final, preference_from=0.0, reasoning_prompts=16,
                                                             general_prompts=16))
    monkeypatch.chdir(tmp_path)
    tok = tiny.tokenizer()
    tiny.save_model(tmp_path / paths.SFT, tok)
    for name in ("helpfulness", "harmlessness"):
        torch.manual_seed(0)
        rm = LlamaForSequenceClassification(LlamaConfig(
            vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
            num_key_value_heads=4, num_labels=1, pad_token_id=tok.pad_token_id))
        rm.save_pretrained(tmp_path / paths.REWARD_MODELS / name)
        tok.save_pretrained(tmp_path / paths.REWARD_MODELS / name)
    (tmp_path / "data/tasks").mkdir(parents=True)
    tiny.tasks(30).write_parquet(tmp_path / "data/tasks/train.parquet")
    (tmp_path / paths.NON_REASONING).mkdir(parents=True)
    non_reasoning.synthetic(cfg.non_reasoning_set, 0).write_parquet(tmp_path / paths.NON_REASONING / "train.parquet")
    final.main(start("final", cfg))
    metrics = (tmp_path / paths.FINAL / "metrics.tsv").read_text()
    header = metrics.splitlines()[0].split("\t")
    # one column per reward, in the config's order: the rule rewards, then the preference rewards
    assert header[header.index("reflection_rate") + 1:] == [
        f"reward_{n}" for n in (*cfg.final.grpo.rewards, *cfg.final.preference_rewards)]
    assert not timing_fields(tmp_path / paths.FINAL / "metrics.tsv")
    assert not timing_fields(tmp_path / paths.FINAL / "manifest.json")  # the GRPO summary carries no minutes
    assert (tmp_path / paths.FINAL / "config.json").exists()
    assert dict(rewards.REWARDS) == registry  # the run lent nothing to the registry


def test_non_reasoning_examples_are_capped_at_their_share_of_the_mix():
    extra = pl.DataFrame({"prompt": [f"write {i}" for i in range(400)], "completion": ["text"] * 400})
    capped = sft.cap_share(extra, 300, 0.25, seed=0)
    assert len(capped) == 100  # 100 of 400 examples: a quarter
    assert capped.equals(sft.cap_share(extra, 300, 0.25, seed=0)) and not capped.equals(extra.head(100))
    assert len(sft.cap_share(extra, 3000, 0.25, seed=0)) == 400  # under the cap: all of it
    assert len(sft.cap_share(extra, 300, 0.0, seed=0)) == 0
    assert len(sft.cap_share(extra, 0, 0.25, seed=0)) == 400  # no reasoning rows: no mix to cap (ci's empty set)


def test_a_non_reasoning_share_outside_zero_to_one_names_the_key(cfg):
    raw = config.to_dict(cfg)
    raw["student"]["non_reasoning_share"] = 1.0
    with pytest.raises(config.ConfigError, match="student.non_reasoning_share"):
        config.validate(raw)
