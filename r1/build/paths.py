"""Where each artifact lives, relative to the workflow root (the current directory when a stage runs).

An artifact is named by the stage that builds it: `artifact("final")` is models/final. The DAG (r1.build.dag)
declares these as outputs, and stages write only there, through r1.build.artifacts.
"""

from pathlib import Path

DATA = Path("data")
MODELS = Path("models")
REPORTS = Path("reports")
CACHE = Path("cache")  # resumable work (checkpoints); never an output, so a failed job does not delete it

# The models the recipe builds, in the order reports list them.
MODELS_IN_ORDER = ("base", "r1_zero", "cold_start_sft", "interim", "sft", "final", "student_base", "student",
                   "rl_student")
DATASETS = ("tasks", "cold_start", "reasoning_set", "non_reasoning_set")

TASKS = DATA / "tasks"  # train.parquet, eval.parquet, quality.json, manifest.json
COLD_START = DATA / "cold_start"  # train.parquet (prompt, completion, ...), quality.json, stats.json
REASONING_SHARDS = DATA / "reasoning_shards"  # shard_000/ ... each: samples.parquet, quality.json, stats.json
REASONING_SET = DATA / "reasoning_set"  # train.parquet (merged, filtered, deduplicated), quality.json, stats.json
NON_REASONING = DATA / "non_reasoning_set"  # train.parquet, quality.json
REWARD_MODELS = MODELS / "reward_models"  # helpfulness/, harmlessness/ (sequence classifiers), metrics.json

EVAL = REPORTS / "eval"  # <model>.json per model (+ <model>.samples.parquet)
EVAL_JSON = REPORTS / "eval.json"
EVAL_MD = REPORTS / "eval.md"
EFFECTS_MD = REPORTS / "effects.md"  # the recipe's effects in miniature, with R1's claims checked
PLOTS = REPORTS / "plots"


def model_dir(name: str) -> Path:
    return MODELS / name


BASE = model_dir("base")
R1_ZERO = model_dir("r1_zero")
COLD_START_SFT = model_dir("cold_start_sft")
INTERIM = model_dir("interim")
SFT = model_dir("sft")
FINAL = model_dir("final")
STUDENT_BASE = model_dir("student_base")
STUDENT = model_dir("student")
RL_STUDENT = model_dir("rl_student")


def artifact(name: str) -> Path:
    """The directory a stage named `name` builds (datasets under data/, models under models/)."""
    if name in DATASETS:
        return DATA / name
    if name in MODELS_IN_ORDER or name == "reward_models":
        return MODELS / name
    raise KeyError(f"no artifact directory for stage {name!r}")


def shard_dir(shard: int) -> Path:
    return REASONING_SHARDS / f"shard_{shard:03d}"


def shard_stage(shard: int) -> str:
    return f"reasoning_shard_{shard:03d}"


def eval_json(model: str) -> Path:
    return EVAL / f"{model}.json"


def eval_samples(model: str) -> Path:
    return EVAL / f"{model}.samples.parquet"


def checkpoints(stage: str) -> Path:
    return CACHE / stage / "checkpoints"
