# Helpers that turn r1/dag.py's stage table into rule inputs, outputs and commands. No stage logic here.
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from r1 import config as r1_config  # noqa: E402
from r1 import dag as r1_dag  # noqa: E402

# --configfile configs/<name>.yaml sets `profile`; the stages load the same overlay themselves, so the config
# Snakemake sees and the one each stage runs with are one and the same, validated here before any job starts.
PROFILE = config.get("profile", "default")
try:
    PARAMS = r1_config.load(PROFILE, root=workflow.basedir)
except r1_config.ConfigError as err:
    raise WorkflowError(f"config error: {err}")
STAGES = r1_dag.by_name(PARAMS.eval.models)


def stage_inputs(name):
    return STAGES[name].inputs()


def stage_outputs(name):
    stage = STAGES[name]
    return [directory(p) if not Path(p).suffix else p for p in stage.all_outs]


def stage_targets(name):
    """Plain paths of a stage's outputs, for use as another rule's inputs."""
    return STAGES[name].all_outs


def stage_params(name):
    """The params sections a stage reads: Snakemake reruns the stage when they change."""
    return {"profile": PROFILE} | {key: r1_config.to_dict(getattr(PARAMS, key)) for key in STAGES[name].params}


def stage_shell(name):
    return STAGES[name].command(PROFILE) + " 2>&1 | tee {log}"


def stage_threads(name):
    """The cores a job really uses: a training stage runs `compute.train_threads` torch threads, the others one
    (r1.modeling.set_threads), so evals and shards run side by side. At full scale a training job takes its node's
    cores (its work is on the GPUs)."""
    if not STAGES[name].trains:
        return 1
    return workflow.cores if PROFILE == "full" else PARAMS.compute.train_threads


def stage_resources(name):
    full_scale = PROFILE == "full" and STAGES[name].gpu
    return {"gpu": 1 if full_scale else 0}
