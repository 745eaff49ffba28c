"""GRPO across a launch: the per-process batch arithmetic and TRL's vLLM settings, from params to GRPOConfig."""

import dataclasses

import pytest

from r1 import config
from r1.build import dag, launch
from r1.config import GRPO_SECTIONS, ConfigError
from r1.train import grpo


def _ci(**over):
    return dataclasses.replace(config.load("ci").r1_zero, **over)


@pytest.mark.parametrize("world, accum, expected", [(1, 1, 16), (2, 1, 8), (2, 2, 4), (4, 4, 1)])
def test_per_process_batch_splits_the_step_over_processes_and_accumulation(world, accum, expected):
    assert _ci(generation_batch_size=16, gradient_accumulation_steps=accum).per_device_batch(world) == expected


@pytest.mark.parametrize("world, accum", [(3, 1), (2, 3), (32, 1)])
def test_a_batch_that_does_not_split_names_the_keys(world, accum):
    with pytest.raises(ConfigError) as err:
        _ci(generation_batch_size=16, gradient_accumulation_steps=accum).per_device_batch(world)
    msg = str(err.value)
    assert msg.startswith("generation_batch_size: 16 ") and "gradient_accumulation_steps" in msg
    assert f"{world} processes" in msg


def test_grpo_config_gets_the_per_process_batch_and_keeps_the_step_global(tmp_path):
    cfg = _ci(generation_batch_size=16, gradient_accumulation_steps=1)
    args = grpo.grpo_args(cfg, tmp_path, 0, [1.0, 1.0], world_size=2)
    assert args.per_device_train_batch_size == 8 and args.generation_batch_size == 16
    with pytest.raises(ConfigError, match="generation_batch_size: 16 .* 3 processes"):
        grpo.grpo_args(cfg, tmp_path, 0, [1.0, 1.0], world_size=3)


def test_full_profile_batches_split_over_their_launch():
    full = config.load("full")
    batches = launch.check_grpo_batches(full)
    rows = dag.for_params(full)
    assert set(batches) == set(GRPO_SECTIONS)
    # interim, final and rl_student launch on 8 processes: 512 completions per step -> 64 per process
    assert launch.processes(rows["interim"]) == 8 and batches["interim"] == 512 // 8
    for section, per_process in batches.items():
        grpo_cfg = full.final.grpo if section == "final.grpo" else getattr(full, section)
        stage = rows[section.split(".")[0]]
        assert per_process * launch.processes(stage) * grpo_cfg.gradient_accumulation_steps == \
            grpo_cfg.generation_batch_size


def test_check_grpo_batches_names_the_section_that_does_not_split():
    full = config.load("full")
    bad = dataclasses.replace(full, interim=dataclasses.replace(full.interim, gradient_accumulation_steps=3))
    with pytest.raises(ConfigError, match=r"^interim\.generation_batch_size: 512 .* 8 processes"):
        launch.check_grpo_batches(bad)


def test_full_profile_turns_vllm_on_in_every_grpo_section():
    full = config.load("full")
    for section in GRPO_SECTIONS:
        cfg = full.final.grpo if section == "final.grpo" else getattr(full, section)
        assert cfg.use_vllm and cfg.vllm_mode in ("colocate", "server"), section
    assert not any(getattr(config.load("ci"), s).use_vllm for s in ("r1_zero", "interim", "rl_student"))


def test_vllm_settings_reach_grpo_config(tmp_path, monkeypatch):
    # the settings, not a GPU, are under test: skip the launch's GPU check (tested below), keep the batch split
    monkeypatch.setattr(config.GRPOStageConfig, "check_launch", lambda self, world, cuda: self.per_device_batch(world))
    cfg = _ci(use_vllm=True, vllm_mode="server", vllm_gpu_memory_utilization=0.55, vllm_tensor_parallel_size=2)
    args = grpo.grpo_args(cfg, tmp_path, 0, [1.0, 1.0], world_size=1)
    assert (args.use_vllm, args.vllm_mode, args.vllm_gpu_memory_utilization, args.vllm_tensor_parallel_size) == (
        True, "server", 0.55, 2)
    off = grpo.grpo_args(_ci(), tmp_path, 0, [1.0, 1.0], world_size=1)
    assert off.use_vllm is False


def test_vllm_without_a_gpu_fails_when_the_grpo_config_is_built(tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError) as err:
        grpo.grpo_args(_ci(use_vllm=True), tmp_path, 0, [1.0, 1.0], world_size=1)
    assert str(err.value).startswith("use_vllm: true") and "GPU" in str(err.value)


def test_colocated_vllm_tensor_parallel_must_divide_the_processes():
    with pytest.raises(ConfigError, match="vllm_tensor_parallel_size: 3 does not divide the launch's 8"):
        _ci(use_vllm=True, vllm_tensor_parallel_size=3).check_launch(8, cuda=True)


@pytest.mark.parametrize("key, value, msg", [("vllm_gpu_memory_utilization", 0.0, "must lie in"),
                                             ("vllm_tensor_parallel_size", 0, "at least 1"),
                                             ("vllm_mode", "remote", "is not one of")])
def test_vllm_keys_are_validated_when_the_profile_loads(key, value, msg):
    raw = config.load_raw("ci")
    raw["r1_zero"][key] = value
    with pytest.raises(ConfigError, match=f"r1_zero.{key}: .*{msg}"):
        config.validate(raw)


def test_cpu_launch_command_is_the_full_profile_launch_with_processes_and_backend_changed():
    rows = dag.for_params(config.load("ci"))
    for name in ("cold_start_sft", "student", "base"):
        stage = rows[name]
        full = stage.multi_gpu_command("ci").split()
        cpu = launch.cpu_command(stage, "ci", 2).split()
        if stage.launch:  # same launcher, same accelerate config file, same module and arguments
            assert cpu[:4] == full[:4] == ["accelerate", "launch", "--config_file",
                                           f"configs/accelerate/{stage.launch}.yaml"]
        assert cpu[cpu.index("-m"):] == full[full.index("-m"):] if "-m" in full else full[1:]
        assert "--multi_gpu" in cpu and cpu[cpu.index("--num_processes") + 1] == "2" and "--cpu" not in cpu
    with pytest.raises(ValueError, match="does not train"):
        launch.cpu_command(rows["tasks"], "ci")
