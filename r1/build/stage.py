"""The entry point of every stage:

    python -m r1.stages.<module> [<instance>] [--profile P] [--input <stage>=<path> ...] [--output <path> ...]

    def main(run: StageRun) -> None:
        train = pl.read_parquet(run.input("tasks") / "train.parquet")
        ...
        with run.publish() as out:      # atomic: renamed into place only if the block succeeds
            df.write_parquet(out / "train.parquet")
            run.record(stats=stats)      # into the manifest

    if __name__ == "__main__":
        entry(main)

The stage's row in the DAG (r1.build.dag) gives its inputs, outputs and params sections, and the manifest is written
from the same row, so what a stage reads and what it says it read cannot drift apart. The command the DAG writes
names every input and output (`--input`, one per output of a needed stage, in its outputs' order; `--output`, one
per output of the stage, in `all_outs` order); a runner may pass other paths there (Snakemake's storage plugins pass
local copies of remote files), and where they are absent the row's paths are used. What the run records (the
manifest's inputs) names the row's paths, so the same build writes the same bytes wherever its files lie.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from r1 import config as config_mod
from r1.build import dag, distributed
from r1.build.artifacts import atomic_dir, seed_everything, write_manifest
from r1.build.clock import Cap, CapReached
from r1.build.log import say
from r1.build.record import mark_finished
from r1.build.quality import QualityError


@dataclass
class StageRun:
    stage: dag.Stage
    cfg: config_mod.Params
    inputs: dict[str, tuple[Path, ...]]  # needed stage -> its outputs, where this run reads them
    outputs: tuple[Path, ...] = ()  # its outputs (`stage.all_outs` order), where this run writes them; () = the row's
    started: float = field(default_factory=time.time)
    clock_started: float = field(default_factory=time.monotonic)
    extra: dict = field(default_factory=dict)  # manifest fields the stage records
    timing: dict = field(default_factory=dict)  # run-specific figures: the run sidecar, never the manifest

    def __post_init__(self):
        if not self.outputs:
            self.outputs = tuple(Path(o) for o in self.stage.all_outs)

    @property
    def name(self) -> str:
        return self.stage.name

    @property
    def out(self) -> Path:
        """Where this run writes the stage's (first) output."""
        return self.outputs[0]

    @property
    def at_row_paths(self) -> bool:
        """Whether it writes where its DAG row says: only then can DVC record what it built (elsewhere, e.g. in a
        storage plugin's local copy bound for a bucket, there is nothing at the row's path to record)."""
        return self.outputs == tuple(Path(o) for o in self.stage.all_outs)

    def input(self, name: str) -> Path:
        """The artifact of `name`, a stage this one needs (its first output)."""
        return self.input_paths(name)[0]

    def input_paths(self, name: str) -> tuple[Path, ...]:
        """Every output of `name`, a stage this one needs, in its row's order."""
        if name not in self.inputs:
            raise KeyError(f"stage {self.name!r} does not need {name!r} (its DAG row needs {list(self.inputs)})")
        return self.inputs[name]

    def row_path(self, path: Path | str) -> str:
        """The DAG row's name for `path`, an input of this run or a file inside one (models/base/config.json for
        <storage copy>/models/base/config.json): what a record of the run names, whatever path it was read from."""
        path = Path(path)
        for actual, declared in zip(self.read_paths(), self.stage.deps):
            if path == actual or actual in path.parents:
                return (Path(declared) / path.relative_to(actual)).as_posix()
        return str(path)

    def read_paths(self) -> list[Path]:
        """Every input path, in the order of the row's `deps`."""
        return [p for name in dict.fromkeys(self.stage.dep_stages) for p in self.input_paths(name)]

    def require(self, *names: str, marker: str = "") -> None:
        """Exit naming the stage to build when a needed artifact (or `marker` inside it) is missing."""
        for name in names or tuple(self.inputs):
            path = self.input(name)
            if not (path / marker if marker else path).exists():
                sys.exit(f"{self.name}: {path} missing: build the `{name}` stage first")

    def cap(self) -> Cap:
        """This stage's time cap (`time_caps.minutes.<module>`), counting from the stage's start."""
        return Cap(f"time_caps.minutes.{self.stage.module}", self.cfg.time_caps.of(self.stage.module),
                   started=self.clock_started)

    def log(self, msg: str) -> None:
        say(self.name, msg)

    def record(self, **fields) -> None:
        self.extra.update(fields)

    def seconds(self) -> float:
        return time.time() - self.started

    @contextlib.contextmanager
    def publish(self, out: Path | None = None, inputs: tuple = ()) -> Iterator[Path]:
        """A temporary directory that replaces the stage's output when the block succeeds, with the manifest (its
        params sections, its inputs' hashes, what the stage recorded) written last; `inputs` adds files read from
        outside the DAG (a user's data file).

        Under a launch of several processes (r1.build.distributed) only the main process publishes, and only once
        every process has finished its block (a barrier); the others write into a scratch directory that is
        discarded. Why: each rank renaming its own copy into place left a model without weights (only rank 0 writes
        them). A rank that fails never reaches the barrier, and the launcher stops the rest: nothing is published."""
        if not distributed.is_main():
            scratch = Path(tempfile.mkdtemp(prefix=f".{self.name}.rank{distributed.rank()}-"))
            try:
                yield scratch
                distributed.barrier()
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
            self.log(f"rank {distributed.rank()} of {distributed.world_size()}: finished; its copy discarded, the "
                     f"main process publishes {out or self.out}")
            return
        with atomic_dir(out or self.out) as tmp:
            yield tmp
            write_manifest(tmp, self.name, self.cfg, list(self.stage.params),
                           {**{f: Path(f) for f in self.stage.files}, **dict(zip(self.stage.deps, self.read_paths())),
                            **{str(p): p for p in inputs}},
                           self.seconds(), extra=self.extra, timing=self.timing or None)
            distributed.barrier()  # every process finished: only now does the artifact replace the old one
        if distributed.world_size() > 1:
            self.log(f"rank 0 of {distributed.world_size()}: every process finished; published {out or self.out}")


