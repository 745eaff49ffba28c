"""SLURM jobs from the DAG: GPUs, partitions and wall times per stage; the site settings and their placeholder."""

import os
import sys
from pathlib import Path

import pytest
import yaml

from r1 import config
from r1.build import dag, slurm

SITE = {"slurm_account": "acct", "slurm_partition": "cpuq", "gpu_partition": "gpuq"}


def _full():
    return dag.for_params(config.load("full"))


def test_every_gpu_stage_of_the_full_dag_goes_to_the_gpu_partition_with_its_gpus():
    """Part 1's stages, the shards and the evals too: nothing is routed by a list of rule names."""
    cfg = config.load("full")
    stages = dag.for_params(cfg)
    routed = {name: slurm.job_resources(s, True, cfg.time_caps.of(s.module), SITE) for name, s in stages.items()}
    for name, res in routed.items():
        assert (res["gpu"] > 0) == stages[name].gpu, name
        assert res.get("slurm_partition") == ("gpuq" if stages[name].gpu else None), name
    assert routed["base"]["gpu"] == routed["r1_zero"]["gpu"] == routed["student"]["gpu"] == dag.GPUS_PER_TRAINING_JOB
    shards = [n for n in routed if n.startswith("reasoning_shard_")]
    assert len(shards) == cfg.reasoning_set.n_shards and all(routed[n]["gpu"] == 1 for n in shards)
    assert routed["eval_final"]["gpu"] == 1 and routed["tasks"]["gpu"] == 0


def test_below_full_scale_no_stage_asks_for_a_gpu():
    cfg = config.load("ci")
    for stage in dag.for_params(cfg).values():
        res = slurm.job_resources(stage, False, cfg.time_caps.of(stage.module), SITE)
        assert res["gpu"] == 0 and "slurm_partition" not in res, stage.name


def test_every_full_scale_gpu_job_has_a_wall_time_and_memory_of_its_own():
    for stage in _full().values():
        if slurm.gpus(stage, True):
            assert set(slurm.FULL_SCALE_JOBS.get(stage.module, {})) == {"runtime", "mem_mb"}, stage.module
    assert set(slurm.FULL_SCALE_JOBS) <= {s.module for s in _full().values()}, "entry for a module not in the DAG"


def test_a_capped_stage_gets_its_cap_plus_a_margin_so_the_cap_fires_first():
    stage = dag.for_params(config.load("ci"))["base"]
    assert slurm.job_resources(stage, False, 10.0, {})["runtime"] == 10 + slurm.RUNTIME_MARGIN_MINUTES
    assert slurm.job_resources(stage, False, 2.5, {})["runtime"] == 3 + slurm.RUNTIME_MARGIN_MINUTES
    assert "runtime" not in slurm.job_resources(stage, False, None, {})


def test_side_branches_yield_to_the_main_chain_in_the_queue():
    stages = dag.for_params(config.load("ci"))
    for stage in stages.values():
        extra = slurm.job_resources(stage, False, None, SITE).get("slurm_extra", "")
        assert ("--nice=" in extra) == stage.side_branch, stage.name
    assert stages["student_base"].side_branch and not stages["r1_zero"].side_branch


def _profile(name):
    return yaml.safe_load((Path(__file__).resolve().parents[3] / "profiles" / name / "config.yaml").read_text())


def test_the_shipped_site_profile_fails_naming_each_placeholder_and_the_file():
    site = slurm.site_settings(_profile("slurm")["default-resources"])
    assert set(site) == set(slurm.SITE_KEYS)
    with pytest.raises(slurm.SiteError) as err:
        slurm.check_site(site, no_account=False, needs_gpus=True)
    message = str(err.value)
    assert slurm.PROFILE in message
    for key in slurm.SITE_KEYS:
        assert f"{key}: still the placeholder {slurm.PLACEHOLDER}" in message


def test_the_local_cluster_profile_fills_every_key_it_needs():
    local = _profile("slurm-local")
    assert local["slurm-no-account"] is True
    slurm.check_site(slurm.site_settings(local["default-resources"]), no_account=True, needs_gpus=True)


def test_a_command_line_default_resources_that_drops_a_site_key_is_named():
    with pytest.raises(slurm.SiteError, match=r"slurm_partition: missing(.|\n)*replaces the profile's whole block"):
        slurm.check_site(slurm.site_settings({"runtime": 30, "slurm_account": "acct"}), no_account=False,
                         needs_gpus=False)


def test_the_account_is_not_needed_without_accounting_nor_the_gpu_partition_without_gpu_jobs():
    slurm.check_site({"slurm_partition": "cpuq"}, no_account=True, needs_gpus=False)
    with pytest.raises(slurm.SiteError, match="gpu_partition: missing"):
        slurm.check_site({"slurm_partition": "cpuq"}, no_account=True, needs_gpus=True)


def test_site_settings_reads_snakemakes_default_resources_arguments():
    class Parsed:
        args = ["tmpdir=system_tmpdir", "slurm_account='acct'", 'gpu_partition="gpu q"', "mem_mb=100"]

    assert slurm.site_settings(Parsed()) == {"slurm_account": "acct", "gpu_partition": "gpu q"}
    assert slurm.site_settings(None) == {}


def test_the_jobs_python_must_be_the_projects(tmp_path):
    slurm.check_python(str(Path(sys.executable).parent))  # this venv: has the stages' packages
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "python").write_text("#!/bin/sh\nexit 1\n")
    os.chmod(bare / "python", 0o755)
    with pytest.raises(slurm.SiteError, match="source .venv/bin/activate"):
        slurm.check_python(str(bare))
    with pytest.raises(slurm.SiteError, match="not found"):
        slurm.check_python(str(tmp_path / "nothing"))


def test_the_snakefile_gives_each_rule_the_derived_resources(root):
    """The wiring in rules/common.smk: parse the real Snakefile on the full profile with the site's defaults."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings()) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=64, default_resources=SITE | {"mem_mb": 1000}),
                          config_settings=ConfigSettings(configfiles=[root / "configs" / "full.yaml"]),
                          snakefile=root / "Snakefile", workdir=root)
        rules = {r.name: r for r in wf._workflow.rules}
    for name in ("base", "r1_zero", "reasoning_shard_000", "eval_base", "tasks"):
        res = dict(rules[name].resources.items())
        expected = slurm.job_resources(_full()[name], True, None, SITE)
        assert res["gpu"] == expected["gpu"], name
        assert res.get("slurm_partition", "cpuq") == expected.get("slurm_partition", "cpuq"), name
