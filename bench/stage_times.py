"""Per-stage wall times of the last Snakemake build, from its `benchmark:` files, as a markdown table.

    .venv/bin/python bench/stage_times.py [BUILD_DIR]

Part 1 is tasks, base, r1_zero, eval_base, eval_r1_zero and the report; the total is the sum of job times (with
--cores 2, single-threaded jobs may also overlap, so the build's wall time can be lower).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

PART1 = ("tasks", "base", "r1_zero", "eval_base", "eval_r1_zero", "report")


def stage_seconds(build: Path) -> dict[str, float]:
    times = {}
    for tsv in sorted((build / "benchmarks").glob("*.tsv")):
        with open(tsv) as fh:
            rows = list(csv.DictReader(fh, delimiter="\t"))
        if rows:
            times[tsv.stem] = float(rows[-1]["s"])
    return times


def main() -> int:
    build = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(".")
    times = stage_seconds(build)
    if not times:
        print(f"no benchmarks/*.tsv under {build}: build with snakemake first", file=sys.stderr)
        return 1
    print("| stage | seconds | minutes |\n|---|---:|---:|")
    for name, seconds in sorted(times.items(), key=lambda kv: (kv[0] not in PART1, kv[0])):
        print(f"| {name} | {seconds:.0f} | {seconds / 60:.1f} |")
    part1 = sum(v for k, v in times.items() if k in PART1)
    print(f"| **part 1 (sum)** | {part1:.0f} | {part1 / 60:.1f} |")
    print(f"| **all stages (sum)** | {sum(times.values()):.0f} | {sum(times.values()) / 60:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
