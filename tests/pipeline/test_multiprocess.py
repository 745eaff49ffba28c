"""Training stages under a two-process launch on CPU (`make test-multiproc`): the full profile's own accelerate
command with only the process count and the backend changed (r1.build.launch.cpu_command), DDP over gloo.

On the ci profile, with the inputs built by Snakemake first: an SFT stage (cold_start_sft) and a GRPO stage
(r1_zero) publish one model, from the main process only, equal to what every rank trained (each rank logs a digest
of its final parameters); a launch killed mid-training leaves no artifact and no finished marker, and its rerun
resumes from the newest complete checkpoint and publishes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from helpers.pipeline import copy_repo, env, run, snakemake
from r1 import config
from r1.build import dag, launch, paths
from r1.build.artifacts import MANIFEST
from r1.build.record import MARKERS

pytestmark = pytest.mark.multiproc
PROCESSES = 2
DIGEST = re.compile(r"rank (\d+)/(\d+) params ([0-9a-f]{32})")


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    """A ci copy of the repo with what the two stages need (tasks, base, r1_zero, cold_start), built by Snakemake."""
    repo = copy_repo(tmp_path_factory.mktemp("multiproc"))
    snakemake(repo, str(paths.artifact("cold_start")))
    return repo


def _command(repo: Path, name: str, deepspeed: bool = False) -> list[str]:
    stage = dag.for_params(config.load("ci", root=repo))[name]
    cmd = launch.cpu_command(stage, "ci", PROCESSES, deepspeed)
    printed = run(["python", "-m", "r1.build.launch", name, "--profile", "ci", *(["--deepspeed"] if deepspeed else [])],
                  repo).stdout.strip()
    assert printed == cmd  # the command the docs print is the one tested
    return cmd.split()


def _launch(repo: Path, name: str, deepspeed: bool = False) -> str:
    proc = run(_command(repo, name, deepspeed), repo, timeout=1500)
    return proc.stdout + proc.stderr


def _digest_of_published(path: Path) -> str:
    from r1.build.distributed import param_digest
    from r1.model.modeling import load_model

    return param_digest(load_model(path))


def _check_published(repo: Path, name: str, output: str) -> None:
    """One model, from the main process, after every rank finished; equal to every rank's final parameters."""
    out = repo / paths.artifact(name)
    assert (out / MANIFEST).is_file() and (out / "model.safetensors").is_file() and (out / "config.json").is_file()
    assert (repo / MARKERS / name).is_file()
    digests = {int(r): d for r, n, d in DIGEST.findall(output) if int(n) == PROCESSES}
    assert sorted(digests) == list(range(PROCESSES)), output[-3000:]
    assert len(set(digests.values())) == 1, digests  # data parallel: the ranks ended with the same weights
    assert _digest_of_published(out) == digests[0]
    assert f"[{name}] rank 0 of {PROCESSES}: every process finished; published" in output
    assert f"[{name}] rank 1 of {PROCESSES}: finished; its copy discarded" in output


def _leftovers(repo: Path, name: str) -> set[str]:
    """Hidden copies beside the artifact (a killed run's unfinished temporary directory); none may hold a manifest,
    the mark of a complete artifact."""
    out = repo / paths.artifact(name)
    found = {p.name for p in out.parent.iterdir() if p.name.startswith(f".{name}.")}
    assert not [f for f in found if (out.parent / f / MANIFEST).exists()], found
    return found


def _kill_when_checkpointed(repo: Path, name: str, timeout: float = 1200) -> str:
    """Start the launch, wait for its first complete checkpoint, then SIGTERM the launcher (as a scheduler stops a
    job). Returns the launch's output; fails if any process of the launch survives the launcher."""
    log = repo / f"{name}.killed.log"
    with open(log, "w") as fh:
        proc = subprocess.Popen(_command(repo, name), cwd=repo, env=env(), stdout=fh, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.time() + timeout
        while not list((repo / paths.checkpoints(name)).glob("*/checkpoint-*/COMPLETE")):
            assert proc.poll() is None, f"{name} ended before a checkpoint: {log.read_text()[-3000:]}"
            assert time.time() < deadline, f"no checkpoint of {name} in {timeout}s"
            time.sleep(0.5)
        assert proc.poll() is None, f"{name} finished before it could be killed"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        time.sleep(2)
        survivors = _group_alive(proc.pid)
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)  # our own launch's process group only
    assert not survivors, f"processes of the killed {name} launch outlived the launcher"
    return log.read_text()


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def test_sft_killed_mid_training_leaves_nothing_then_resumes_and_publishes_one_model(repo):
    name = "cold_start_sft"
    assert not (repo / paths.artifact(name)).exists()
    killed = _kill_when_checkpointed(repo, name)
    assert not (repo / paths.artifact(name)).exists(), killed[-2000:]
    assert not (repo / MARKERS / name).exists()
    left = _leftovers(repo, name)
    output = _launch(repo, name)
    assert _leftovers(repo, name) == left  # the rerun left no copy of its own beside the artifact
    resumed = re.search(r"resume from (checkpoint-\d+)", output)
    assert resumed and resumed[1] != "checkpoint-0", output[-3000:]
    _check_published(repo, name, output)
    metrics = (repo / paths.artifact(name) / "metrics.json").read_text()
    assert '"steps": 6' in metrics  # ci: max_steps 6, the whole run although it was resumed


