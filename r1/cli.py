"""The `r1` command: run a stage, verify completions, inspect lineage, check config and DAG drift."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from r1 import config as config_mod
from r1.build import dag


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="r1", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one stage by its DAG name: r1 run <stage> [--profile P]")
    run.add_argument("stage")
    run.add_argument("--profile", default=None)
    sub.add_parser("verify", help="score completion rows: r1 verify --in FILE --out FILE", add_help=False)
    sub.add_parser("eval", help="score a model on a benchmark: r1 eval --model DIR --benchmark humaneval --out DIR",
                   add_help=False)
    check = sub.add_parser("check", help="validate params.yaml (+ a profile overlay); exit 1 naming the bad key")
    check.add_argument("--profile", default=None)
    dag_cmd = sub.add_parser("dag", help="generate dvc.yaml from r1/build/dag.py, or check it for drift")
    dag_cmd.add_argument("--write", action="store_true")
    sub.add_parser("record", help="record the stages that finished in dvc.lock (Snakemake does it when it ends)")
    sub.add_parser("push", help="record what finished, then dvc push; fails while built artifacts are unrecorded")
    sub.add_parser("pull", help="dvc pull, then date the outputs in DAG order so Snakemake sees them as built")
    lineage = sub.add_parser("lineage", help="print an artifact's chain of inputs back to the base")
    lineage.add_argument("artifact")
    lineage.add_argument("--json", action="store_true")

    args, rest = parser.parse_known_args(argv)
    if args.command == "verify":
        from r1.verify import cli as verify_cli

        return verify_cli.cli(rest)
    if args.command == "eval":
        from r1.eval import cli as eval_cli

        return eval_cli.cli(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    try:
        cfg = config_mod.load(getattr(args, "profile", None))
    except config_mod.ConfigError as err:
        print(f"config error: {err}", file=sys.stderr)
        return 1
    if args.command == "run":
        stages = dag.for_params(cfg)
        if args.stage not in stages:
            print(f"r1 run: no stage {args.stage!r}; stages: {', '.join(stages)}", file=sys.stderr)
            return 2
        stage = stages[args.stage]
        from r1.build.stage import entry

        module = importlib.import_module(f"r1.stages.{stage.module}")
        entry(module.main, [*([stage.instance] if stage.instance else []), "--profile", cfg.profile])
        return 0
    if args.command == "check":
        from r1.build.launch import check_grpo_batches

        try:
            batches = check_grpo_batches(cfg)  # each GRPO stage's batch split over its full-scale launch
        except config_mod.ConfigError as err:
            print(f"config error: {err}", file=sys.stderr)
            return 1
        print(f"ok: profile {cfg.profile!r} is valid; GRPO per-process batches at full-scale launch: {batches}")
        return 0
    if args.command == "dag":
        target = config_mod.ROOT / "dvc.yaml"
        if args.write:
            target.write_text(dag.render_dvc_yaml(cfg))
            print(f"wrote {target}")
            return 0
        if target.read_text() != dag.render_dvc_yaml(cfg):
            print("dvc.yaml drifted from r1/build/dag.py: run `r1 dag --write`", file=sys.stderr)
            return 1
        print("dvc.yaml matches r1/build/dag.py")
        return 0
    if args.command in ("record", "push", "pull"):
        from r1.build import record

        try:
            if args.command == "record":
                done = record.record(".")
                print(f"r1 record: {len(done)} stage(s) recorded" if done else "r1 record: nothing new to record")
            else:
                # DVC versions the profile params.yaml names: its DAG decides what is built and what to date
                stages = dag.for_params(config_mod.load(record.dvc_profile(".")))
                getattr(record, args.command)(stages, ".")
        except record.RecordError as err:
            print(f"r1 {args.command}: {err}", file=sys.stderr)
            return 1
        return 0
    if args.command == "lineage":
        from r1.build import lineage as lineage_mod

        chain = lineage_mod.chain(Path(args.artifact))
        print(json.dumps(chain, indent=2) if args.json else lineage_mod.format_chain(chain))
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
