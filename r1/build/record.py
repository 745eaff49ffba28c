"""One build state for both front-ends: what Snakemake builds, DVC versions.

DVC knows an artifact only through dvc.lock. A stage that finishes leaves a marker (`.r1/finished/<stage>`, written
by r1.build.stage.entry after its artifact is published); when Snakemake ends, successfully or not, `record` turns
the markers into dvc.lock entries with one `dvc commit` (one lock, each out hashed once; DVC's state cache makes
later commits of the same bytes cheap). Jobs on other nodes of a cluster write their markers to the shared file
system and the head node records them, so parallel jobs never race on dvc.lock.

The other direction: after `dvc pull` (or a checkout), `touch_in_order` gives every up-to-date out an mtime after
its inputs', in DAG order, so Snakemake sees it as built and `snakemake -n` has nothing to do.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

MARKERS = Path(".r1") / "finished"


class RecordError(RuntimeError):
    """DVC could not record or push; the message says what to run."""


def mark_finished(stage: str, profile: str, root: Path | str = ".") -> None:
    """Note that `stage` published its artifact with `profile` (called once the artifact is in place)."""
    path = Path(root) / MARKERS / stage
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{stage}.{os.getpid()}")
    tmp.write_text(json.dumps({"stage": stage, "profile": profile}) + "\n")
    os.replace(tmp, path)


def finished(root: Path | str = ".") -> dict[str, str]:
    """stage -> profile of every marker not yet recorded."""
    folder = Path(root) / MARKERS
    if not folder.is_dir():
        return {}
    out = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            out[path.name] = json.loads(path.read_text()).get("profile")
    return out


def dvc(*args: str, root: Path | str = ".", check: bool = True) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("dvc")
    proc = subprocess.run([str(exe) if exe.exists() else "dvc", *args], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "DVC_NO_ANALYTICS": "1"})
    if check and proc.returncode != 0:
        raise RecordError(f"`dvc {' '.join(args)}` failed:\n{(proc.stderr or proc.stdout).strip()}")
    return proc


def dvc_profile(root: Path | str = ".") -> str:
    """The profile DVC versions: the one params.yaml names (dvc.yaml reads `${profile}` from it)."""
    import yaml

    return (yaml.safe_load((Path(root) / "params.yaml").read_text()) or {}).get("profile", "default")


def record(root: Path | str = ".", log=print) -> list[str]:
    """Record every finished stage in dvc.lock, as `dvc repro` would have; returns the stages recorded. Stages built
    with another profile than params.yaml's are left out, with a message: DVC versions one profile per checkout."""
    root = Path(root)
    marks = finished(root)
    if not marks:
        return []
    profile = dvc_profile(root)
    other = sorted(s for s, p in marks.items() if p != profile)
    if other:
        log(f"r1 record: not recording {', '.join(other)}: built with another profile than params.yaml's "
            f"{profile!r} (DVC versions the profile params.yaml names; set `profile:` there to version it)")
    todo = [s for s, p in marks.items() if p == profile]
    if todo:
        started = time.time()
        dvc("commit", "--force", *todo, root=root)
        log(f"r1 record: {len(todo)} stage(s) recorded in dvc.lock in {time.time() - started:.1f}s: "
            f"{', '.join(todo)}")
    for stage in marks:
        (root / MARKERS / stage).unlink(missing_ok=True)
    return todo


def unrecorded(stages: dict, root: Path | str = ".") -> list[str]:
    """Stages whose outputs are all on disk but that DVC reports as changed (not recorded, or recorded for other
    inputs): what a push would silently leave out."""
    status = json.loads(dvc("status", "--json", root=root).stdout or "{}")
    return [name for name in status if name in stages and all((Path(root) / o).exists() for o in stages[name].outs)]


def push(stages: dict, root: Path | str = ".", log=print) -> None:
    """Record what finished, then `dvc push`; refuse while built artifacts are not in dvc.lock."""
    record(root, log)
    missing = unrecorded(stages, root)
    if missing:
        raise RecordError(
            f"{len(missing)} built artifact(s) are not recorded for DVC, so a push would leave them out: "
            f"{', '.join(missing)}. Rebuild them with `snakemake <stage>` or `dvc repro <stage>` (either records "
            f"them), or, if they are what the current code and params build, record them with `dvc commit <stage>`.")
    out = dvc("push", root=root)
    log(out.stdout.strip() or "pushed")


