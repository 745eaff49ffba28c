"""(Runs after tests/pipeline/test_pipeline.py, whose Snakemake checks need the build untouched by DVC.)
DVC front-end: reproduce, no-op, precise invalidation, push/pull byte-identical, remote corruption, kills."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time

import pytest
import yaml

from helpers.pipeline import BIN, copy_repo, edited_yaml, env, planned_rules, run, snakemake
from r1.build.artifacts import hash_path

DVC = str(BIN / "dvc")


@pytest.fixture(scope="module")
def built(ci_build, tmp_path_factory):
    """The Snakemake build, which recorded itself in dvc.lock when Snakemake ended (r1.build.record), committed to
    git so that a clone sees it; the remote moves to a scratch directory."""
    repo, _ = ci_build
    remote = tmp_path_factory.mktemp("remote")
    # the shipped remote's settings (verify = true) stay; only its location moves to a scratch directory
    run([DVC, "remote", "modify", "local", "url", str(remote)], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "build"], repo)
    return repo, remote


def _stages(repo):
    from r1 import config
    from r1.build import dag

    return dag.for_params(config.load("ci", root=repo))


def _lock_outs(repo):
    lock = yaml.safe_load((repo / "dvc.lock").read_text())
    return {o["path"]: o["md5"] for s in lock["stages"].values() for o in s.get("outs", [])}


def test_second_repro_runs_nothing(built):
    repo, _ = built
    out = run([DVC, "repro"], repo).stdout
    assert "Running stage" not in out, out
    assert "up to date" in run([DVC, "status"], repo).stdout


def test_param_change_invalidates_exactly_the_readers(built):
    repo, _ = built
    with edited_yaml(repo / "params.yaml", "tasks.decontam_ngram", 9):
        status = run([DVC, "status", "--json"], repo).stdout
    assert set(json.loads(status)) == {"tasks"}


def test_editing_imported_code_changes_exactly_its_importers_and_descendants(built):
    """dvc.yaml's code deps are computed from imports: the Trainer callbacks (imported lazily, inside the runners'
    functions) change the GRPO, SFT and reward-model stages, and nothing else."""
    from r1 import config
    from r1.build import dag

    repo, _ = built
    stages = dag.for_params(config.load("ci", root=repo))
    rel = "r1/train/callbacks.py"
    path = repo / rel
    original = path.read_text()
    try:
        path.write_text(original + "\n# touched\n")
        changed = set(json.loads(run([DVC, "status", "--json"], repo).stdout))
    finally:
        path.write_text(original)
    importers = {name for name, s in stages.items() if rel in s.code}
    assert "r1_zero" in importers and "sft" in importers and "base" not in importers
    # DVC reports a stage whose own deps changed; its descendants follow once it reruns
    assert changed == importers


def test_param_change_reruns_the_stage_and_its_descendants_only(built):
    """DVC runs the same commands: a change to eval.max_new_tokens reruns the eval stages and the report."""
    repo, _ = built
    before = _lock_outs(repo)
    with edited_yaml(repo / "params.yaml", "eval.max_new_tokens", 100):
        out = run([DVC, "repro"], repo).stdout
    ran = set(re.findall(r"Running stage '([^']+)'", out))
    assert ran and all(name.startswith("eval_") or name == "report" for name in ran), ran
    assert before["models/r1_zero"] == _lock_outs(repo)["models/r1_zero"]
    run([DVC, "repro"], repo)  # back to the committed params


def test_push_clone_pull_gives_the_same_bytes_and_snakemake_has_nothing_to_do(built, tmp_path):
    """`make push` after a Snakemake build stores every artifact; a colleague's fresh clone and `make pull` get the
    same bytes, and both front-ends see them as built."""
    repo, remote = built
    pushed = run(["python", "-m", "r1.cli", "push"], repo)
    assert "Everything is up to date" not in pushed.stdout and any(remote.rglob("*.dir")), pushed.stdout
    clone = tmp_path / "clone"
    run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
    run(["python", "-m", "r1.cli", "pull"], clone)
    outs = _lock_outs(clone)
    assert set(outs) == {o for s in _stages(repo).values() for o in s.all_outs}  # every artifact recorded
    for path in outs:
        assert hash_path(clone / path) == hash_path(repo / path), path
    assert "up to date" in run([DVC, "status"], clone).stdout
    assert planned_rules(snakemake(clone, "-n", "all").stdout) == set()
    gen = run(["python", "-c", "from r1.model.modeling import load_model_and_tokenizer as l; m, t = l('models/r1_zero'); "
               "ids = t('User: 2 + 3', return_tensors='pt').input_ids; "
               "print(t.decode(m.generate(ids, max_new_tokens=8, do_sample=False)[0]))"], clone)
    assert gen.stdout.strip()


def test_corrupted_remote_file_is_detected_on_pull(built, tmp_path):
    repo, remote = built
    run([DVC, "push"], repo)
    victims = sorted(p for p in remote.rglob("*") if p.is_file() and p.stat().st_size > 1000)
    victim = victims[0]
    original = victim.read_bytes()
    try:
        victim.write_bytes(b"corrupt" + original[7:])
        clone = tmp_path / "clone"
        run(["git", "clone", "-q", str(repo), str(clone)], tmp_path)
        pulled = run([DVC, "pull"], clone, check=False)
        assert pulled.returncode != 0, "a corrupted remote file was used silently"
    finally:
        victim.write_bytes(original)


@pytest.mark.parametrize("stage, out, wait_for", [("tasks", "data/tasks", "data"), ("base", "models/base", "models")])
def test_sigkill_mid_write_leaves_nothing_that_looks_complete(built, tmp_path, stage, out, wait_for):
    # tasks on the default profile: large enough that the kill lands while the artifact is being written
    repo = copy_repo(tmp_path / "kill", profile="default" if stage == "tasks" else "ci")
    if stage == "base":
        run(["python", "-m", "r1.stages.tasks"], repo)
    proc = subprocess.Popen(["python", "-m", f"r1.stages.{stage}"], cwd=repo, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not any((repo / wait_for).glob(f".{out.split('/')[-1]}.tmp-*")):
        time.sleep(0.002)
    assert proc.poll() is None, "the stage finished before it could be killed"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not (repo / out).exists(), f"{out} looks complete after a SIGKILL"
    run(["python", "-m", f"r1.stages.{stage}"], repo)
    assert (repo / out / "manifest.json").exists()


def test_experiment_with_one_param_lists_eval_metrics(built):
    """`dvc exp run -S key=value` for a tuning run, `dvc exp show` with the eval metrics, `dvc metrics show`."""
    repo, _ = built
    run([DVC, "exp", "run", "-S", "eval.temperature=0.7", "--name", "warmer-eval"], repo)
    shown = json.loads(run([DVC, "exp", "show", "--json"], repo).stdout)
    text = json.dumps(shown)
    assert "warmer-eval" in text and "pass@1" in text
    metrics = run([DVC, "metrics", "show"], repo).stdout
    assert "pass@1" in metrics
