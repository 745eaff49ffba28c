"""The pipeline DAG, declared once.

Both front-ends are built from this table: rules/stages.smk turns each row into a Snakemake rule, and `dvc.yaml` is
generated from it (`r1 dag --write`; a test fails when the committed file drifts). A row names the stage, the stages
whose artifacts it reads (`needs`), the params sections it reads and its outputs. Its inputs are the outputs of what
it needs, and its code is every project file its module imports (r1.build.codedeps), so an edit reruns exactly the
stages that run the edited code. A row's command names its inputs and outputs (`--input <stage>=<path>`,
`--output <path>`) and the stage reads and writes those (r1.build.stage), so a front-end may substitute its own paths
(Snakemake's storage plugins hand a job local copies of remote files).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import yaml

from r1.build import codedeps, paths

ROOT = Path(__file__).resolve().parent.parent.parent
PROFILE_FILE = "configs/{profile}.yaml"
GPUS_PER_TRAINING_JOB = 8
# How a front-end writes one path of a stage's command line: (kind, key, index, default path) -> text (Stage.io_args).
PathFormat = Callable[[str, str, int, str], str]


@dataclass(frozen=True)
class Stage:
    name: str
    needs: tuple[str, ...] = ()  # stages whose outputs it reads
    params: tuple[str, ...] = ()  # params sections it reads
    outs: tuple[str, ...] = ()  # default: its artifact directory, paths.artifact(name)
    metrics: tuple[str, ...] = ()  # outputs that are DVC metrics (not cached)
    module: str = ""  # python -m r1.stages.<module>; default: the stage's name
    instance: str = ""  # a family member's argument (a shard number, a model name): name is <module>_<instance>
    trains: bool = False  # takes `compute.train_threads` cores here and the node's GPUs at full scale
    launch: str = ""  # at full scale: accelerate launch config (configs/accelerate/<launch>.yaml)
    side_branch: bool = False  # yields to the main chain when both could run
    leaf: bool = False  # only the report reads it (an eval): yields to every training job, fills the cores left free
    gpu: bool = False  # at full scale: needs a GPU (training, sampling, evaluation)
    files: tuple[str, ...] = ()  # the row's own input files, outside the DAG (tasks: a user's task files)
    deps: tuple[str, ...] = ()  # filled by `stages`: the outputs of `needs`
    dep_stages: tuple[str, ...] = ()  # filled by `stages`: the needed stage each of `deps` is an output of
    code: tuple[str, ...] = ()  # filled by `stages`: the files its module imports

    def __post_init__(self):
        if not self.module:
            object.__setattr__(self, "module", self.name)
        if not self.outs and not self.metrics:
            object.__setattr__(self, "outs", (str(paths.artifact(self.name)),))

    def command(self, profile: str, path: PathFormat | None = None) -> str:
        """`python -m r1.stages.<module> [<instance>] --profile P`, then its inputs and outputs (`io_args`)."""
        return f"python -m r1.stages.{self.module}{self.module_args(profile, path)}"

    def multi_gpu_command(self, profile: str, path: PathFormat | None = None) -> str:
        """The command on a multi-GPU node: accelerate with the stage's launch config (plain command otherwise)."""
        if not self.launch:
            return self.command(profile, path)
        return (f"accelerate launch --config_file configs/accelerate/{self.launch}.yaml "
                f"-m r1.stages.{self.module}{self.module_args(profile, path)}")

    def module_args(self, profile: str, path: PathFormat | None = None) -> str:
        """What follows `-m r1.stages.<module>` under any launcher: instance, profile, inputs and outputs."""
        instance = f" {self.instance}" if self.instance else ""
        return f"{instance} --profile {profile}{self.io_args(path)}"

    def io_args(self, path: PathFormat | None = None) -> str:
        """` --input <need>=<path>` for every input, in `deps` order (a needed stage with several outputs appears
        once per output, in its outputs' order), then ` --output <path>` for every output, in `all_outs` order.
        The stage reads and writes exactly these (r1.build.stage), so a runner may hand it other paths (a storage
        plugin's local copies); `path(kind, key, index, default)` writes each one: kind "input" (key: the needed
        stage, index: which of its outputs) or "output" (key: "", index: position in `all_outs`)."""
        path = path or (lambda kind, key, index, default: default)
        seen: dict[str, int] = {}
        words = []
        for need, dep in zip(self.dep_stages, self.deps):
            seen[need] = seen.get(need, -1) + 1
            words.append(f" --input {need}={path('input', need, seen[need], dep)}")
        words += [f" --output {path('output', '', i, out)}" for i, out in enumerate(self.all_outs)]
        return "".join(words)

    @property
    def priority(self) -> int:
        """Snakemake's job priority: the main chain first, then side branches, then leaves. A one-thread leaf run
        first would leave a core idle beside it, as no two-thread training job fits there."""
        return -2 if self.leaf else -1 if self.side_branch else 0

    @property
    def all_outs(self) -> list[str]:
        return [*self.outs, *self.metrics]

    @property
    def out(self) -> Path:
        """The stage's (first) output."""
        return Path(self.all_outs[0])

    def inputs(self) -> list[str]:
        """What Snakemake tracks as files. It tracks the stage's resolved params sections itself (rule params), so
        an edit to an overlay reruns exactly the stages whose params changed."""
        return [*self.files, *self.deps, *self.code]

    def all_deps(self, profile: str) -> list[str]:
        """What DVC tracks. DVC reads params from params.yaml only, so the active overlay is a file dependency:
        an edit to it reruns that profile's stages (params.yaml edits stay precise)."""
        return [*self.inputs(), PROFILE_FILE.format(profile=profile)]


