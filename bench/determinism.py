"""Build the ci profile twice from scratch (same seed, same machine) and compare every artifact's hash.

    .venv/bin/python bench/determinism.py [--profile ci] [--target all]

Prints one row per artifact: identical or not, and the hashes. Datasets must be identical; for models the table
says which are bit-identical (see README, "Determinism").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from pipeline_util import copy_repo, snakemake  # noqa: E402
from r1 import config, dag  # noqa: E402
from r1.artifacts import hash_path  # noqa: E402

# Files that legitimately differ between two builds: wall times, dates, throughput figures.
VOLATILE = {"manifest.json", "curve.tsv", "metrics.tsv", "trainer_state.json", "quality.json"}


def content_hash(path: Path) -> str:
    if path.is_file():
        return "volatile" if path.name in VOLATILE else hash_path(path)
    import hashlib

    digest = hashlib.md5()
    for file in sorted(p for p in path.rglob("*") if p.is_file() and p.name not in VOLATILE):
        digest.update(f"{file.relative_to(path)}\0{hash_path(file)}\n".encode())
    return digest.hexdigest()


def build(profile: str, target: str) -> tuple[Path, float]:
    repo = copy_repo(Path(tempfile.mkdtemp(prefix="r1-det-")), profile=profile)
    started = time.time()
    snakemake(repo, target, profile=profile)
    return repo, time.time() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="ci")
    parser.add_argument("--target", default="all")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    (a, ta), (b, tb) = build(args.profile, args.target), build(args.profile, args.target)
    print(f"builds: {ta:.0f} s and {tb:.0f} s")
    rows = []
    for stage in dag.stages(config.load(args.profile, root=a).eval.models):
        for out in stage.all_outs:
            if not (a / out).exists():
                continue
            ha, hb = content_hash(a / out), content_hash(b / out)
            rows.append({"stage": stage.name, "artifact": out, "identical": ha == hb, "a": ha[:12], "b": hb[:12]})
    width = max(len(r["artifact"]) for r in rows)
    for r in rows:
        print(f"{r['artifact']:<{width}}  {'identical' if r['identical'] else 'DIFFERENT'}  {r['a']} {r['b']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
