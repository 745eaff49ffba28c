import copy

import pytest
import yaml

from r1 import config


@pytest.fixture
def raw():
    return config.load_raw("default")


def test_every_profile_is_valid():
    for path in sorted((config.ROOT / "configs").glob("*.yaml")):
        cfg = config.load(path.stem)
        assert cfg.profile == path.stem


def test_overlay_wins_and_keeps_the_rest():
    ci = config.load("ci")
    default = config.load("default")
    assert ci.r1_zero.max_steps < default.r1_zero.max_steps
    assert ci.r1_zero.learning_rate == default.r1_zero.learning_rate


def _error(raw) -> str:
    with pytest.raises(config.ConfigError) as err:
        config.validate(raw)
    return str(err.value)


def test_missing_key_is_named(raw):
    del raw["r1_zero"]["beta"]
    assert _error(raw) == "r1_zero.beta: missing key"


def test_misspelt_key_is_named_with_a_suggestion(raw):
    raw["r1_zero"]["lerning_rate"] = raw["r1_zero"].pop("learning_rate")
    msg = _error(raw)
    assert msg.startswith("r1_zero.lerning_rate: unknown key") and "learning_rate" in msg


def test_wrong_type_is_named(raw):
    raw["base"]["model"]["hidden_size"] = "big"
    assert _error(raw).startswith("base.model.hidden_size: expected an integer")
    raw = config.load_raw("default")
    raw["r1_zero"]["bf16"] = "yes"
    assert _error(raw).startswith("r1_zero.bf16: expected true or false")


def test_bool_is_not_a_number(raw):
    raw["r1_zero"]["learning_rate"] = True
    assert _error(raw).startswith("r1_zero.learning_rate: expected a number")


def test_group_must_divide_the_batch(raw):
    raw["r1_zero"]["num_generations"] = 6
    raw["r1_zero"]["generation_batch_size"] = 32
    msg = _error(raw)
    assert msg.startswith("r1_zero.generation_batch_size:") and "num_generations" in msg


def test_literal_choices(raw):
    raw["r1_zero"]["loss_type"] = "ppo"
    assert _error(raw).startswith("r1_zero.loss_type: 'ppo' is not one of")


def test_unknown_model_in_eval(raw):
    raw["eval"]["models"] = ["base", "r2"]
    assert _error(raw).startswith("eval.models[1]: unknown model 'r2'")


def test_unknown_overlay_key_is_named(tmp_path):
    (tmp_path / "configs").mkdir()
    (tmp_path / "params.yaml").write_text((config.ROOT / "params.yaml").read_text())
    (tmp_path / "configs" / "typo.yaml").write_text(yaml.safe_dump({"r1_zero": {"max_stepz": 3}}))
    with pytest.raises(config.ConfigError, match=r"r1_zero\.max_stepz: unknown key in overlay"):
        config.load_raw("typo", root=tmp_path)


def test_unknown_profile_lists_known_ones():
    with pytest.raises(config.ConfigError, match=r"known profiles: .*'ci'"):
        config.load_raw("nope")


def test_invalid_yaml_names_the_file(tmp_path):
    (tmp_path / "params.yaml").write_text("a: [1, 2\n")
    with pytest.raises(config.ConfigError, match="params.yaml: not valid YAML"):
        config.load_raw(root=tmp_path)


def test_cli_check_exits_nonzero_naming_the_key(tmp_path, monkeypatch, capsys):
    from r1 import cli

    raw = copy.deepcopy(config.load_raw("default"))
    raw["tasks"]["decontam_ngram"] = "eight"
    (tmp_path / "configs").mkdir()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "configs" / "default.yaml").write_text("profile: default\n")
    monkeypatch.setattr(config, "ROOT", tmp_path)
    assert cli.main(["check"]) == 1
    assert "tasks.decontam_ngram: expected an integer" in capsys.readouterr().err


def test_unknown_reward_name_fails_validation(raw):
    raw["r1_zero"]["rewards"]["acuracy"] = 1.0
    msg = _error(raw)
    assert msg.startswith("r1_zero.rewards.acuracy: unknown reward") and "'accuracy'" in msg


def test_every_documented_reward_name_resolves():
    from r1.verify import rewards

    for name in rewards.NAMES:
        assert callable(rewards.get(name))


def test_corpus_kinds_name_task_families(raw):
    raw["base"]["corpus_kinds"]["maths"] = 0.2
    msg = _error(raw)
    assert "corpus_kinds.maths: unknown task family" in msg, msg
    raw["base"]["corpus_kinds"] = {"math": 0.0}
    assert "corpus_kinds: shares must be >= 0 with a positive sum" in _error(raw)


def test_countdown_ops_must_be_arithmetic_operators(raw):
    raw["tasks"]["countdown_ops"] = "+x"
    assert "countdown_ops: '+x' must be distinct characters from '+-*/'" in _error(raw)


def test_train_threads_must_be_positive(raw):
    raw["compute"]["train_threads"] = 0
    assert "compute.train_threads: must be at least 1" in _error(raw)


@pytest.mark.parametrize("old, new, where", [("reasoning_rl", "interim", "params.yaml"),
                                             ("distill", "student", "configs/ci.yaml")])
def test_an_old_section_name_says_what_it_was_renamed_to(tmp_path, old, new, where):
    """A stage, its params section, its module and its artifact share one name; old params files fail clearly."""
    raw = config.load_raw("default")
    (tmp_path / "configs").mkdir()
    params = {**raw, "profile": "ci"}
    overlay = {"profile": "ci"}
    if where == "params.yaml":
        params[old] = params.pop(new)
    else:
        overlay[old] = {"max_steps": 3}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    (tmp_path / "configs" / "ci.yaml").write_text(yaml.safe_dump(overlay))
    with pytest.raises(config.ConfigError, match=f"^{old}: renamed to '{new}' \\(in {where}\\)"):
        config.load(root=tmp_path)


@pytest.mark.parametrize("section, key, stage", [("r1_zero", "max_minutes", "r1_zero"),
                                                 ("reasoning_set", "max_minutes_per_shard", "reasoning_shard")])
def test_an_old_time_cap_says_where_it_moved(tmp_path, section, key, stage):
    """Caps left the stage sections: a cap fails a stage, it no longer ends one early, and it is not a stage param."""
    raw = config.load_raw("default")
    raw[section][key] = 5.0
    (tmp_path / "configs").mkdir()
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "configs" / "default.yaml").write_text("profile: default\n")
    with pytest.raises(config.ConfigError, match=rf"^{section}.{key}: moved to time_caps.minutes.{stage}"):
        config.load(root=tmp_path)


def test_time_caps_name_capped_stages_and_are_positive(raw):
    raw["time_caps"]["minutes"]["eval"] = 5.0
    assert "time_caps.minutes.eval: no time cap for this stage" in _error(raw)
    del raw["time_caps"]["minutes"]["eval"]
    raw["time_caps"]["minutes"]["base"] = 0
    assert "time_caps.minutes.base: must be positive, or null for no cap" in _error(raw)


def test_no_stage_reads_its_time_cap_as_a_param():
    """Editing a cap must rerun nothing: no DAG row lists the section."""
    from r1.build import dag

    assert not any("time_caps" in s.params for s in dag.for_params(config.load()).values())
