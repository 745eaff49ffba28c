"""S3 for real, against moto's server on 127.0.0.1 (`make test-s3`):

- DVC's S3 remote, set up as the README says (verify = true, an endpoint): `r1 push` of a ci build up to r1_zero,
  `r1 pull` into a fresh clone gives the same bytes; an object corrupted in the bucket fails the pull, naming it.
- Pull, then build on: in the fresh clone, `snakemake eval_r1_zero` and `dvc repro eval_r1_zero` build only the
  eval; no pulled stage reruns and no pulled file is rewritten.
- Snakemake's S3 storage provider as the default storage (the Kubernetes profile's data path): the whole ci DAG
  builds with every output landing in the bucket, the pushed stages' outputs the same bytes as a local build.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest

from helpers.pipeline import BIN, copy_repo, planned_rules, run, snakemake
from helpers.s3 import s3  # noqa: F401  (the moto server fixture)
from r1.build.artifacts import hash_path, is_run_sidecar

pytestmark = pytest.mark.s3

DVC = str(BIN / "dvc")
BUCKET = "r1-build"
PULLED = ("tasks", "base", "r1_zero")  # the ci build that is pushed
NEXT = "eval_r1_zero"  # what the colleague builds on top of it


def _stages(repo: Path) -> dict:
    from r1 import config
    from r1.build import dag

    return dag.for_params(config.load("ci", root=repo))


def _files(repo: Path, outs) -> dict[str, tuple[str, int]]:
    """rel path -> (md5, mtime_ns) of every file of `outs` (run sidecars aside: DVC does not carry them)."""
    found = {}
    for out in outs:
        path = repo / out
        for f in ([path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())):
            if not is_run_sidecar(f.name) and not f.name.startswith("."):
                found[str(f.relative_to(repo))] = (hashlib.md5(f.read_bytes()).hexdigest(), f.stat().st_mtime_ns)
    return found


def _md5s(files: dict) -> dict[str, str]:
    return {k: md5 for k, (md5, _) in files.items()}


def _ran(output: str) -> set[str]:
    """The rules Snakemake started (`rule X:` / `localrule X:` job headers)."""
    return set(re.findall(r"^(?:local)?rule (\w+):", output, flags=re.M))


def _clone(repo: Path, dest: Path) -> Path:
    run(["git", "clone", "-q", str(repo), str(dest)], dest.parent)
    return dest


@pytest.fixture(scope="module")
def pushed(s3, tmp_path_factory):  # noqa: F811
    """A ci build up to r1_zero by Snakemake (recorded in dvc.lock when it ended), its default DVC remote an S3
    bucket set up as README's recipe says, committed and pushed with `r1 push`."""
    repo = copy_repo(tmp_path_factory.mktemp("s3") / "repo")
    snakemake(repo, PULLED[-1])  # first: the manifests record a clean checkout of the copy's commit
    s3.client().create_bucket(Bucket=BUCKET)
    run([DVC, "remote", "add", "-d", "s3", f"s3://{BUCKET}/dvc"], repo)
    run([DVC, "remote", "modify", "s3", "endpointurl", s3.endpoint], repo)
    run([DVC, "remote", "modify", "s3", "verify", "true"], repo)
    run(["git", "add", "-A"], repo)
    run(["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "build up to r1_zero"], repo)
    run(["python", "-m", "r1.cli", "push"], repo)
    return repo


def test_push_then_pull_into_a_fresh_clone_gives_the_same_bytes(pushed, s3, tmp_path):  # noqa: F811
    outs = [o for name in PULLED for o in _stages(pushed)[name].all_outs]
    assert any(k.endswith(".dir") for k in s3.keys(BUCKET, "dvc/")), "r1 push stored no directory in the bucket"
    clone = _clone(pushed, tmp_path / "clone")
    pulled = run(["python", "-m", "r1.cli", "pull"], clone)
    assert f"3 stage(s) up to date for both Snakemake and DVC: {', '.join(PULLED)}" in pulled.stdout, pulled.stdout
    assert _md5s(_files(clone, outs)) == _md5s(_files(pushed, outs))
    assert all(hash_path(clone / o) == hash_path(pushed / o) for o in outs)
    assert "changed" not in run([DVC, "status", *PULLED], clone).stdout


def test_an_object_corrupted_in_the_bucket_fails_the_pull_naming_it(pushed, s3, tmp_path):  # noqa: F811
    client = s3.client()
    keys = s3.keys(BUCKET, "dvc/")
    victim = max((k for k in keys if not k.endswith(".dir")), key=keys.get)  # the largest: model weights
    original = client.get_object(Bucket=BUCKET, Key=victim)["Body"].read()
    digest = victim.replace("dvc/files/md5/", "").replace("/", "")
    try:
        client.put_object(Bucket=BUCKET, Key=victim, Body=b"corrupt")  # 7 bytes, as an overwrite would leave
        clone = _clone(pushed, tmp_path / "clone")
        pulled = run(["python", "-m", "r1.cli", "pull"], clone, check=False)
    finally:
        client.put_object(Bucket=BUCKET, Key=victim, Body=original)
    assert pulled.returncode != 0, "an object corrupted in the bucket was pulled silently"
    message = pulled.stderr
    assert "Corrupted in the remote (1)" in message, message
    named = re.search(r"not checked out: (\S+)", message).group(1)
    assert hashlib.md5((pushed / named).read_bytes()).hexdigest() == digest, (named, digest)
    assert not (clone / named).exists(), f"{named} was checked out from a corrupted object"


def test_pull_then_build_reruns_no_pulled_stage(pushed, tmp_path):
    """The colleague's fresh clone: `r1 pull`, then the next target with either front-end builds only that target;
    every pulled file keeps its bytes and its mtime (nothing rewrote it)."""
    outs = [o for name in PULLED for o in _stages(pushed)[name].all_outs]
    # Snakemake
    clone = _clone(pushed, tmp_path / "snakemake")
    run(["python", "-m", "r1.cli", "pull"], clone)
    assert not (clone / ".snakemake").exists()  # no Snakemake metadata came with the clone
    before = _files(clone, outs)
    assert planned_rules(snakemake(clone, "-n", NEXT).stdout) == {NEXT}
    built = snakemake(clone, NEXT)
    assert _ran(built.stdout + built.stderr) == {NEXT}
    assert _files(clone, outs) == before
    assert "Running stage" not in run([DVC, "repro", NEXT], clone).stdout  # Snakemake recorded it for DVC
    # DVC
    other = _clone(pushed, tmp_path / "dvc")
    run(["python", "-m", "r1.cli", "pull"], other)
    before = _files(other, outs)
    repro = run([DVC, "repro", NEXT], other).stdout
    assert set(re.findall(r"Running stage '([^']+)'", repro)) == {NEXT}, repro
    assert _files(other, outs) == before
    evals = _stages(pushed)[NEXT].all_outs
    assert _md5s(_files(other, evals)) == _md5s(_files(clone, evals))  # both front-ends built the same bytes


def test_the_ci_profile_builds_in_s3_storage_with_the_same_bytes(pushed, s3, tmp_path):  # noqa: F811
    """Snakemake's default storage provider: jobs read local copies of their inputs and write local copies of their
    outputs (the paths on their command lines), Snakemake moves them to and from the bucket; the code and params
    stay local files. Every stage of the ci DAG runs; the artifacts in the bucket hold the bytes a local build
    writes."""
    # the commit `pushed` was built from (before its remote was set up): every manifest records the git revision
    repo = _clone(pushed, tmp_path / "repo")
    run(["git", "reset", "-q", "--hard", "HEAD~1"], repo)
    prefix = "storage"
    built = snakemake(repo, "all", "--default-storage-provider", "s3", "--default-storage-prefix",
                      f"s3://{BUCKET}/{prefix}", "--storage-s3-endpoint-url", s3.endpoint)
    stages = _stages(repo)
    assert _ran(built.stdout + built.stderr) == {*stages, "all"}
    keys = s3.keys(BUCKET, f"{prefix}/")
    for name, stage in stages.items():
        for out in stage.all_outs:
            assert any(k == f"{prefix}/{out}" or k.startswith(f"{prefix}/{out}/") for k in keys), (name, out)
            assert not (repo / out).exists(), f"{out} was written to the workdir, not to storage"
    # the same bytes as the local build of the same commit (`pushed`), file by file
    client, compared = s3.client(), 0
    for rel, (md5, _) in _files(pushed, [o for name in PULLED for o in stages[name].all_outs]).items():
        body = client.get_object(Bucket=BUCKET, Key=f"{prefix}/{rel}")["Body"].read()
        assert hashlib.md5(body).hexdigest() == md5, rel
        compared += 1
    assert compared > 20
    # the eval, read from storage copies of its inputs, names the DAG's paths
    report = json.loads(client.get_object(Bucket=BUCKET, Key=f"{prefix}/{stages[NEXT].out}")["Body"].read())
    assert set(report["inputs"]) == {"models/r1_zero", "data/tasks/eval.parquet"}, report["inputs"]
