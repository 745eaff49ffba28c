"""The entry point of every stage: `python -m r1.stages.<module> [<instance>] [--profile P]`.

    def main(run: StageRun) -> None:
        train = pl.read_parquet(run.input("tasks") / "train.parquet")
        ...
        with run.publish() as out:      # atomic: renamed into place only if the block succeeds
            df.write_parquet(out / "train.parquet")
            run.record(stats=stats)      # into the manifest

    if __name__ == "__main__":
        entry(main)

The stage's row in the DAG (r1.build.dag) gives its inputs, outputs and params sections, and the manifest is written
from the same row, so what a stage reads and what it says it read cannot drift apart.
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
    artifacts: dict[str, Path]  # needed stage -> its (first) output
    started: float = field(default_factory=time.time)
    clock_started: float = field(default_factory=time.monotonic)
    extra: dict = field(default_factory=dict)  # manifest fields the stage records
    timing: dict = field(default_factory=dict)  # run-specific figures: the run sidecar, never the manifest

    @property
    def name(self) -> str:
        return self.stage.name

    @property
    def out(self) -> Path:
        return self.stage.out

    def input(self, name: str) -> Path:
        """The artifact of `name`, a stage this one needs."""
        if name not in self.artifacts:
            raise KeyError(f"stage {self.name!r} does not need {name!r} (its DAG row needs {list(self.artifacts)})")
        return self.artifacts[name]

    def require(self, *names: str, marker: str = "") -> None:
        """Exit naming the stage to build when a needed artifact (or `marker` inside it) is missing."""
        for name in names or tuple(self.artifacts):
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
            write_manifest(tmp, self.name, self.cfg, list(self.stage.params), [*self.stage.deps, *inputs],
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
    args = parser.parse_args(argv)
    name = f"{module}_{args.instance}" if args.instance else module
    try:
        cfg = config_mod.load(args.profile)
    except config_mod.ConfigError as err:
        sys.exit(f"{name}: config error: {err}")
    try:
        run = start(name, cfg)
    except KeyError as err:
        sys.exit(f"{name}: {err.args[0]}")
    seed_everything(cfg.seed)
    try:
        main(run)
        if distributed.is_main():  # the process that published (r1.build.distributed)
            mark_finished(name, cfg.profile)  # for r1.build.record: Snakemake's build becomes DVC's state too
    except QualityError as err:
        sys.exit(f"{name}: {type(err).__name__}: {err}")
    except CapReached as err:
        sys.exit(f"{name}: {err}. To finish it, rerun it (`snakemake {name}`, or `{run.stage.command(cfg.profile)}`) "
                 f"with a larger {err.cap.key} (null: no cap) or on a faster machine; it continues to the same "
                 f"artifact an uninterrupted run builds.")


def start(name: str, cfg: config_mod.Params) -> StageRun:
    """The run of stage `name` in `cfg`'s DAG (what `entry` builds; tests run a stage in-process with it)."""
    rows = dag.for_params(cfg)
    if name not in rows:
        raise KeyError(f"no stage {name!r} in the DAG of profile {cfg.profile!r}; "
                       f"stages: {', '.join(rows)}")
    stage = rows[name]
    return StageRun(stage, cfg, {n: rows[n].out for n in stage.needs})


def _module_name(main: Callable) -> str:
    spec = getattr(sys.modules.get(main.__module__), "__spec__", None)
    return (spec.name if spec else main.__module__).rsplit(".", 1)[-1]