def _training(name: str, needs: tuple[str, ...], section: str | None = None, **kw) -> Stage:
    return Stage(name, needs=needs, params=("seed", section or name, "compute"), trains=True, gpu=True, **kw)


def table(eval_models: list[str], n_shards: int, task_files: tuple[str, ...] = ()) -> list[Stage]:
    """Every stage of the recipe, in build order, before the outputs of what they need and their code are filled in.
    `task_files`: the local files `tasks` imports (tasks.sources), its inputs."""
    shards = [Stage(paths.shard_stage(i), module="reasoning_shard", instance=f"{i:03d}", needs=("interim", "tasks"),
                    params=("seed", "reasoning_set", "generation"), outs=(str(paths.shard_dir(i)),), gpu=True)
              for i in range(n_shards)]
    evals = [Stage(f"eval_{m}", module="eval", instance=m, needs=(m, "tasks"), params=("seed", "eval", "generation"),
                   outs=(str(paths.eval_json(m)), str(paths.eval_samples(m))), gpu=True, leaf=True)
             for m in eval_models]
    return [
        # Part 1: tasks -> base -> R1-Zero.
        Stage("tasks", params=("seed", "tasks"), files=tuple(task_files)),
        _training("base", needs=("tasks",)),
        _training("r1_zero", needs=("base", "tasks"), launch="deepspeed_zero3"),
        # Part 2: cold start -> interim reasoner -> reasoning + non-reasoning sets -> SFT -> final RL.
        Stage("cold_start", needs=("r1_zero", "tasks"), params=("seed", "cold_start", "generation"), gpu=True),
        _training("cold_start_sft", needs=("base", "cold_start"), launch="deepspeed_zero3"),
        _training("interim", needs=("cold_start_sft", "tasks"), launch="deepspeed_zero3"),
        *shards,
        Stage("reasoning_set", needs=tuple(s.name for s in shards), params=("seed", "reasoning_set")),
        Stage("non_reasoning_set", params=("seed", "non_reasoning_set")),
        _training("sft", needs=("base", "reasoning_set", "non_reasoning_set"), launch="deepspeed_zero3"),
        # The reward models' preference pairs come from the non-reasoning generators (same section).
        Stage("reward_models", needs=("base",), params=("seed", "reward_models", "non_reasoning_set", "compute"),
              trains=True, gpu=True, launch="deepspeed_zero3", side_branch=True),
        _training("final", needs=("sft", "reward_models", "tasks", "non_reasoning_set"), launch="deepspeed_zero3"),
        # Students: distilled (SFT only) and RL-only, from one student base pretrained like `base`.
        _training("student_base", needs=("tasks",), side_branch=True),
        _training("student", needs=("student_base", "reasoning_set", "non_reasoning_set"), launch="ddp",
                  side_branch=True),
        _training("rl_student", needs=("student_base", "tasks"), launch="ddp", side_branch=True),
        # Evaluation: each model on the held-out tasks, then one report.
        *evals,
        Stage("report", needs=(*(s.name for s in evals), *(m for m in eval_models if m != "base")),
              params=("eval",), outs=(str(paths.EVAL_MD), str(paths.EFFECTS_MD), str(paths.PLOTS)),
              metrics=(str(paths.EVAL_JSON),)),
    ]


