"""Where each artifact lives, relative to the workflow root (the current directory when a stage runs).

The DAG (r1/dag.py) declares these as outputs; stages write only here, through r1.artifacts.atomic_dir.
"""

from pathlib import Path

DATA = Path("data")
MODELS = Path("models")
REPORTS = Path("reports")
CACHE = Path("cache")  # resumable work (checkpoints); never an output, so a failed job does not delete it

TASKS = DATA / "tasks"  # train.parquet, eval.parquet, quality.json, manifest.json
BASE = MODELS / "base"  # save_pretrained model + tokenizer, curve.tsv, manifest.json
R1_ZERO = MODELS / "r1_zero"  # model + tokenizer, metrics.tsv (per RL step), manifest.json
EVAL = REPORTS / "eval"  # <model>.json per model (+ <model>.samples.parquet)
EVAL_JSON = REPORTS / "eval.json"
EVAL_MD = REPORTS / "eval.md"
PLOTS = REPORTS / "plots"


def model_dir(name: str) -> Path:
    return MODELS / name


def checkpoints(stage: str) -> Path:
    return CACHE / stage / "checkpoints"
