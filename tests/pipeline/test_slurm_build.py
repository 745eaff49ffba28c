"""The ci profile built through SLURM (`make test-slurm`): the project's own profile, Snakemake's SLURM executor and
the one-node cluster of ops/slurm/cluster (brought up here if it is down, and down again at the end). Every stage
is a SLURM job, the shards are queued side by side, and every out hashes as in a local build of the same commit; a job
killed with scancel fails the run with a message naming it, and a rerun completes it."""

from __future__ import annotations

import os
import re
import subprocess
import time

import pytest
import yaml

from helpers.pipeline import BIN, ROOT, copy_repo, env, run

pytestmark = pytest.mark.slurm

CLUSTER = ROOT / "ops" / "slurm" / "cluster"
PROFILES = ["--profile", "profiles/slurm", "--profile", "profiles/slurm-local"]
SUBMITTED = re.compile(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/\d+\.log\)")


@pytest.fixture(scope="module")
def cluster():
    """The local cluster, up; its job completion log (one line per finished job)."""
    if os.geteuid() != 0:
        pytest.fail("the local SLURM cluster runs as root (ops/slurm/cluster)")
    was_up = subprocess.run([CLUSTER, "status"], capture_output=True).returncode == 0
    if not was_up:
        subprocess.run([CLUSTER, "up"], check=True)
    config = subprocess.run(["scontrol", "show", "config"], capture_output=True, text=True, check=True).stdout
    yield re.search(r"^JobCompLoc\s*=\s*(\S+)", config, re.M).group(1)
    if not was_up:
        subprocess.run([CLUSTER, "down"], check=True)


def alive(pid: int) -> bool:
    """A process that runs (a zombie waiting for its parent does not)."""
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def snakemake_slurm(repo, *args, check=True):
    return run([str(BIN / "snakemake"), *args, *PROFILES, "--configfile=configs/ci.yaml"], repo, check=check,
               timeout=3600)


def completed_jobs(jobcomp: str) -> dict[str, dict[str, str]]:
    """The job completion log, by job id: each line's key=value fields."""
    jobs = {}
    for line in open(jobcomp):
        fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
        jobs[fields["JobId"]] = fields
    return jobs


def lock_outs(repo) -> dict[str, str]:
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s.get("outs", [])}


@pytest.fixture(scope="module")
def local_build(tmp_path_factory):
    """The whole ci DAG built locally (as `ci_build`, with room for a slow or busy machine), then timed."""
    repo = copy_repo(tmp_path_factory.mktemp("local_build"))
    started = time.time()
    run([str(BIN / "snakemake"), "all", "--cores", "2", "--configfile=configs/ci.yaml"], repo, timeout=3600)
    return repo, time.time() - started


@pytest.fixture(scope="module")
def slurm_build(cluster, local_build, tmp_path_factory):
    """The whole ci DAG through SLURM, after the local build, in a clone of its commit: a manifest records the git
    revision, so only the same commit builds the same bytes."""
    local_repo, local_seconds = local_build
    repo = tmp_path_factory.mktemp("slurm_build") / "repo"
    run(["git", "clone", "-q", str(local_repo), str(repo)], local_repo)
    started = time.time()
    proc = snakemake_slurm(repo, "all")
    seconds = time.time() - started
    print(f"\nci build wall time: through SLURM {seconds:.0f} s, local (--cores 2) {local_seconds:.0f} s")
    jobs = {rule: jobid for jobid, rule in SUBMITTED.findall(proc.stdout + proc.stderr)}
    return repo, jobs, local_repo


def _stages(repo):
    from r1 import config
    from r1.build import dag

    return dag.for_params(config.load("ci", root=repo))


def test_every_stage_ran_as_a_completed_slurm_job(slurm_build, cluster):
    repo, jobs, _ = slurm_build
    assert set(jobs) == set(_stages(repo)), "stages not submitted to SLURM (or submitted twice)"
    done = completed_jobs(cluster)
    for rule, jobid in jobs.items():
        assert done[jobid]["JobState"] == "COMPLETED", (rule, done[jobid])
        assert done[jobid]["Partition"] == "cpu", (rule, done[jobid])  # below full scale no stage asks for a GPU