def stages(eval_models: list[str], n_shards: int, root: Path = ROOT, task_files: tuple[str, ...] = ()) -> list[Stage]:
    """The table with each stage's inputs (its own files, then the outputs of what it needs) and code (what its
    module imports)."""
    rows = table(eval_models, n_shards, task_files)
    by = {s.name: s for s in rows}
    unknown = [(s.name, n) for s in rows for n in s.needs if n not in by]
    if unknown:
        raise ValueError(f"stages need stages that are not in the DAG: {unknown}")
    return [dataclasses.replace(s, deps=tuple(out for n in s.needs for out in by[n].outs),
                                dep_stages=tuple(n for n in s.needs for _ in by[n].outs),
                                code=tuple(codedeps.files(root, f"r1.stages.{s.module}")))
            for s in rows]


def for_params(cfg) -> dict[str, Stage]:
    """The DAG of a validated config (its eval models, shard count and task files), by stage name."""
    files = tuple(dict.fromkeys(source.path for source in cfg.tasks.sources))
    return {s.name: s for s in stages(cfg.eval.models, cfg.reasoning_set.n_shards, task_files=files)}


def descendants(stages: dict[str, Stage], names: set[str]) -> set[str]:
    """`names` and every stage that needs one of them, directly or not."""
    out = set(names)
    grew = True
    while grew:
        more = {n for n, s in stages.items() if n not in out and out & set(s.needs)}
        out |= more
        grew = bool(more)
    return out


# Outputs `snakemake --report report.html` shows, by category (a directory: its PNG files).
REPORT = {str(paths.EVAL_MD): "Results", str(paths.EFFECTS_MD): "Results", str(paths.EVAL_JSON): "Results",
          str(paths.PLOTS): "Training curves"}


# Curves `dvc plots show` draws: (file, x, y columns, title).
PLOTS = [
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["reward", "accuracy"], "R1-Zero: reward and accuracy per step"),
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["completion_length"], "R1-Zero: mean completion length per step"),
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["reflection_rate"], "R1-Zero: share of completions that reflect"),
    (str(paths.BASE / "curve.tsv"), "step", ["loss"], "Base pretraining loss"),
]


def dvc_yaml(cfg) -> dict:
    """dvc.yaml as a mapping. The profile is a params key, so `dvc exp run -S profile=ci` switches scale."""
    out: dict = {"stages": {}}
    for stage in for_params(cfg).values():
        spec: dict = {"cmd": stage.command("${profile}"), "deps": stage.all_deps("${profile}"),
                      "params": ["profile", *stage.params]}
        if stage.outs:
            spec["outs"] = list(stage.outs)
        if stage.metrics:
            spec["metrics"] = [{m: {"cache": False}} for m in stage.metrics]
        out["stages"][stage.name] = spec
    out["plots"] = [
        {path.replace(".tsv", "") + "_" + "_".join(y): {"template": "linear", "x": x, "y": {path: y}, "title": title}}
        for path, x, y, title in PLOTS
    ]
    return out


HEADER = "# Generated from r1/build/dag.py by `r1 dag --write`; do not edit by hand (a test checks for drift).\n"


def render_dvc_yaml(cfg) -> str:
    # one line per command, however many paths it names (a folded command is hard to read or grep)
    return HEADER + yaml.safe_dump(dvc_yaml(cfg), sort_keys=False, width=1 << 16)
