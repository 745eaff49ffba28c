"""Part 2 in the workflow: the full-profile dry run (many shard jobs, GPU resources), shard resumption through
Snakemake (kill one shard, rerun: only it and the merge run again), and the part-2 rules' commands."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers import tiny
from helpers.pipeline import BIN, copy_repo, env, planned_rules, run
from r1 import config
from r1.build import dag, paths


def dry_run(root: Path, profile: str, *targets: str, extra=()) -> str:
    # targets first: --configfile and --allowed-rules take every word after them
    proc = run([str(BIN / "snakemake"), "-n", "-p", *targets, "--configfile", f"configs/{profile}.yaml", *extra],
               root)
    return proc.stdout + proc.stderr


def test_full_profile_dry_run_lists_every_shard_as_a_gpu_job(tmp_path):
    repo = copy_repo(tmp_path / "repo")  # a clean checkout: nothing built yet, so the whole DAG is planned
    # the command from docs/scale-out.md: the target first, since --configfile takes every word after it
    proc = run([str(BIN / "snakemake"), "all", "-n", "-p", "--configfile", "configs/full.yaml"], repo)
    out = proc.stdout
    n_shards = config.load("full", root=repo).reasoning_set.n_shards
    assert n_shards >= 100
    shard_rules = {r for r in planned_rules(out) if r.startswith("reasoning_shard_")}
    assert len(shard_rules) == n_shards
    blocks = re.split(r"\n(?=rule )", out)
    shard_blocks = [b for b in blocks if b.startswith("rule reasoning_shard_")]
    assert len(shard_blocks) == n_shards
    for block in shard_blocks:
        assert re.search(r"resources: .*\bgpu=1\b", block), block
        assert re.search(r"python -m r1\.stages\.reasoning_shard \d+ --profile full", block), block
    sft = next(b for b in blocks if b.startswith("rule sft:"))
    assert re.search(r"resources: .*\bgpu=8\b", sft)
    assert "accelerate launch --config_file configs/accelerate/deepspeed_zero3.yaml -m r1.stages.sft --profile full" in sft
    for rule in ("cold_start", "cold_start_sft", "interim", "reasoning_set", "non_reasoning_set", "reward_models",
                 "final", "student_base", "student", "rl_student", "eval_final", "eval_student", "eval_rl_student"):
        assert rule in planned_rules(out), rule


def test_every_part2_rule_runs_its_own_command(root):
    """Regression: rules made in a plain loop all ran the last stage's command (Snakemake re-evaluates `shell:`)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import ConfigSettings, OutputSettings, ResourceSettings

    with SnakemakeApi(OutputSettings()) as api:
        wf = api.workflow(resource_settings=ResourceSettings(cores=1),
                          config_settings=ConfigSettings(configfiles=[root / "configs/default.yaml"]),
                          snakefile=root / "Snakefile", workdir=root)
        rules = {r.name: r for r in wf._workflow.rules}
        for name in ("cold_start", "reasoning_shard_001", "reasoning_set", "student"):
            rule = rules[name]
            # what the job will run: the rule's run function re-evaluates the shell expression in its closure
            closure = {c.cell_contents.name for c in (rule.run_func.__closure__ or ())
                       if isinstance(c.cell_contents, dag.Stage)}
            assert closure == {name}, (name, closure)
            assert rule.shellcmd.startswith(rules[name].shellcmd.split(" 2>&1")[0]), name


@pytest.fixture
def shard_repo(tmp_path):
    """A ci copy of the repo with a tiny interim model and tiny tasks: the shards and the merge can run for real."""
    repo = copy_repo(tmp_path / "repo")
    tasks = repo / "data/tasks"
    tasks.mkdir(parents=True)
    tiny.tasks(60).write_parquet(tasks / "train.parquet")
    tiny.save_model(repo / paths.INTERIM)
    return repo


def fake_built(repo: Path, n: int) -> None:
    """Upstream inputs, every shard, the merge and their benchmark files present, in build order."""
    for path in (repo / paths.INTERIM, repo / "data/tasks"):
        path.mkdir(parents=True, exist_ok=True)
    time.sleep(1)
    (repo / "benchmarks").mkdir(exist_ok=True)
    for i in range(n):
        (repo / paths.shard_dir(i)).mkdir(parents=True)
        (repo / paths.shard_dir(i) / "samples.parquet").write_text("x")
        (repo / "benchmarks" / f"{paths.shard_stage(i)}.tsv").write_text("s\n")
    time.sleep(1)
    (repo / paths.REASONING_SET).mkdir(parents=True)
    (repo / "benchmarks/reasoning_set.tsv").write_text("s\n")


