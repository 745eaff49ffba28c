import json
import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent

os.environ.setdefault("DVC_NO_ANALYTICS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Stages run as `python -m r1.<stage>` through Snakemake/DVC: they must find this interpreter first.
os.environ["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture
def root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def ci_build(tmp_path_factory):
    """The whole DAG built once on the ci profile by Snakemake, in a scratch git copy of the repo. DVC tests adopt
    the same artifacts with `dvc commit` instead of building them a second time."""
    import time

    from pipeline_util import copy_repo, snakemake

    repo = copy_repo(tmp_path_factory.mktemp("ci_build"))
    started = time.time()
    snakemake(repo, "all")
    seconds = time.time() - started
    # Determinism: run-specific timing lives in each artifact's run sidecar, never in its (DVC-hashed) manifest.
    from r1.artifacts import MANIFEST, RUN_INFO

    for manifest in sorted([*repo.glob(f"data/**/{MANIFEST}"), *repo.glob(f"models/**/{MANIFEST}")]):
        timing = {"wall_seconds", "created"} & set(json.loads(manifest.read_text()))
        assert not timing, f"{manifest.relative_to(repo)} records {timing}: timing belongs in {RUN_INFO}"
        assert (manifest.parent / RUN_INFO).exists(), f"no {RUN_INFO} beside {manifest.relative_to(repo)}"
    return repo, seconds