def test_the_shards_were_queued_side_by_side(slurm_build, cluster):
    """Both shard jobs were in SLURM at once: each was submitted before the other ended, so the workflow never
    serializes them; whether they also start together depends on free cores (here 2, shared with other jobs)."""
    _, jobs, _ = slurm_build
    done = completed_jobs(cluster)
    shards = [done[jobid] for rule, jobid in jobs.items() if rule.startswith("reasoning_shard_")]
    assert len(shards) == 2
    a, b = shards
    assert a["SubmitTime"] < b["EndTime"] and b["SubmitTime"] < a["EndTime"], (a, b)
    ran_together = a["StartTime"] < b["EndTime"] and b["StartTime"] < a["EndTime"]
    print(f"\nshards: {'ran' if ran_together else 'queued, but did not run'} side by side: "
          f"{a['StartTime']}..{a['EndTime']} and {b['StartTime']}..{b['EndTime']}")


def test_every_out_hashes_as_in_the_local_build(slurm_build):
    repo, _, local_repo = slurm_build
    outs = {out for s in _stages(repo).values() for out in s.outs}
    slurm_outs, local_outs = lock_outs(repo), lock_outs(local_repo)
    assert outs <= set(slurm_outs), f"not recorded: {outs - set(slurm_outs)}"
    differ = {p: (slurm_outs[p], local_outs.get(p)) for p in slurm_outs if slurm_outs[p] != local_outs.get(p)}
    assert not differ, f"outs that differ from the local build (SLURM md5, local md5): {differ}"


def test_a_cancelled_job_is_reported_and_a_rerun_completes_it(slurm_build):
    repo, _, local_repo = slurm_build
    cmd = [str(BIN / "snakemake"), "student", "--forcerun", "student", *PROFILES, "--configfile=configs/ci.yaml"]
    proc = subprocess.Popen(cmd, cwd=repo, env=env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    jobid, deadline = None, time.time() + 600
    while jobid is None and time.time() < deadline and proc.poll() is None:
        running = subprocess.run(["squeue", "-h", "-t", "R", "-o", "%i %k"], capture_output=True, text=True).stdout
        jobid = next((line.split()[0] for line in running.splitlines() if line.endswith(" rule_student")), None)
        time.sleep(1)
    assert jobid, f"the student job never ran:\n{proc.communicate()[0][-3000:] if proc.poll() is not None else ''}"
    subprocess.run(["scancel", jobid], check=True)
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode != 0, out[-3000:]
    assert re.search(rf"Error in rule student:\s+message: SLURM-job '{jobid}' failed, SLURM status is: 'CANCELLED'",
                     out), out[-3000:]
    assert not (repo / "models" / "student" / "config.json").exists()

    snakemake_slurm(repo, "student")
    assert lock_outs(repo)["models/student"] == lock_outs(local_repo)["models/student"]


def test_the_cluster_script_sizes_the_node_and_goes_down_leaving_no_daemon(cluster):
    """`conf` sizes the node from `slurmd -C`; `down` stops exactly the daemons of its pid files (then `up` again,
    so the cluster ends as the fixture found it)."""
    conf = subprocess.run([CLUSTER, "conf"], capture_output=True, text=True, check=True).stdout
    node = re.search(r"^NodeName=\S+ .*CPUs=(\d+) RealMemory=(\d+)", conf, re.M)
    detected = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
    assert node.groups() == re.search(r"CPUs=(\d+) .*RealMemory=(\d+)", detected).groups()
    cpus, memory = map(int, node.groups())
    assert f"DefMemPerCPU={memory // cpus}" in conf

    state = re.search(r"^StateSaveLocation=(\S+)/ctld$", conf, re.M).group(1)
    pids = [int(open(f"{state}/{path}").read()) for path in ("munge/munged.pid", "run/slurmctld.pid",
                                                              "run/slurmd.pid")]
    assert all(alive(pid) for pid in pids)
    subprocess.run([CLUSTER, "down"], check=True)
    try:
        assert not [pid for pid in pids if alive(pid)]
        assert subprocess.run([CLUSTER, "status"], capture_output=True).returncode != 0
        assert not os.path.exists(state) and not os.path.lexists("/etc/slurm/slurm.conf")
        subprocess.run([CLUSTER, "down"], check=True)  # idempotent
    finally:
        subprocess.run([CLUSTER, "up"], check=True)
    assert subprocess.run([CLUSTER, "status"], capture_output=True).returncode == 0
