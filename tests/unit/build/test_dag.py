"""One DAG: dvc.yaml and the Snakefile are both derived from r1/build/dag.py; code deps come from imports."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from r1 import config
from r1.build import codedeps, dag

TEE = " 2>&1 | tee {log}"


def _stages(profile="default"):
    return dag.for_params(config.load(profile))


def _dvc_stages(root):
    return yaml.safe_load((root / "dvc.yaml").read_text())["stages"]


def test_dvc_yaml_is_generated_from_the_dag(root):
    assert (root / "dvc.yaml").read_text() == dag.render_dvc_yaml(config.load()), \
        "dvc.yaml drifted from r1/build/dag.py: run `r1 dag --write`"


def snakemake_format(template, **fields):
    from snakemake.utils import format as smk_format

    return smk_format(template, **fields)


def is_flagged(path, flag):
    from snakemake.io import is_flagged as flagged

    return flagged(path, flag)


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
        # the rule's command holds Snakemake's {input.<stage>} and {output[i]} placeholders: filled with the rule's
        # own paths, it is DVC's command
        assert snakemake_format(rule.shellcmd, input=rule.input, output=rule.output, log="{log}") == \
            render(spec["cmd"]) + TEE, name
        # the one intended difference: DVC tracks the overlay file, Snakemake the resolved params themselves
        overlay = render(dag.PROFILE_FILE.format(profile="${profile}"))
        assert sorted(map(str, rule.input)) == sorted(render(d) for d in spec["deps"] if render(d) != overlay), name
        outs = spec.get("outs", []) + [next(iter(m)) for m in spec.get("metrics", [])]
        assert sorted(map(str, rule.output)) == sorted(outs), name
        assert set(rule.params.cfg) == set(spec["params"]), name
        # under a default storage provider the code stays the job's own files, the artifacts go through storage
        stage = dag.for_params(config.load(profile, root=root))[name]
        local = {str(f) for f in rule.input if is_flagged(f, "local")}
        assert local == set(stage.code) and not local & set(stage.deps), name


@pytest.mark.parametrize("profile", ["default", "smollm2"])
def test_training_jobs_go_before_evals_when_both_could_run(root, profile):
    """A one-thread eval started first leaves a core idle beside it (no two-thread training job fits there): the
    Snakefile gives evals the lowest priority, side branches the next, the main chain the highest."""
    rules = _snakemake_rules(root, profile)
    stages = _stages(profile)
    evals = {n for n, s in stages.items() if s.module == "eval"}
    trainings = {n for n, s in stages.items() if s.trains}
    assert evals and trainings
    assert max(rules[n].priority for n in evals) < min(rules[n].priority for n in trainings)
    assert rules["student"].priority < rules["r1_zero"].priority  # a side branch yields to the main chain
    assert {rules[n].priority for n in rules} == {s.priority for s in stages.values()}


def test_one_name_per_stage(root):
    """A stage's module is r1/stages/<name>.py (a family's: <module>_<instance>), its params section is its name
    where it has one of its own, and its artifact is named after it."""
    params = set(config.load().__dataclass_fields__)
    for name, stage in _stages().items():
        assert (root / "r1" / "stages" / f"{stage.module}.py").is_file(), name
        assert name == (f"{stage.module}_{stage.instance}" if stage.instance else stage.module), name
        if not stage.instance and name in params:
            assert name in stage.params, name
        if not stage.instance and stage.name != "report":
            assert Path(stage.outs[0]).name == name, name


def test_every_stage_module_is_a_stage_and_nothing_imports_a_stage(root):
    modules = {s.module for s in _stages().values()}
    files = {p.stem for p in (root / "r1" / "stages").glob("*.py")} - {"__init__"}
    assert files == modules, files ^ modules
    for path in (root / "r1").rglob("*.py"):
        if path.parent.name != "stages":
            module = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            imported = codedeps.modules(root, module)
            assert not [m for m in imported if m.startswith("r1.stages")], path


def test_code_deps_are_what_the_stage_imports(root):
    """The walk follows imports at any depth (inside functions too), and names each file once, sorted."""
    stages = _stages()
    grpo = stages["r1_zero"].code
    for rel in ("r1/stages/r1_zero.py", "r1/train/grpo.py", "r1/build/checkpoints.py", "r1/verify/rewards.py",
                "r1/tasks/pools.py", "r1/build/stage.py", "r1/config/params.py", "r1/__init__.py"):
        assert rel in grpo, rel
    assert list(grpo) == sorted(set(grpo))
    assert "r1/train/sft.py" not in stages["tasks"].code and "r1/eval/effects.py" not in grpo
    for stage in stages.values():
        assert all((root / p).is_file() for p in stage.code), stage.name


def test_code_deps_follow_lazy_and_relative_imports(tmp_path):
    pkg = tmp_path / "r1"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "a.py").write_text("def f():\n    from r1.sub import b\n")
    (pkg / "sub" / "b.py").write_text("from . import c\nimport os\n")
    (pkg / "sub" / "c.py").write_text("")
    (pkg / "unused.py").write_text("")
    assert codedeps.files(tmp_path, "r1.sub.a") == ["r1/__init__.py", "r1/sub/__init__.py", "r1/sub/a.py",
                                                     "r1/sub/b.py", "r1/sub/c.py"]


def test_code_deps_cache_is_reused_and_follows_edits(tmp_path, monkeypatch):
    pkg = tmp_path / "r1"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("import r1.b\n")
    (pkg / "b.py").write_text("")
    (pkg / "c.py").write_text("")

    def fresh():  # a new process: nothing in memory, only the file on disk
        codedeps._imports.cache_clear()
        codedeps._cache.cache_clear()
        return codedeps.files(tmp_path, "r1.a")

    assert fresh() == ["r1/__init__.py", "r1/a.py", "r1/b.py"]
    assert "r1/a.py" in json.loads((tmp_path / codedeps.CACHE).read_text())["files"]
    parsed = []
    real = codedeps._parse
    monkeypatch.setattr(codedeps, "_parse", lambda *a: parsed.append(a[0].name) or real(*a))
    assert fresh() == ["r1/__init__.py", "r1/a.py", "r1/b.py"] and parsed == []  # all from the cache
    (pkg / "a.py").write_text("import r1.b\nimport r1.c\n")  # an edit (another size): parsed again
    assert fresh() == ["r1/__init__.py", "r1/a.py", "r1/b.py", "r1/c.py"]
    assert parsed == ["a.py", "c.py"]  # c.py: reached for the first time
    (tmp_path / codedeps.CACHE).write_text("{not json")  # a broken cache is rebuilt, not trusted
    assert fresh() == ["r1/__init__.py", "r1/a.py", "r1/b.py", "r1/c.py"]


def test_descendants_follow_needs():
    stages = _stages("ci")
    assert dag.descendants(stages, {"sft"}) == {"sft", "final", "eval_sft", "eval_final", "report"}
    assert "student" in dag.descendants(stages, {"reasoning_set"})


def test_the_dag_imports_no_torch():
    code = "import sys, r1.build.dag, r1.config; r1.build.dag.for_params(r1.config.load()); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_training_stages_read_compute_and_the_others_do_not():
    """The thread count changes a training stage's weights, so editing it reruns exactly the training stages."""
    stages = _stages()
    for name in ("base", "r1_zero", "final", "student_base", "reward_models"):
        assert "compute" in stages[name].params, name
    for name in ("tasks", "eval_base", "cold_start", "reasoning_set", "non_reasoning_set"):
        assert "compute" not in stages[name].params, name


def test_a_stage_reads_its_inputs_and_writes_its_outputs_from_its_row():
    from r1.build.stage import start

    run = start("final", config.load("ci"))
    assert [run.input(n) for n in ("sft", "reward_models", "tasks")] == [Path("models/sft"),
                                                                         Path("models/reward_models"),
                                                                         Path("data/tasks")]
    assert run.out == Path("models/final")
    with pytest.raises(KeyError, match="does not need 'base'"):
        run.input("base")
