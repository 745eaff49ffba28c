"""Artifacts: atomic outputs, content hashes, and the manifest and run sidecar beside each one.

A stage writes into a hidden temporary sibling of its output and renames it into place only when everything inside
is complete, so a killed stage never leaves an artifact that looks finished (Snakemake and DVC then rerun it).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Iterator, Mapping

from r1 import config as config_mod

MANIFEST = "manifest.json"
# Run-specific facts (wall time, timestamps, host): a sidecar, not part of the artifact. `.dvcignore` lists it, so DVC
# leaves it out of the directory hash and never pushes or pulls it; two builds with the same inputs hash the same.
RUN_INFO = "run.json"
# Per-step timings (tokens/s, seconds since start) beside a training curve: a run sidecar like RUN_INFO, so the curve
# (loss, reward, ...) stays hashed and the clock does not. `.dvcignore` lists it too.
THROUGHPUT = "throughput.tsv"
RUN_SIDECARS = (RUN_INFO, THROUGHPUT)
# Keys and columns that hold run-specific figures: they belong in a run sidecar, never in a hashed file
# (`timing_fields` finds them; the tests hold every writer to it).
TIMING_KEYS = frozenset({"wall_seconds", "created", "started", "finished", "host", "seconds", "minutes", "elapsed_s",
                         "tokens_per_s", "scoring_seconds", "sample_seconds", "train_seconds", "train_minutes"})
RESOLVED_CONFIG = "config.yaml"
PACKAGES = ("torch", "transformers", "trl", "tokenizers", "polars", "great-expectations", "math-verify", "vllm")


@contextlib.contextmanager
def atomic_dir(final: Path | str) -> Iterator[Path]:
    """Yield a fresh temporary directory; on success it replaces `final` in one rename, on failure it is removed."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = final.parent / f".{final.name}.old-{os.getpid()}"
    if final.exists():
        final.rename(old)
    tmp.rename(final)
    if old.exists():
        shutil.rmtree(old) if old.is_dir() else old.unlink()


