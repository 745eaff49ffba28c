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

    from helpers.pipeline import copy_repo, snakemake

    repo = copy_repo(tmp_path_factory.mktemp("ci_build"))
    started = time.time()
    snakemake(repo, "all")
    seconds = time.time() - started
    # Determinism: run-specific timing lives in each artifact's run sidecars, never in a file DVC hashes.
    from r1.build.artifacts import MANIFEST, RUN_INFO

    for manifest in sorted([*repo.glob(f"data/**/{MANIFEST}"), *repo.glob(f"models/**/{MANIFEST}")]):
        assert (manifest.parent / RUN_INFO).exists(), f"no {RUN_INFO} beside {manifest.relative_to(repo)}"
    timed = timing_in_hashed_files(repo)
    assert not timed, f"timing in hashed files (it belongs in the run sidecars): {timed}"
    return repo, seconds


# Files other libraries write whose keys are data (a tokenizer's vocabulary may hold "seconds"), not figures.
NOT_OURS = ("tokenizer.json", "tokenizer_config.json", "vocab.json", "special_tokens_map.json", "added_tokens.json")


def timing_in_hashed_files(repo: Path) -> dict[str, set[str]]:
    """{file: timing keys or columns} for every JSON/TSV under data/, models/ and reports/ that DVC hashes (run
    sidecars skipped, as .dvcignore skips them)."""
    from r1.build.artifacts import is_run_sidecar, timing_fields

    found = {}
    for tree in ("data", "models", "reports"):
        for path in sorted((repo / tree).rglob("*")):
            rel = path.relative_to(repo)
            if (path.suffix in (".json", ".tsv") and path.is_file() and not is_run_sidecar(path.name)
                    and path.name not in NOT_OURS and not any(part.startswith(".") for part in rel.parts)):
                if fields := timing_fields(path):
                    found[str(rel)] = fields
    return found