def touch_in_order(stages: dict, root: Path | str = ".") -> list[str]:
    """Give the outputs of every stage DVC reports up to date an mtime later than its inputs', in DAG order (the
    order of `stages`), so Snakemake's mtime check agrees with DVC; returns the stages touched."""
    root = Path(root)
    changed = set(json.loads(dvc("status", "--json", root=root).stdout or "{}"))
    ready = {name: s for name, s in stages.items()
             if name not in changed and all((root / o).exists() for o in s.all_outs)}
    # after every input (a fresh clone's code is as new as the clone), one second apart in DAG order
    outs = {o for s in ready.values() for o in s.all_outs}
    inputs = [root / d for s in ready.values() for d in s.inputs() if d not in outs and (root / d).exists()]
    start = max([p.stat().st_mtime for p in inputs], default=time.time() - len(stages)) + 1
    touched = []
    for i, (name, stage) in enumerate(ready.items()):
        stamp = start + i
        outs = [root / o for o in stage.all_outs]
        for out in outs:
            paths = [out, *out.rglob("*")] if out.is_dir() else [out]
            for p in paths:
                os.utime(p, (stamp, stamp), follow_symlinks=False)
        touched.append(name)
    return touched


def locked(stages: dict, root: Path | str = ".") -> list[str]:
    """The stages of `stages` that dvc.lock records, in DAG order: what a push stored and a pull can fetch."""
    import yaml

    lock = Path(root) / "dvc.lock"
    recorded = (yaml.safe_load(lock.read_text()) or {}).get("stages", {}) if lock.exists() else {}
    return [name for name in stages if name in recorded]


def remote_verifies(root: Path | str = ".") -> tuple[str, bool]:
    """The default remote's name and whether it sets `verify = true` (DVC then hashes every object it downloads and
    discards one whose bytes do not match its name; without it a corrupted object is checked out as is)."""
    name = dvc("remote", "default", root=root).stdout.strip()
    if not name:
        raise RecordError("no default DVC remote: add one with `dvc remote add -d <name> <url>`")
    value = dvc("config", f"remote.{name}.verify", root=root, check=False).stdout.strip().lower()
    return name, value == "true"


def pull(stages: dict, root: Path | str = ".", log=print) -> list[str]:
    """`dvc pull` of every stage dvc.lock records (a partial build pulls what it has: the stages it never built are
    left to build), then line the pulled outputs' mtimes up with the DAG for Snakemake. Refuses a remote that does
    not verify what it downloads; a pull that fails names each output the remote could not give and why."""
    root = Path(root)
    remote, verifies = remote_verifies(root)
    if not verifies:
        raise RecordError(f"DVC remote {remote!r} does not verify what it downloads, so a corrupted or overwritten "
                          f"object would be checked out as if it were the artifact: set "
                          f"`dvc remote modify {remote} verify true` and pull again")
    targets = locked(stages, root)
    if not targets:
        raise RecordError("dvc.lock records no stage of this profile's DAG: nothing to pull (whoever built it runs "
                          "`r1 push`, then commits and shares dvc.lock)")
    out = dvc("pull", *targets, root=root, check=False)
    if out.returncode != 0:
        raise RecordError(_pull_failure(remote, targets, out, root))
    log(out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "pulled")
    touched = touch_in_order(stages, root)
    log(f"r1 pull: {len(touched)} stage(s) up to date for both Snakemake and DVC: {', '.join(touched)}")
    return touched


def _pull_failure(remote: str, targets: list[str], out: subprocess.CompletedProcess, root: Path) -> str:
    """What a failed pull could not give, file by file: `dvc status --cloud` after it names each file the remote
    holds but the local cache does not (DVC downloaded it, its bytes did not hash to its name, and it was
    discarded: corrupted in the remote) and each one the remote lacks (never pushed)."""
    status = dvc("status", "--cloud", "--json", *targets, root=root, check=False)
    try:
        files = json.loads(status.stdout or "{}")
    except json.JSONDecodeError:
        files = {}
    corrupted = sorted(p for p, state in files.items() if state == "deleted")
    absent = sorted(p for p, state in files.items() if state == "missing")
    lines = [f"`dvc pull` from remote {remote!r} failed."]
    if corrupted:
        lines.append(f"Corrupted in the remote ({len(corrupted)}): the remote holds it, but the pull gave no copy "
                     f"that hashes to what dvc.lock records (DVC verifies each download and discards a mismatch: the "
                     f"object was corrupted or overwritten in the remote, or its download failed), so it was not "
                     f"checked out: {', '.join(corrupted)}")
    if absent:
        lines.append(f"Not in the remote ({len(absent)}): {', '.join(absent)}")
    if corrupted or absent:
        lines.append("Push good copies again from a checkout that has them (`r1 push`), or rebuild those stages "
                     "(`snakemake <stage>` or `dvc repro <stage>`).")
    else:
        lines.append((out.stderr or out.stdout).strip())
    return "\n".join(lines)
