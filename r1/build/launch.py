"""How a training stage is launched on several processes: the full profile's command, and its CPU twin for tests.

    python -m r1.build.launch cold_start_sft --profile ci --processes 2
    -> accelerate launch --config_file configs/accelerate/deepspeed_zero3.yaml --multi_gpu --num_processes 2 \
       --mixed_precision no -m r1.stages.cold_start_sft --profile ci

`cpu_command` is `Stage.multi_gpu_command` (the stage's accelerate config from configs/accelerate/) with only the
process count and the backend changed: `--multi_gpu` (DDP; over gloo on a CPU, the code path of DDP on GPUs; it
also overrides a DeepSpeed config, which needs GPUs here, see docs/scale-out.md) and no bf16 autocast (a GPU
setting). Why `--multi_gpu`: `accelerate launch --num_processes 2 --cpu` silently runs one process. Stages without
an accelerate config (the pretraining stages) get the same launcher with no config file. Tests and docs print the
command from here, so they run what the DAG says.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from r1.build import dag

ACCELERATE_DIR = "configs/accelerate"


def config_file(stage: dag.Stage, root: Path = dag.ROOT) -> Path | None:
    """The stage's accelerate config (configs/accelerate/<launch>.yaml), or None if it has no launch."""
    return Path(root) / ACCELERATE_DIR / f"{stage.launch}.yaml" if stage.launch else None


def processes(stage: dag.Stage, root: Path = dag.ROOT) -> int:
    """How many processes the stage's full-scale launch starts (`num_processes` of its accelerate config; 1 without
    one): the world size its GRPO batch must split over."""
    path = config_file(stage, root)
    if path is None:
        return 1
    launch = yaml.safe_load(path.read_text())
    return int(launch["num_processes"])  # accelerate: the total over all machines


def cpu_command(stage: dag.Stage, profile: str, n: int = 2, deepspeed: bool = False) -> str:
    """`stage`'s multi-process launch on CPU with `n` processes (see the module docstring); `deepspeed` keeps a
    DeepSpeed config's backend (ZeRO-3 runs on CPU where deepspeed is installed) instead of DDP."""
    if not stage.trains:
        raise ValueError(f"stage {stage.name!r} does not train: it runs as one process ({stage.command(profile)})")
    if n < 2:
        raise ValueError(f"processes: {n}; a multi-process launch needs at least 2 (one process: "
                         f"{stage.command(profile)})")
    cfg = f"--config_file {ACCELERATE_DIR}/{stage.launch}.yaml " if stage.launch else ""
    if deepspeed and stage.launch != "deepspeed_zero3":
        raise ValueError(f"stage {stage.name!r} launches with {stage.launch or 'no'} accelerate config, not DeepSpeed")
    backend = "" if deepspeed else "--multi_gpu "
    return (f"accelerate launch {cfg}{backend}--num_processes {n} --mixed_precision no "
            f"-m r1.stages.{stage.module}{stage.module_args(profile)}")


def check_grpo_batches(cfg) -> dict[str, int]:
    """Each GRPO stage's per-process batch at its full-scale launch (`processes`), by section; a ConfigError naming
    the keys when generation_batch_size does not split over the launch. Pure arithmetic: no GPU needed."""
    from r1.config import GRPO_SECTIONS, ConfigError

    rows = dag.for_params(cfg)
    out = {}
    for section in GRPO_SECTIONS:
        name = section.split(".")[0]
        grpo = cfg.final.grpo if section == "final.grpo" else getattr(cfg, section)
        try:
            out[section] = grpo.per_device_batch(processes(rows[name]))
        except ConfigError as err:
            raise ConfigError(f"{section}.{err} (the {rows[name].launch or 'single-process'} launch)") from None
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m r1.build.launch",
                                     description="print a training stage's multi-process CPU launch command")
    parser.add_argument("stage")
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--deepspeed", action="store_true", help="keep the DeepSpeed backend (default: DDP)")
    args = parser.parse_args(argv)
    from r1 import config as config_mod

    rows = dag.for_params(config_mod.load(args.profile))
    if args.stage not in rows:
        print(f"no stage {args.stage!r}; stages: {', '.join(rows)}", file=sys.stderr)
        return 2
    try:
        print(cpu_command(rows[args.stage], args.profile, args.processes, args.deepspeed))
    except ValueError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
