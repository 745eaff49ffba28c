"""The pipeline DAG, declared once.

Both front-ends are built from this table: the Snakefile's rules take their inputs, outputs and shell command from
it (rules/common.smk), and `dvc.yaml` is generated from it (`r1 dag --write`; a test fails when the committed file
drifts). Each stage lists its own code, exactly the params sections it reads, and its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from r1 import paths

# Library code every stage imports: an edit to it reruns everything, as it should.
SHARED_CODE = ("r1/config.py", "r1/artifacts.py", "r1/schema.py", "r1/paths.py")
VERIFIER_CODE = ("r1/rewards.py", "r1/verifiers")
MODEL_CODE = ("r1/modeling.py",)
GENERATE_CODE = ("r1/generate.py",)
PROFILE_FILE = "configs/{profile}.yaml"
# Stages that train a model take every core; the rest (generation, data) run one thread each, side by side.
TRAINING_MODULES = frozenset({"base", "r1_zero", "cold_start_sft", "reasoning_rl", "sft", "reward_models", "final",
                              "student_base", "distill", "rl_student"})
# At full scale the part-2 training stages run on a node's GPUs through accelerate (configs/accelerate/<name>.yaml):
# DeepSpeed ZeRO-3 for the base-sized models, plain data parallel for the students.
MULTI_GPU_LAUNCH = {
    "cold_start_sft": "deepspeed_zero3",
    "interim": "deepspeed_zero3",
    "sft": "deepspeed_zero3",
    "reward_models": "deepspeed_zero3",
    "final": "deepspeed_zero3",
    "student": "ddp",
    "rl_student": "ddp",
}
GPUS_PER_TRAINING_JOB = 8
# Side branches yield to the main chain when both could run: R1's critical path is
# base -> r1_zero -> cold start -> interim -> reasoning set -> sft -> final.
SIDE_BRANCHES = frozenset({"student_base", "rl_student", "student", "reward_models"})


@dataclass(frozen=True)
class Stage:
    name: str
    module: str  # python -m r1.<module>
    code: tuple[str, ...]  # its own code (and the library code it uses)
    params: tuple[str, ...]  # top-level params sections it reads
    deps: tuple[str, ...] = ()  # artifacts it consumes
    outs: tuple[str, ...] = ()
    metrics: tuple[str, ...] = ()  # outputs that are DVC metrics (not cached)
    args: str = ""
    gpu: bool = False  # declares GPU resources at full scale

    def command(self, profile: str) -> str:
        extra = f" {self.args}" if self.args else ""
        return f"python -m r1.{self.module}{extra} --profile {profile}"

    def multi_gpu_command(self, profile: str) -> str:
        """The command on a multi-GPU node: accelerate with the stage's launch config (plain command otherwise)."""
        if self.name not in MULTI_GPU_LAUNCH:
            return self.command(profile)
        extra = f" {self.args}" if self.args else ""
        return (f"accelerate launch --config_file configs/accelerate/{MULTI_GPU_LAUNCH[self.name]}.yaml "
                f"-m r1.{self.module}{extra} --profile {profile}")

    @property
    def priority(self) -> int:
        return -1 if self.name in SIDE_BRANCHES else 0

    def inputs(self) -> list[str]:
        """What Snakemake tracks as files. It tracks the stage's resolved params sections itself (rule params), so
        an edit to an overlay reruns exactly the stages whose params changed."""
        return [*self.deps, *self.code, *SHARED_CODE]

    def all_deps(self, profile: str) -> list[str]:
        """What DVC tracks. DVC reads params from params.yaml only, so the active overlay is a file dependency:
        an edit to it reruns that profile's stages (params.yaml edits stay precise)."""
        return [*self.inputs(), PROFILE_FILE.format(profile=profile)]

    @property
    def all_outs(self) -> list[str]:
        return [*self.outs, *self.metrics]

    def __post_init__(self):
        if self.trains:  # its thread count is part of its weights (r1.config.ComputeConfig)
            object.__setattr__(self, "params", (*self.params, "compute"))

    @property
    def trains(self) -> bool:
        return self.module in TRAINING_MODULES


