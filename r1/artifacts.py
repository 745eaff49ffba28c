"""Artifacts: atomic outputs, the manifest beside each one, and the shared entry point of every stage.

A stage writes into a hidden temporary sibling of its output and renames it into place only when everything inside
is complete, so a killed stage never leaves an artifact that looks finished (Snakemake and DVC then rerun it).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Callable, Iterator

from r1 import config as config_mod

MANIFEST = "manifest.json"
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
    if "torch" in sys.modules:
        import torch

        torch.manual_seed(seed)


def hash_path(path: Path | str) -> str:
    """md5 of a file, or of a directory's sorted (relative path, file md5) list; hidden entries are skipped."""
    path = Path(path)
    if path.is_file():
        return _md5_file(path)
    digest = hashlib.md5()
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path)
        if any(part.startswith(".") for part in rel.parts):
            continue
        digest.update(f"{rel.as_posix()}\0{_md5_file(file)}\n".encode())
    return digest.hexdigest()


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
                   inputs: list[Path | str], wall_seconds: float, extra: dict | None = None) -> dict:
    """Lineage beside the artifact: stage, the params it read, its inputs' hashes, code and package versions."""
    import yaml

    params = config_mod.to_dict(cfg)
    resolved = {key: params[key] for key in sections}
    (out_dir / RESOLVED_CONFIG).write_text(yaml.safe_dump(resolved, sort_keys=False))
    manifest = {
        "stage": stage,
        "profile": cfg.profile,
        "params": resolved,
        "inputs": {str(p): hash_path(p) for p in inputs if Path(p).exists()},
        "code": code_version(),
        "packages": package_versions(),
        "wall_seconds": round(wall_seconds, 2),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **(extra or {}),
    }
    (out_dir / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def read_manifest(artifact: Path | str) -> dict:
    return json.loads((Path(artifact) / MANIFEST).read_text())


def run_stage(stage: str, main: Callable[[config_mod.Params], None], argv: list[str] | None = None) -> None:
    """Shared `python -m r1.<stage>` entry: parse --profile, validate the whole config, seed, run."""
    parser = argparse.ArgumentParser(prog=f"python -m r1.{stage}")
    parser.add_argument("--profile", default=None, help="overlay configs/<profile>.yaml (default: params.yaml's)")
    args = parser.parse_args(argv)
    try:
        cfg = config_mod.load(args.profile)
    except config_mod.ConfigError as err:
        sys.exit(f"r1.{stage}: config error: {err}")
    seed_everything(cfg.seed)
    main(cfg)
