"""Where part 2's artifacts live (relative to the workflow root), beside r1/paths.py's part 1 locations."""

from pathlib import Path

from r1.paths import DATA, MODELS, model_dir

COLD_START = DATA / "cold_start"  # train.parquet (prompt, completion, ...), quality.json, stats.json
REASONING_SHARDS = DATA / "reasoning_shards"  # shard_000/ ... each: samples.parquet, quality.json, stats.json
REASONING_SET = DATA / "reasoning_set"  # train.parquet (merged, filtered, deduplicated), quality.json, stats.json
NON_REASONING = DATA / "non_reasoning_set"  # train.parquet, quality.json
REWARD_MODELS = MODELS / "reward_models"  # helpfulness/, harmlessness/ (sequence classifiers), metrics.json

COLD_START_SFT = model_dir("cold_start_sft")
INTERIM = model_dir("interim")  # the interim reasoning model (reasoning RL on the cold-start SFT)
SFT = model_dir("sft")
FINAL = model_dir("final")
STUDENT_BASE = model_dir("student_base")
STUDENT = model_dir("student")  # distilled: SFT only
RL_STUDENT = model_dir("rl_student")  # RL only


def shard_dir(shard: int) -> Path:
    return REASONING_SHARDS / f"shard_{shard:03d}"


def shard_stage(shard: int) -> str:
    return f"reasoning_shard_{shard:03d}"