def stages(eval_models: list[str], n_shards: int | None = None) -> list[Stage]:
    """`n_shards`: reasoning-set shard jobs (None: the default profile's; Snakemake passes the active profile's)."""
    tasks = str(paths.TASKS)
    eval_stages = [
        Stage(
            name=f"eval_{model}",
            module="eval",
            args=f"--model {model}",
            code=("r1/eval.py", *GENERATE_CODE, *MODEL_CODE, *VERIFIER_CODE),
            params=("seed", "eval", "generation"),
            deps=(str(paths.model_dir(model)), tasks),
            outs=(str(paths.EVAL / f"{model}.json"), str(paths.EVAL / f"{model}.samples.parquet")),
            gpu=True,
        )
        for model in eval_models
    ]
    return [
        Stage(
            name="tasks",
            module="tasks",
            code=("r1/tasks.py", "r1/families", "r1/decontam.py", "r1/quality.py"),
            params=("seed", "tasks"),
            outs=(tasks,),
        ),
        Stage(
            name="base",
            module="base",
            code=("r1/base.py", "r1/corpus.py", *MODEL_CODE),
            params=("seed", "base"),
            deps=(tasks,),
            outs=(str(paths.BASE),),
            gpu=True,
        ),
        Stage(
            name="r1_zero",
            module="r1_zero",
            code=("r1/r1_zero.py", "r1/grpo.py", *MODEL_CODE, *VERIFIER_CODE),
            params=("seed", "r1_zero"),
            deps=(str(paths.BASE), tasks),
            outs=(str(paths.R1_ZERO),),
            gpu=True,
        ),
        *part2_stages(n_shards),
        *eval_stages,
        Stage(
            name="eval",
            module="report",
            code=("r1/report.py",),
            params=("eval",),
            deps=tuple(str(paths.EVAL / f"{m}.json") for m in eval_models)
            + tuple(str(paths.model_dir(m)) for m in eval_models if m != "base"),
            outs=(str(paths.EVAL_MD), str(paths.PLOTS)),
            metrics=(str(paths.EVAL_JSON),),
        ),
    ]