def shard_rules(n):
    return [paths.shard_stage(i) for i in range(n)]


def test_a_missing_shard_alone_is_planned_again(tmp_path):
    """Fast: with the other shards built (here: present), a killed shard plans exactly itself and the merge."""
    shard_repo = copy_repo(tmp_path / "repo")
    n = config.load("ci", root=shard_repo).reasoning_set.n_shards
    fake_built(shard_repo, n)
    allowed = ["--allowed-rules", *shard_rules(n), "reasoning_set"]
    out = dry_run(shard_repo, "ci", "reasoning_set", extra=allowed)
    assert planned_rules(out) == set(), out
    # the last shard was killed: a killed shard leaves no output (atomic), so the merge never ran either
    victim = n - 1
    run(["rm", "-rf", str(paths.shard_dir(victim)), str(paths.REASONING_SET)], shard_repo)
    assert planned_rules(dry_run(shard_repo, "ci", "reasoning_set", extra=allowed)) == {paths.shard_stage(victim),
                                                                                         "reasoning_set"}


@pytest.mark.slow
def test_killing_one_shard_reruns_only_that_shard_and_it_resumes(shard_repo):
    """Real jobs: build the shards, kill the last one mid-run (after its first chunk), rerun; only that shard and the
    merge run again, and the shard picks up its finished chunk instead of sampling it again."""
    repo = shard_repo
    n = config.load("ci", root=repo).reasoning_set.n_shards
    snake = [str(BIN / "snakemake"), "--cores", "2", "--configfile", "configs/ci.yaml", "--allowed-rules",
             *shard_rules(n), "reasoning_set", "--"]
    victim = n - 1
    others = [paths.shard_stage(i) for i in range(n) if i != victim]
    run(snake + others, repo)

    proc = subprocess.Popen(snake + [paths.shard_stage(victim)], cwd=repo, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.time() + 300
    while not list((repo / "cache/reasoning_set").glob(f"*/shard_{victim:03d}/chunk_0000.parquet")):
        assert proc.poll() is None, proc.stdout.read().decode()[-3000:]
        assert time.time() < deadline, "the shard wrote no chunk"
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole job: snakemake and the shard process
    proc.wait()
    assert not (repo / paths.shard_dir(victim)).exists()  # atomic: a killed shard leaves no output

    planned = planned_rules(dry_run(repo, "ci", "reasoning_set", extra=["--rerun-incomplete", "--allowed-rules",
                                                                         *shard_rules(n), "reasoning_set"]))
    assert planned == {paths.shard_stage(victim), "reasoning_set"}
    run(snake[:-1] + ["--unlock"], repo)  # a SIGKILLed snakemake leaves its lock behind
    out = run(snake[:-1] + ["--rerun-incomplete", "--", "reasoning_set"], repo).stdout
    assert paths.shard_stage(victim) in out and not any(f"rule {r}:" in out for r in others)
    log = (repo / f"logs/{paths.shard_stage(victim)}.log").read_text()
    assert "chunk 1/" not in log  # chunk 0 (index 1 of n) was not generated again
    assert (repo / paths.REASONING_SET / "train.parquet").exists()


def test_training_jobs_claim_their_threads_and_the_rest_one_core(tmp_path):
    """A training job reserves the cores its torch threads use (compute.train_threads); evals and shards take one
    each, so on 2 cores the two evals run side by side. At full scale a training job takes its node's cores."""
    repo = copy_repo(tmp_path / "repo")
    default = run([str(BIN / "snakemake"), "-n", "-p", "r1_zero", "eval_base", "final", "--cores", "2"], repo).stdout
    blocks = {b.split(":")[0][5:]: b for b in re.split(r"\n(?=rule )", default) if b.startswith("rule ")}
    assert {"r1_zero", "eval_base", "final", "reasoning_shard_000"} <= set(blocks)
    for name in ("base", "r1_zero", "final"):
        assert re.search(r"^\s*threads: 2$", blocks[name], re.M), blocks[name]
    for name in ("eval_base", "reasoning_shard_000", "tasks"):
        assert not re.search(r"^\s*threads: ", blocks[name], re.M), blocks[name]  # shown only when > 1
    full = run([str(BIN / "snakemake"), "-n", "-p", "final", "--cores", "8", "--configfile=configs/full.yaml"],
               repo).stdout
    final = next(b for b in re.split(r"\n(?=rule )", full) if b.startswith("rule final:"))
    assert re.search(r"^\s*threads: 8$", final, re.M), final
