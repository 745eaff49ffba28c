"""Helpers for tests that build the pipeline in a scratch copy of the repo."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
BIN = Path(sys.executable).parent


def env() -> dict:
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
    e["DVC_NO_ANALYTICS"] = "1"
    e["TOKENIZERS_PARALLELISM"] = "false"
    e["HF_HUB_OFFLINE"] = "1"
    e["PYTHONPATH"] = ""  # the copy's own r1/ must win over the editable install
    return e


def run(cmd: list[str] | str, cwd: Path, check: bool = True, timeout: float = 1200) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True, timeout=timeout,
                          shell=isinstance(cmd, str))
    if check and proc.returncode != 0:
        raise AssertionError(f"{cmd} failed ({proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def copy_repo(dest: Path, profile: str = "ci") -> Path:
    """The repo's tracked and untracked-but-not-ignored files, in a fresh git repo whose params.yaml selects
    `profile` (so plain `dvc repro` builds that profile)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           text=True, check=True).stdout.split("\0")
    for rel in filter(None, files):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    params = dest / "params.yaml"
    params.write_text(params.read_text().replace("profile: default", f"profile: {profile}", 1))
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "copy"]):
        run(cmd, dest)
    return dest


def snakemake(cwd: Path, *args: str, profile: str = "ci", check: bool = True) -> subprocess.CompletedProcess:
    # --configfile takes every following word (nargs="+"): the `=` form stops it swallowing the targets
    return run([str(BIN / "snakemake"), "--cores", "2", f"--configfile=configs/{profile}.yaml", *args], cwd,
               check=check)


def planned_rules(dry_run_output: str) -> set[str]:
    """Rule names from the 'Job stats' table of `snakemake -n`."""
    rules, in_table = set(), False
    for line in dry_run_output.splitlines():
        parts = line.split()
        if line.startswith("Job stats"):
            in_table = True
            continue
        if in_table:
            if not parts:
                if rules:
                    break
                continue
            if parts[0] in ("job", "total") or set(parts[0]) == {"-"}:
                continue
            rules.add(parts[0])
    return rules - {"all"}


class edited_yaml:
    """Set one dotted key in a YAML file for the duration of a `with` block, then restore the file byte for byte."""

    def __init__(self, path: Path, key: str, value):
        self.path, self.key, self.value = path, key, value

    def __enter__(self):
        import yaml

        self.original = self.path.read_text()
        data = yaml.safe_load(self.original)
        node = data
        *parents, leaf = self.key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        assert node.get(leaf) != self.value, f"{self.key} is already {self.value!r}"
        node[leaf] = self.value
        self.path.write_text(yaml.safe_dump(data, sort_keys=False))
        return self

    def __exit__(self, *exc):
        self.path.write_text(self.original)