def entry(main: Callable[[StageRun], None], argv: list[str] | None = None) -> None:
    """Parse the command line, validate the whole config, find the stage's DAG row, seed, run `main`. A failed
    quality gate exits non-zero with its readable report."""
    module = _module_name(main)
    parser = argparse.ArgumentParser(prog=f"python -m r1.stages.{module}")
    parser.add_argument("instance", nargs="?", default="", help="the family member (a shard number, a model name)")
    parser.add_argument("--profile", default=None, help="overlay configs/<profile>.yaml (default: params.yaml's)")
    parser.add_argument("--input", action="append", default=[], metavar="STAGE=PATH",
                        help="where to read an output of a needed stage (once per output, in the row's order; "
                             "default: the DAG row's path)")
    parser.add_argument("--output", action="append", default=[], metavar="PATH",
                        help="where to write each output, in the row's order (all or none; default: the row's)")
    args = parser.parse_args(argv)
    name = f"{module}_{args.instance}" if args.instance else module
    try:
        cfg = config_mod.load(args.profile)
    except config_mod.ConfigError as err:
        sys.exit(f"{name}: config error: {err}")
    try:
        run = start(name, cfg, inputs=args.input, outputs=args.output)
    except (KeyError, ValueError) as err:
        sys.exit(f"{name}: {err.args[0]}")
    seed_everything(cfg.seed)
    try:
        main(run)
        if run.at_row_paths and distributed.is_main():  # the process that published wrote to the row's
            mark_finished(name, cfg.profile)  # paths: for r1.build.record, Snakemake's build becomes DVC's state
    except QualityError as err:
        sys.exit(f"{name}: {type(err).__name__}: {err}")
    except CapReached as err:
        sys.exit(f"{name}: {err}. To finish it, rerun it (`snakemake {name}`, or `{run.stage.command(cfg.profile)}`) "
                 f"with a larger {err.cap.key} (null: no cap) or on a faster machine; it continues to the same "
                 f"artifact an uninterrupted run builds.")


def start(name: str, cfg: config_mod.Params, inputs: list[str] = (), outputs: list[str] = ()) -> StageRun:
    """The run of stage `name` in `cfg`'s DAG (what `entry` builds; tests run a stage in-process with it).
    `inputs` (`<stage>=<path>` words) and `outputs` (paths) replace the row's paths, as on the command line."""
    rows = dag.for_params(cfg)
    if name not in rows:
        raise KeyError(f"no stage {name!r} in the DAG of profile {cfg.profile!r}; "
                       f"stages: {', '.join(rows)}")
    stage = rows[name]
    return StageRun(stage, cfg, _input_paths(stage, rows, inputs), _output_paths(stage, outputs))


def _input_paths(stage: dag.Stage, rows: dict[str, dag.Stage], words: list[str]) -> dict[str, tuple[Path, ...]]:
    """needed stage -> its outputs: the row's, or every one given with `--input <stage>=<path>`."""
    given: dict[str, list[Path]] = {}
    for word in words:
        need, sep, path = word.partition("=")
        if not sep or not need or not path:
            raise ValueError(f"--input {word!r}: expected <stage>=<path>")
        if need not in stage.needs:
            raise ValueError(f"--input {word!r}: stage {stage.name!r} does not need {need!r} (its DAG row needs "
                             f"{', '.join(stage.needs) or 'nothing'})")
        given.setdefault(need, []).append(Path(path))
    out = {}
    for need in stage.needs:
        declared = tuple(Path(o) for o in rows[need].outs)
        if need in given and len(given[need]) != len(declared):
            raise ValueError(f"--input {need}=...: given {len(given[need])} time(s), but {need!r} has "
                             f"{len(declared)} output(s) ({', '.join(map(str, declared))}): give each, in that order")
        out[need] = tuple(given.get(need, declared))
    return out


def _output_paths(stage: dag.Stage, paths: list[str]) -> tuple[Path, ...]:
    """The stage's outputs: the row's, or all of them given with `--output`, in the row's order."""
    if paths and len(paths) != len(stage.all_outs):
        raise ValueError(f"--output given {len(paths)} time(s), but stage {stage.name!r} writes "
                         f"{len(stage.all_outs)} output(s) ({', '.join(stage.all_outs)}): give each, in that order")
    return tuple(Path(p) for p in paths or stage.all_outs)


def _module_name(main: Callable) -> str:
    spec = getattr(sys.modules.get(main.__module__), "__spec__", None)
    return (spec.name if spec else main.__module__).rsplit(".", 1)[-1]
