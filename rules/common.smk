# Turns r1/build/dag.py's stage table into rule inputs, outputs, params and commands. No stage logic here.
import sys
from pathlib import Path

sys.path.insert(0, workflow.basedir)

from r1 import config as r1_config  # noqa: E402
from r1.build import dag as r1_dag  # noqa: E402
from r1.build import record as r1_record_mod  # noqa: E402
from r1.build import slurm as r1_slurm  # noqa: E402

# --configfile configs/<name>.yaml sets `profile`; the stages load the same overlay themselves, so the config
# Snakemake sees and the one each stage runs with are one and the same, validated here before any job starts.
PROFILE = config.get("profile", "default")
FULL_SCALE = PROFILE == "full"
try:
    PARAMS = r1_config.load(PROFILE, root=workflow.basedir)
except r1_config.ConfigError as err:
    raise WorkflowError(f"config error: {err}")
STAGES = r1_dag.for_params(PARAMS)
# The SLURM profile's site settings (its default-resources); empty under a profile that names none.
SLURM_SITE = r1_slurm.site_settings(workflow.resource_settings.default_resources)


def stage_outputs(stage):
    """Its outputs (directories marked as such); the results `snakemake --report` shows, marked with report()."""
    outs = []
    for path in stage.all_outs:
        out = directory(path) if not Path(path).suffix else path
        if path in r1_dag.REPORT:
            pattern = {} if Path(path).suffix else {"patterns": ["{name}.png"]}
            out = report(out, category=r1_dag.REPORT[path], **pattern)
        outs.append(out)
    return outs


def stage_params(stage):
    """The params sections a stage reads: Snakemake reruns the stage when they change."""
    return {"profile": PROFILE} | {key: r1_config.to_dict(getattr(PARAMS, key)) for key in stage.params}


def stage_inputs(stage):
    """The outputs of the stages it needs, named by stage (a list each, in the needed stage's output order): the
    command's `--input <stage>={input.<stage>}` then reads the paths Snakemake hands the job (with a storage plugin,
    local copies of remote files)."""
    named = {}
    for need, dep in zip(stage.dep_stages, stage.deps):
        named.setdefault(need, []).append(dep)
    return named


def stage_code(stage):
    """The row's own files (a user's task files) and the project files its module imports, marked local(): under a
    default storage provider (`--default-storage-provider s3`) they are the job's own files, never objects in the
    bucket."""
    return [local(path) for path in (*stage.files, *stage.code)]


def snakemake_path(kind, key, index, default):
    """A path of the DAG's command line as a Snakemake placeholder (r1.build.dag.Stage.io_args)."""
    if kind == "output":
        return f"{{output[{index}]:q}}"
    return f"{{input.{key}:q}}" if len(STAGES[key].outs) == 1 else f"{{input.{key}[{index}]:q}}"


def stage_shell(stage):
    """The DAG's command with Snakemake's input and output paths in place of the row's."""
    if FULL_SCALE:
        command = stage.multi_gpu_command(PROFILE, snakemake_path)
    else:
        command = stage.command(PROFILE, snakemake_path)
    return command + " 2>&1 | tee {log}"


def stage_threads(stage):
    """The cores a job really uses: a training stage runs `compute.train_threads` torch threads, the others one
    (generation and data stages run side by side). At full scale a training job takes its node's cores (its work is
    on the GPUs)."""
    if not stage.trains:
        return 1
    return workflow.cores if FULL_SCALE else PARAMS.compute.train_threads


def stage_resources(stage):
    """GPUs, and under the SLURM profile the partition and wall time, from the stage's DAG row (r1/build/slurm.py)."""
    return r1_slurm.job_resources(stage, FULL_SCALE, PARAMS.time_caps.of(stage.module), SLURM_SITE)


def r1_check_executor():
    """Under the SLURM executor, before any job is submitted: the site settings are filled in and the jobs' `python`
    is the project's (both fail with a message that says what to set)."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    needs_gpus = any(r1_slurm.gpus(s, FULL_SCALE) for s in STAGES.values())
    try:
        r1_slurm.check_site(SLURM_SITE, workflow.executor_settings.no_account, needs_gpus)
        r1_slurm.check_python()
    except r1_slurm.SiteError as err:
        raise WorkflowError(str(err))


def r1_record():
    """Record the jobs that finished in dvc.lock; a problem is reported, never raised (the build itself is done)."""
    try:
        r1_record_mod.record(".", log=print)  # the workdir, where the stages ran
    except r1_record_mod.RecordError as err:
        print(f"r1 record: {err}\nThe artifacts are built; record them later with `r1 record`.")
