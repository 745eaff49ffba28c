"""The `r1` command: run a stage, verify completions, inspect lineage, check config and DAG drift."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from r1 import config as config_mod
from r1 import dag


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="r1", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one stage's module: r1 run <module> [--profile P] [args]")
    run.add_argument("module")
    sub.add_parser("verify", help="score completion rows: r1 verify --in FILE --out FILE", add_help=False)
    check = sub.add_parser("check", help="validate params.yaml (+ a profile overlay); exit 1 naming the bad key")
    check.add_argument("--profile", default=None)
    dag_cmd = sub.add_parser("dag", help="generate dvc.yaml from r1/dag.py, or check it for drift")
    dag_cmd.add_argument("--write", action="store_true")
    lineage = sub.add_parser("lineage", help="print an artifact's chain of inputs back to the base")
    lineage.add_argument("artifact")
    lineage.add_argument("--json", action="store_true")

    args, rest = parser.parse_known_args(argv)
    if args.command == "verify":
        from r1 import verify

        return verify.cli(rest)
    if rest and args.command != "run":
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "run":
        module = importlib.import_module(f"r1.{args.module}")
        sys.argv = [f"r1.{args.module}", *rest]
        module.cli() if hasattr(module, "cli") else _run_module_main(args.module, module, rest)
        return 0
    if args.command == "check":
        try:
            cfg = config_mod.load(args.profile)
        except config_mod.ConfigError as err:
            print(f"config error: {err}", file=sys.stderr)
            return 1
        print(f"ok: profile {cfg.profile!r} is valid")
        return 0
    if args.command == "dag":
        models = config_mod.load().eval.models
        if args.write:
            print(f"wrote {dag.write_dvc_yaml(config_mod.ROOT, models)}")
            return 0
        current = (config_mod.ROOT / "dvc.yaml").read_text()
        if current != dag.render_dvc_yaml(models):
            print("dvc.yaml drifted from r1/dag.py: run `r1 dag --write`", file=sys.stderr)
            return 1
        print("dvc.yaml matches r1/dag.py")
        return 0
    if args.command == "lineage":
        from r1 import lineage as lineage_mod

        chain = lineage_mod.chain(Path(args.artifact))
        print(json.dumps(chain, indent=2) if args.json else lineage_mod.format_chain(chain))
        return 0
    return 2


def _run_module_main(name, module, rest):
    from r1.artifacts import run_stage

    run_stage(name, module.main, rest)


if __name__ == "__main__":
    sys.exit(main())