def part2_stages(n_shards: int | None = None) -> list[Stage]:
    """Everything after R1-Zero: cold start -> interim -> reasoning set (sharded) + non-reasoning set -> SFT -> final;
    reward models; students (distilled, and RL-only from a student base pretrained like `base`)."""
    from r1 import part2_paths as p2

    if n_shards is None:
        from r1 import config

        n_shards = config.load().reasoning_set.n_shards
    tasks, base = str(paths.TASKS), str(paths.BASE)
    quality = ("r1/quality.py",)
    sets = (str(p2.REASONING_SET), str(p2.NON_REASONING))
    own = ("r1/part2_paths.py",)
    grpo = ("r1/grpo.py", *MODEL_CODE, *VERIFIER_CODE, *own)
    sft = ("r1/sft.py", *MODEL_CODE, *quality, *own)
    shards = [
        Stage(
            name=p2.shard_stage(i),
            module="reasoning_set",
            args=f"--shard {i}",
            code=("r1/reasoning_set.py", "r1/filters.py", "r1/cold_start.py", *quality, *GENERATE_CODE,
                  *MODEL_CODE, *VERIFIER_CODE, *own),
            params=("seed", "reasoning_set", "generation"),
            deps=(str(p2.INTERIM), tasks),
            outs=(str(p2.shard_dir(i)),),
            gpu=True,
        )
        for i in range(n_shards)
    ]
    return [
        Stage(
            name="cold_start",
            module="cold_start",
            code=("r1/cold_start.py", "r1/corpus.py", "r1/filters.py", *quality, *GENERATE_CODE, *MODEL_CODE,
                  *VERIFIER_CODE, *own),
            params=("seed", "cold_start", "generation"),
            deps=(str(paths.R1_ZERO), tasks),
            outs=(str(p2.COLD_START),),
            gpu=True,
        ),
        Stage(
            name="cold_start_sft",
            module="cold_start_sft",
            code=("r1/cold_start_sft.py", *sft),
            params=("seed", "cold_start_sft"),
            deps=(base, str(p2.COLD_START)),
            outs=(str(p2.COLD_START_SFT),),
            gpu=True,
        ),
        Stage(
            name="interim",  # the model's name (eval_interim, models/interim); the stage is reasoning RL
            module="reasoning_rl",
            code=("r1/reasoning_rl.py", *grpo),
            params=("seed", "reasoning_rl"),
            deps=(str(p2.COLD_START_SFT), tasks),
            outs=(str(p2.INTERIM),),
            gpu=True,
        ),
        *shards,
        Stage(
            name="reasoning_set",
            module="reasoning_set",
            args="--merge",
            code=("r1/reasoning_set.py", "r1/filters.py", "r1/cold_start.py", *quality, *GENERATE_CODE,
                  *MODEL_CODE, *VERIFIER_CODE, *own),
            params=("seed", "reasoning_set"),
            deps=tuple(str(p2.shard_dir(i)) for i in range(n_shards)),
            outs=(str(p2.REASONING_SET),),
        ),
        Stage(
            name="non_reasoning_set",
            module="non_reasoning",
            code=("r1/non_reasoning.py", *quality, *own),
            params=("seed", "non_reasoning_set"),
            outs=(str(p2.NON_REASONING),),
        ),
        Stage(
            name="sft",
            module="sft",
            code=sft,
            params=("seed", "sft"),
            deps=(base, *sets),
            outs=(str(p2.SFT),),
            gpu=True,
        ),
        Stage(
            name="reward_models",
            module="reward_models",
            code=("r1/reward_models.py", "r1/non_reasoning.py", *quality, *MODEL_CODE, *VERIFIER_CODE, *own),
            params=("seed", "reward_models"),
            deps=(base,),
            outs=(str(p2.REWARD_MODELS),),
            gpu=True,
        ),
        Stage(
            name="final",
            module="final",
            code=("r1/final.py", "r1/reward_models.py", *grpo),
            params=("seed", "final"),
            deps=(str(p2.SFT), str(p2.REWARD_MODELS), tasks, str(p2.NON_REASONING)),
            outs=(str(p2.FINAL),),
            gpu=True,
        ),
        Stage(
            name="student_base",
            module="student_base",
            code=("r1/student_base.py", "r1/base.py", "r1/corpus.py", *MODEL_CODE, *own),
            params=("seed", "student_base"),
            deps=(tasks,),
            outs=(str(p2.STUDENT_BASE),),
            gpu=True,
        ),
        Stage(
            name="student",  # the distilled student (models/student); the stage is distillation by SFT
            module="distill",
            code=("r1/distill.py", *sft),
            params=("seed", "distill"),
            deps=(str(p2.STUDENT_BASE), *sets),
            outs=(str(p2.STUDENT),),
            gpu=True,
        ),
        Stage(
            name="rl_student",
            module="rl_student",
            code=("r1/rl_student.py", *grpo),
            params=("seed", "rl_student"),
            deps=(str(p2.STUDENT_BASE), tasks),
            outs=(str(p2.RL_STUDENT),),
            gpu=True,
        ),
    ]


# Curves `dvc plots show` draws: (file, x, y columns, title).
PLOTS = [
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["reward", "accuracy"], "R1-Zero: reward and accuracy per step"),
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["completion_length"], "R1-Zero: mean completion length per step"),
    (str(paths.R1_ZERO / "metrics.tsv"), "step", ["reflection_rate"], "R1-Zero: share of completions that reflect"),
    (str(paths.BASE / "curve.tsv"), "step", ["loss"], "Base pretraining loss"),
]


def dvc_yaml(eval_models: list[str]) -> dict:
    """dvc.yaml as a mapping. The profile is a params key, so `dvc exp run -S profile=ci` switches scale."""
    out: dict = {"stages": {}}
    for stage in stages(eval_models):
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


HEADER = "# Generated from r1/dag.py by `r1 dag --write`; do not edit by hand (tests/test_dag.py checks for drift).\n"


def render_dvc_yaml(eval_models: list[str]) -> str:
    return HEADER + yaml.safe_dump(dvc_yaml(eval_models), sort_keys=False, width=120)


def write_dvc_yaml(root: Path, eval_models: list[str]) -> Path:
    target = root / "dvc.yaml"
    target.write_text(render_dvc_yaml(eval_models))
    return target


def by_name(eval_models: list[str], n_shards: int | None = None) -> dict[str, Stage]:
    return {s.name: s for s in stages(eval_models, n_shards)}
