"""Build a profile twice from scratch (same seed, same machine, same source) and compare every DVC out's hash.

    .venv/bin/python bench/determinism.py [--profile ci] [--target all] [--rev HEAD] [--json rows.json]
    .venv/bin/python bench/determinism.py --against 8e00bd4     # this tree against an older revision

With `--against REV` the second build is of REV instead of the same source: a refactor's outputs are compared with
the revision before it (manifest.json records the git revision, so it differs by design; every other file should not).

Both builds start from one copy of the source (the working tree, or `--rev`'s committed tree), so they record the
same git revision. Each is built by Snakemake, then adopted by DVC (`dvc commit --force`), and the md5 of every out
in dvc.lock is compared: DVC's own hash, directory hashes included (run sidecars are .dvcignore'd). For an out that
differs, the files that differ (from DVC's .dir listings), and for JSON/TSV files the keys or columns that differ.
Datasets must be identical; for models the table says which are bit-identical (see docs/results.md, "Determinism").
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from helpers.pipeline import BIN, ROOT, copy_repo, run, snakemake  # noqa: E402

DVC = str(BIN / "dvc")
# The copy's commit gets fixed dates, so the same tree is the same revision in every copy (manifests record it).
FIXED_DATE = "2000-01-01T00:00:00+0000"


def source(dest: Path, profile: str, rev: str | None) -> Path:
    """The tree to build: the working tree (as the tests copy it) or a committed revision."""
    dest.mkdir(parents=True, exist_ok=True)
    os.environ["GIT_AUTHOR_DATE"] = os.environ["GIT_COMMITTER_DATE"] = FIXED_DATE
    if rev is None:
        return copy_repo(dest, profile=profile)
    archive = subprocess.run(["git", "archive", rev], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
    params = dest / "params.yaml"
    params.write_text(params.read_text().replace("profile: default", f"profile: {profile}", 1))
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", f"copy of {rev}"]):
        run(cmd, dest)
    return dest


def build(repo: Path, profile: str, target: str) -> float:
    started = time.time()
    snakemake(repo, target, profile=profile)
    seconds = time.time() - started
    run([DVC, "commit", "--force"], repo)  # DVC hashes (and caches) every out, honouring .dvcignore
    return seconds


def lock_outs(repo: Path) -> dict[str, tuple[str, str]]:
    """out path -> (stage, md5) from dvc.lock."""
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {o["path"]: (name, o["md5"]) for name, s in lock["stages"].items() for o in s.get("outs", [])}


def dir_listing(repo: Path, md5: str) -> dict[str, str]:
    """relpath -> md5 of a directory out, from the .dir object DVC wrote to the repo's cache."""
    digest = md5.removesuffix(".dir")
    path = repo / ".dvc" / "cache" / "files" / "md5" / digest[:2] / (digest[2:] + ".dir")
    return {entry["relpath"]: entry["md5"] for entry in json.loads(path.read_text())}


def _tsv(path: Path) -> dict[str, list[str]]:
    rows = list(csv.reader(io.StringIO(path.read_text()), delimiter="\t"))
    return {name: [r[i] if i < len(r) else "" for r in rows[1:]] for i, name in enumerate(rows[0])} if rows else {}


def _flat(obj, prefix: str = "") -> dict:
    if isinstance(obj, dict):
        return {k: v for key, val in obj.items() for k, v in _flat(val, f"{prefix}{key}.").items()}
    return {prefix.rstrip("."): obj}


def what_differs(a: Path, b: Path) -> str:
    """For a file that differs: the JSON keys or TSV columns that differ, else its size in both builds."""
    try:
        if a.suffix == ".json":
            fa, fb = _flat(json.loads(a.read_text())), _flat(json.loads(b.read_text()))
            keys = sorted(k for k in fa.keys() | fb.keys() if fa.get(k) != fb.get(k))
            return "keys " + ", ".join(keys[:8]) + (f" (+{len(keys) - 8})" if len(keys) > 8 else "")
        if a.suffix in (".tsv", ".csv"):
            ta, tb = _tsv(a), _tsv(b)
            cols = sorted(c for c in ta.keys() | tb.keys() if ta.get(c) != tb.get(c))
            return "columns " + ", ".join(cols)
    except (ValueError, UnicodeDecodeError, IndexError):
        pass
    return f"{a.stat().st_size} vs {b.stat().st_size} bytes"


def compare(a: Path, b: Path) -> list[dict]:
    outs_a, outs_b = lock_outs(a), lock_outs(b)
    rows = []
    for path in sorted(outs_a.keys() | outs_b.keys()):
        stage, ha = outs_a.get(path, ("?", None))
        hb = outs_b.get(path, (stage, None))[1]
        row = {"stage": stage, "out": path, "identical": ha == hb and ha is not None, "a": ha, "b": hb, "files": {}}
        if not row["identical"] and ha and hb:
            if ha.endswith(".dir"):
                la, lb = dir_listing(a, ha), dir_listing(b, hb)
                for rel in sorted(la.keys() | lb.keys()):
                    if la.get(rel) != lb.get(rel):
                        fa, fb = a / path / rel, b / path / rel
                        row["files"][rel] = what_differs(fa, fb) if fa.exists() and fb.exists() else "only in one"
            else:
                row["files"][Path(path).name] = what_differs(a / path, b / path)
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--target", default="all", help="Snakemake target (default: the whole DAG, part 1 + 2)")
    parser.add_argument("--rev", help="build this committed revision instead of the working tree")
    parser.add_argument("--against", help="build the second copy from this revision (default: the same source)")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    parser.add_argument("--keep", action="store_true", help="keep the two build directories")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="r1-det-"))
    a = source(scratch / "a", args.profile, args.rev)
    b = scratch / "b"
    if args.against:
        source(b, args.profile, args.against)
    else:
        shutil.copytree(a, b, symlinks=True)  # the same source (and git revision) for both, whatever else changes
    ta = build(a, args.profile, args.target)
    tb = build(b, args.profile, args.target)
    print(f"builds ({args.profile}, target {args.target}): {ta:.0f} s and {tb:.0f} s in {scratch}")
    rows = compare(a, b)
    width = max(len(r["out"]) for r in rows)
    for r in rows:
        print(f"{r['out']:<{width}}  {'identical' if r['identical'] else 'DIFFERENT'}  {r['a']}  {r['b']}")
        for rel, why in r["files"].items():
            print(f"{'':<{width}}    {rel}: {why}")
    n_same = sum(r["identical"] for r in rows)
    print(f"{n_same}/{len(rows)} outs identical")
    only_manifests = [r["out"] for r in rows if not r["identical"] and r["files"]
                      and set(r["files"]) <= {"manifest.json", "config.yaml"}]
    print(f"{len(only_manifests)} differ only in manifest.json / config.yaml (the recorded revision and params)")
    if args.json:
        args.json.write_text(json.dumps({"profile": args.profile, "target": args.target, "rev": args.rev,
                                         "seconds": [round(ta), round(tb)], "rows": rows}, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