def test_grpo_publishes_one_model_with_every_step_logged_once(repo):
    name = "r1_zero"
    import shutil

    shutil.rmtree(repo / paths.artifact(name))  # Snakemake's single-process build of it
    (repo / MARKERS / name).unlink(missing_ok=True)
    output = _launch(repo, name)
    _check_published(repo, name, output)
    assert not _leftovers(repo, name)
    rows = (repo / paths.artifact(name) / "metrics.tsv").read_text().splitlines()
    steps = [int(line.split("\t", 1)[0]) for line in rows[1:]]
    max_steps = config.load("ci", root=repo).r1_zero.max_steps
    assert steps == list(range(1, max_steps + 1))  # one writer (the main process), nothing lost or doubled


@pytest.mark.parametrize("name", ["reward_models", "base"])
def test_the_other_trainers_publish_once_under_two_processes(repo, name):
    """reward_models (RewardTrainer, DDP) and base (pretraining, its own loop: each rank trains the same model, the
    steps seeded alike, the time cap agreed) publish from the main process only; the base is byte for byte the one
    Snakemake built as a single process."""
    import shutil

    from r1.build.artifacts import hash_path

    out = repo / paths.artifact(name)
    single = hash_path(out / "model.safetensors") if name == "base" else None
    if out.exists():
        shutil.rmtree(out)
    (repo / MARKERS / name).unlink(missing_ok=True)
    output = _launch(repo, name)
    assert (out / MANIFEST).is_file() and (repo / MARKERS / name).is_file()
    assert f"[{name}] rank 0 of {PROCESSES}: every process finished; published" in output
    assert f"[{name}] rank 1 of {PROCESSES}: finished; its copy discarded" in output
    digests = [d for _, n, d in DIGEST.findall(output) if int(n) == PROCESSES]
    models = 2 if name == "reward_models" else 1  # each rank reports each model it trained; the ranks agree
    assert len(digests) == PROCESSES * models and len(set(digests)) == models, digests
    if name == "base":
        assert hash_path(out / "model.safetensors") == single
        assert _digest_of_published(out) == digests[0]
    else:
        for sub in ("helpfulness", "harmlessness"):
            assert (out / sub / "model.safetensors").is_file() and (out / sub / "config.json").is_file()


def test_deepspeed_zero3_publishes_the_gathered_model(repo):
    """ZeRO-3 shards every weight over the ranks: the published model is the gathered one (it once was a file of
    empty shards that did not load), equal to the DDP launch's model up to rounding. Needs deepspeed, which is not
    in the test extra (its first launch compiles a CPU op, ~2 min)."""
    pytest.importorskip("deepspeed")
    import shutil

    from r1.model.modeling import load_model

    name = "cold_start_sft"
    out = repo / paths.artifact(name)
    if not out.exists():
        pytest.skip("needs the DDP-trained model of the SFT test")
    ddp = load_model(out).state_dict()
    shutil.rmtree(out)
    output = _launch(repo, name, deepspeed=True)
    digests = {int(r): d for r, n, d in DIGEST.findall(output)}
    assert list(digests) == [0], output[-3000:]  # only the main process holds the gathered weights
    assert _digest_of_published(out) == digests[0] and (repo / MARKERS / name).is_file()
    zero3 = load_model(out).state_dict()
    assert set(zero3) == set(ddp)
    assert max((zero3[k] - ddp[k]).abs().max().item() for k in ddp) < 1e-5
