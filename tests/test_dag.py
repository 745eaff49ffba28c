"""One DAG: dvc.yaml and the Snakefile are both derived from r1/dag.py; these tests fail on any drift."""

from pathlib import Path

import pytest
import yaml

from r1 import config, dag

TEE = " 2>&1 | tee {log}"


def _dvc_stages(root):
    return yaml.safe_load((root / "dvc.yaml").read_text())["stages"]


def test_dvc_yaml_is_generated_from_the_dag(root):
    assert (root / "dvc.yaml").read_text() == dag.render_dvc_yaml(config.load().eval.models), \
        "dvc.yaml drifted from r1/dag.py: run `r1 dag --write`"


def _snakemake_rules(root, profile="default"):
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    configfiles = [root / "configs" / f"{profile}.yaml"]
    with SnakemakeApi(OutputSettings()) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                          config_settings=ConfigSettings(configfiles=configfiles),
                          snakefile=root / "Snakefile", workdir=root)
        return {r.name: r for r in wf._workflow.rules if r.name != "all"}


@pytest.mark.parametrize("profile", ["default", "ci"])
def test_snakefile_agrees_with_dvc_yaml(root, profile):
    rules = _snakemake_rules(root, profile)
    stages = _dvc_stages(root)
    assert set(rules) == set(stages)
    for name, spec in stages.items():
        rule = rules[name]
        render = lambda s: s.replace("${profile}", profile)  # noqa: E731
        assert rule.shellcmd == render(spec["cmd"]) + TEE, name
        # the one intended difference: DVC tracks the overlay file, Snakemake the resolved params themselves
        overlay = render(dag.PROFILE_FILE.format(profile="${profile}"))
        assert sorted(map(str, rule.input)) == sorted(render(d) for d in spec["deps"] if render(d) != overlay), name
        outs = spec.get("outs", []) + [next(iter(m)) for m in spec.get("metrics", [])]
        assert sorted(map(str, rule.output)) == sorted(outs), name
        assert set(rule.params.cfg) == set(spec["params"]), name


def test_every_declared_code_path_exists_or_is_owned(root):
    """A dependency that names no file would make a stage unbuildable."""
    missing = [p for s in dag.stages(config.load().eval.models) for p in s.code + dag.SHARED_CODE
               if not (root / p).exists()]
    assert not missing, f"declared code not found: {sorted(set(missing))}"


def test_stage_modules_have_a_main(root):
    for stage in dag.stages(config.load().eval.models):
        assert (root / "r1" / f"{stage.module}.py").exists(), stage.module


def test_training_stages_read_compute_and_the_others_do_not():
    """The thread count changes a training stage's weights, so editing it reruns exactly the training stages."""
    stages = dag.by_name(["base", "r1_zero"])
    assert "compute" in stages["base"].params and "compute" in stages["r1_zero"].params
    assert "compute" in stages["final"].params and "compute" in stages["student_base"].params
    for name in ("tasks", "eval_base", "cold_start", "reasoning_set", "non_reasoning_set"):
        assert "compute" not in stages[name].params, name
