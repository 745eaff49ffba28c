"""How long a no-op takes: `snakemake -n` and `dvc status` on a built checkout, each repeated, min/median/max.

    python bench/bench_noop.py [--repo .] [--repeats 5] [-- extra snakemake args, e.g. --configfile=configs/ci.yaml]

Run it in (or point `--repo` at) a checkout whose profile is built: both commands then have nothing to do, and their
time is pure overhead (Python imports, parsing the workflow, validating the config, the code-dependency walk,
hashing). The machine's load average is printed beside the figures: a busy machine inflates them.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], cwd: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system: what a busy machine does not inflate much) and output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    secs = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return secs, cpu, proc.stdout + proc.stderr


def tool(name: str) -> str:
    """The command from this interpreter's environment (the venv), else from PATH."""
    local = Path(sys.executable).with_name(name)
    return str(local) if local.exists() else (shutil.which(name) or name)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repo", type=Path, default=Path("."))
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("snakemake_args", nargs="*", help="after --: extra snakemake arguments")
    a = p.parse_args(argv)
    commands = {"snakemake -n": [tool("snakemake"), "-n", "--quiet", "rules", *a.snakemake_args],
                "dvc status": [tool("dvc"), "status"]}
    load_before = os.getloadavg()[0]
    results = {label: [timed(cmd, a.repo) for _ in range(a.repeats)] for label, cmd in commands.items()}
    print(f"repo {a.repo.resolve().name}; {a.repeats} runs each; load {load_before:.1f} before, "
          f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} cores")
    for label, runs in results.items():
        times, cpus, out = [r[0] for r in runs], [r[1] for r in runs], runs[-1][2]
        noop = "nothing to be done" in out.lower() or "up to date" in out.lower() or not out.strip()
        verdict = "(nothing to do)" if noop else "(NOT a no-op: " + out.strip()[:200] + ")"
        print(f"{label:14s} min {min(times):5.2f} s  median {statistics.median(times):5.2f} s  "
              f"max {max(times):5.2f} s  (CPU median {statistics.median(cpus):5.2f} s)  {verdict}")


if __name__ == "__main__":
    main()