@contextlib.contextmanager
def atomic_file(final: Path | str) -> Iterator[Path]:
    """Yield a temporary path beside `final`; it is renamed onto `final` only if the block succeeds."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}"
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(path: Path | str, obj) -> None:
    with atomic_file(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    try:
        import numpy as np

        np.random.seed(seed % 2**32)
    except ImportError:
        pass
    try:
        # Imported here even where a stage imports torch later: torch's default generator is seeded at random per
        # process, so weights created before a trainer's own set_seed (a reward model's new score head) would differ
        # from build to build.
        import torch
    except ImportError:
        return
    torch.manual_seed(seed)


def hash_path(path: Path | str) -> str:
    """md5 of a file, or of a directory's sorted (relative path, file md5) list; hidden entries and run sidecars
    (RUN_SIDECARS and `<name>.run.json`, as DVC ignores them) are skipped."""
    path = Path(path)
    if path.is_file():
        return _md5_file(path)
    digest = hashlib.md5()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or is_run_sidecar(rel.name):
            continue
        digest.update(f"{rel.as_posix()}\0{_md5_file(file)}\n".encode())
    return digest.hexdigest()


def is_run_sidecar(name: str) -> bool:
    """A file of run-specific figures that `.dvcignore` keeps out of hashes: RUN_SIDECARS, or `<name>.run.json`
    beside a single-file artifact (reports/eval/<model>.run.json)."""
    return name in RUN_SIDECARS or name.endswith("." + RUN_INFO)


def run_sidecar_of(path: Path | str) -> Path:
    """The run sidecar of a single-file artifact: reports/eval/base.json -> reports/eval/base.run.json."""
    return Path(path).with_suffix("." + RUN_INFO)


def timing_fields(path: Path | str) -> set[str]:
    """TIMING_KEYS found in a JSON file (keys at any depth) or a TSV file (header columns); empty for other files."""
    path = Path(path)
    if path.suffix == ".tsv":
        lines = path.read_text().splitlines()
        return set(lines[0].split("\t")) & TIMING_KEYS if lines else set()
    if path.suffix != ".json":
        return set()

    def keys(obj) -> set[str]:
        if isinstance(obj, dict):
            return set(obj) | {k for v in obj.values() for k in keys(v)}
        if isinstance(obj, list):
            return {k for v in obj for k in keys(v)}
        return set()

    return keys(json.loads(path.read_text())) & TIMING_KEYS


def write_throughput(path: Path | str, columns: list[str], rows: list) -> None:
    """A per-step timing sidecar (THROUGHPUT): `step` plus `columns`, one row per logged step."""
    lines = ["\t".join(["step", *columns])] + ["\t".join(str(v) for v in row) for row in rows]
    Path(path).write_text("\n".join(lines) + "\n")


def _md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def code_version(root: Path = config_mod.ROOT) -> dict:
    def git(*args):
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True)
        return out.stdout.strip() if out.returncode == 0 else None

    return {"git_rev": git("rev-parse", "HEAD"), "dirty": bool(git("status", "--porcelain", "--untracked-files=no"))}


def package_versions() -> dict:
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return versions


def write_manifest(out_dir: Path, stage: str, cfg: config_mod.Params, sections: list[str],
                   inputs: Mapping[str, Path | str] | list[Path | str], wall_seconds: float, extra: dict | None = None,
                   timing: dict | None = None) -> dict:
    """Lineage beside the artifact: stage, the params it read, its inputs' hashes, code and package versions.
    `inputs` maps the name to record (the DAG's path) to where the input was read; a list names each by its path.

    Everything here is a function of the inputs and the code, so two builds write the same bytes. What depends on
    the run (wall time, timestamps, host, and any `timing` figures a stage passes) goes to the RUN_INFO sidecar."""
    import yaml

    params = config_mod.to_dict(cfg)
    resolved = {key: params[key] for key in sections}
    (out_dir / RESOLVED_CONFIG).write_text(yaml.safe_dump(resolved, sort_keys=False))
    manifest = {
        "stage": stage,
        "profile": cfg.profile,
        "params": resolved,
        "inputs": {str(name): hash_path(p) for name, p in _named(inputs).items() if Path(p).exists()},
        "code": code_version(),
        "packages": package_versions(),
        **(extra or {}),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    write_run_info(out_dir, wall_seconds, timing)
    return manifest


def _named(inputs: Mapping[str, Path | str] | list[Path | str]) -> Mapping[str, Path | str]:
    return inputs if isinstance(inputs, Mapping) else {str(p): p for p in inputs}


def run_info(wall_seconds: float, timing: dict | None = None, now: float | None = None) -> dict:
    """Run-specific facts: wall time, start and end (local time, ISO 8601), host, plus a stage's own timings."""
    end = time.time() if now is None else now
    stamp = lambda t: time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(t))  # noqa: E731
    return {"wall_seconds": round(wall_seconds, 2), "started": stamp(end - wall_seconds), "finished": stamp(end),
            "host": socket.gethostname(), **(timing or {})}


def write_run_info(out_dir: Path, wall_seconds: float, timing: dict | None = None, now: float | None = None) -> dict:
    """The RUN_INFO sidecar of a directory artifact (`run_info`)."""
    info = run_info(wall_seconds, timing, now)
    (Path(out_dir) / RUN_INFO).write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return info


def read_manifest(artifact: Path | str) -> dict:
    return json.loads((Path(artifact) / MANIFEST).read_text())


def read_run_info(artifact: Path | str) -> dict | None:
    """The run sidecar, or None where it is absent (DVC does not carry it: after `dvc pull` or a checkout)."""
    path = Path(artifact) / RUN_INFO
    return json.loads(path.read_text()) if path.exists() else None
