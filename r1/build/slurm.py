"""What a SLURM job asks for, derived from the DAG, and the site settings the SLURM profile must carry.

The site's own values (account, CPU partition, GPU partition) live in one place, the `default-resources` block of
profiles/slurm/config.yaml, shipped as the placeholder FILL-IN: `check_site` refuses to submit while one is missing
or still the placeholder, and says which and where (a command-line `--default-resources` replaces the profile's whole
block, so a key it drops is named too). Per job, `job_resources` derives from the stage's DAG row what it asks for:
its GPUs (`gpu`, and `trains` for a job that takes a node's GPUs, at full scale), the GPU partition when it asks for any,
and a wall time: at full scale from FULL_SCALE_JOBS (by module, so a family of stages has one entry), below it just
above the stage's own time cap, so that the cap (which keeps a checkpoint) fires before SLURM kills the job. No list
of rule names to keep in step with the DAG. A site's `set-resources` for a rule still override this (Snakemake:
set-resources > rule resources > default-resources).
"""

from __future__ import annotations

import math
import shutil
import subprocess

from r1.build.dag import GPUS_PER_TRAINING_JOB, Stage

PLACEHOLDER = "FILL-IN"
PROFILE = "profiles/slurm/config.yaml"
# The keys a site fills in, in the profile's default-resources, and what each is for.
SITE_KEYS = {
    "slurm_account": "the account jobs are charged to (sbatch -A); on a cluster without accounting, delete the key "
                     "and set `slurm-no-account: true`",
    "slurm_partition": "the CPU partition: the stages that ask for no GPU",
    "gpu_partition": "the GPU partition: every stage that asks for GPUs (the DAG's `gpu` field, at full scale)",
}
# A side branch's jobs yield to the main chain's in SLURM's queue, as Snakemake's own priority makes them locally.
SIDE_BRANCH_NICE = 10_000
# Minutes a job gets beyond its stage's time cap: interpreter start, imports and loading the model come first.
RUNTIME_MARGIN_MINUTES = 15
# Full scale (configs/full.yaml): estimated wall time (minutes) and memory (MB) of each module's job, on 8-GPU nodes.
# Its time caps are off (the scheduler's wall time is the cap there), except the shards'. A test checks that every
# module asking for GPUs at full scale has an entry.
# (minutes, MB) by module; `base` only imports the DeepSeek-V3-Base checkpoint.
FULL_SCALE_JOBS = {module: {"runtime": minutes, "mem_mb": mb} for module, (minutes, mb) in {
    "base": (120, 800_000), "r1_zero": (20_160, 800_000), "cold_start": (720, 200_000),
    "cold_start_sft": (2_880, 800_000), "interim": (10_080, 800_000), "reasoning_shard": (1_440, 200_000),
    "sft": (4_320, 800_000), "reward_models": (1_440, 800_000), "final": (4_320, 800_000),
    "student_base": (1_440, 400_000), "student": (1_440, 400_000), "rl_student": (4_320, 400_000),
    "eval": (720, 200_000)}.items()}
# What a job's `python` must find: the stages' own packages (looked up, not imported: torch takes seconds).
JOB_PACKAGES = ("snakemake", "torch", "transformers", "trl")


class SiteError(ValueError):
    """The SLURM profile lacks a site setting or still holds the placeholder; the message names the key and file."""


def gpus(stage: Stage, full_scale: bool) -> int:
    """GPUs a stage's job asks for: none below full scale (every stage runs on CPU there); at full scale a node's
    worth for a training stage (`trains`: it takes the node's GPUs) and one for a sampling or evaluation stage."""
    if not (full_scale and stage.gpu):
        return 0
    return GPUS_PER_TRAINING_JOB if stage.trains else 1


def job_resources(stage: Stage, full_scale: bool, cap_minutes: float | None, site: dict[str, str]) -> dict:
    """A rule's resources: `gpu` (any executor: Snakemake's local scheduler can cap it with `--resources gpu=N`),
    and for SLURM the GPU partition when it asks for GPUs, a wall time (its cap plus a margin; at full scale the
    table's), at full scale its memory, and for a side branch a lower place in the queue (`--nice`). `site` is the
    profile's site keys (empty under other profiles)."""
    res: dict = {"gpu": gpus(stage, full_scale)}
    if res["gpu"] and site.get("gpu_partition"):
        res["slurm_partition"] = site["gpu_partition"]
    if cap_minutes is not None:
        res["runtime"] = math.ceil(cap_minutes) + RUNTIME_MARGIN_MINUTES
    if full_scale:
        res |= FULL_SCALE_JOBS.get(stage.module, {})
    if stage.side_branch:
        res["slurm_extra"] = f"--nice={SIDE_BRANCH_NICE}"
    return res


def site_settings(defaults) -> dict[str, str]:
    """The site keys of Snakemake's default resources: its `--default-resources` arguments (`key=value`, a value
    possibly quoted, as `.args`) or a plain mapping (the API's); empty for None."""
    if defaults is None:
        return {}
    args = getattr(defaults, "args", None)
    if args is None:
        args = [f"{key}={value}" for key, value in dict(defaults).items()]
    found = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if sep and key.strip() in SITE_KEYS:
            found[key.strip()] = value.strip().strip("'\"")
    return found


def check_site(site: dict[str, str], no_account: bool, needs_gpus: bool) -> None:
    """Raise SiteError naming every site key that is missing or still the placeholder. The account is not needed
    with `slurm-no-account`, nor the GPU partition when no job asks for a GPU."""
    needed = [k for k in SITE_KEYS if not (k == "slurm_account" and no_account)
              and not (k == "gpu_partition" and not needs_gpus)]
    placeholders = [k for k in needed if site.get(k, "").upper() == PLACEHOLDER]
    missing = [k for k in needed if k not in site]
    if not (placeholders or missing):
        return
    lines = [f"SLURM site settings: {PROFILE}, default-resources:"]
    lines += [f"  {k}: still the placeholder {PLACEHOLDER}; set {SITE_KEYS[k]}" for k in placeholders]
    lines += [f"  {k}: missing; it is {SITE_KEYS[k]}" for k in missing]
    if missing:
        lines.append("  (a command-line --default-resources replaces the profile's whole block: repeat these keys in "
                     "it, or change single rules with --set-resources RULE:KEY=VALUE)")
    raise SiteError("\n".join(lines))


def check_python(path: str | None = None) -> None:
    """Raise SiteError unless the `python` that jobs will find on PATH has the project's packages: SLURM jobs inherit
    the submitting shell's PATH (sbatch --export=ALL) and run `python -m r1.stages...` in the workdir."""
    python = shutil.which("python", path=path)
    probe = "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))"
    if python and subprocess.run([python, "-c", probe, *JOB_PACKAGES], capture_output=True).returncode == 0:
        return
    raise SiteError(f"SLURM jobs run `python -m r1.stages...` with this shell's PATH, where `python` is "
                    f"{python or 'not found'}: it lacks one of {', '.join(JOB_PACKAGES)}. Activate the project's venv "
                    "(source .venv/bin/activate) or run through make, which puts .venv/bin first on PATH")
