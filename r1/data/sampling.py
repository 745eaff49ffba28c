"""Rejection sampling from the interim model (R1's ~600k reasoning examples), in shards, and their merge.

A shard (`shard_prompts`) is a slice of the seed-shuffled train prompts. `run_chunks` samples `samples_per_prompt`
completions per prompt through r1.model.generate (hf or vllm), chunk by chunk of prompts, and `verify` keeps the
correct ones (registry `accuracy`) that pass r1.data.filters (mixed language, unreadable, wrong steps, over-long
paragraphs, code in non-code answers, exact and near duplicates). Each chunk is written to the work directory as soon
as it is verified, so a killed shard resumes at its first missing chunk; `cache_key` names the work directory by what
the chunks depend on (the sampling knobs, seed and inputs, not the merge-only knobs). `merge` deduplicates across
shards, caps per prompt and at `target_size`; `sample_expectations` and `computed_checks` gate shards and set.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

import polars as pl

from r1.build import quality
from r1.build.clock import NO_CAP, Cap
from r1.build.artifacts import atomic_file, hash_path, write_json
from r1.build.log import logger
from r1.config import Params, ReasoningSetConfig, to_dict
from r1.data import filters
from r1.data.readable import TASK_COLUMNS, explode_samples, score_samples, sft_prompt

SAMPLES = "samples.parquet"
# Knobs that only the merge reads: changing them must not invalidate finished shard chunks.
MERGE_ONLY = ("n_shards", "target_size", "min_size")

log = logger("reasoning_set")


# ---------------------------------------------------------------------------------------------------------------------
# Shards.


def shard_prompts(train: pl.DataFrame, shard: int, cfg: ReasoningSetConfig, seed: int) -> pl.DataFrame:
    """Shard `shard`'s prompts: a contiguous slice of the seed-shuffled train set (cycled when the set is short), so
    shards are disjoint until the train set runs out."""
    if not 0 <= shard < cfg.n_shards:
        raise ValueError(f"shard {shard}: must lie in [0, {cfg.n_shards}) (reasoning_set.n_shards)")
    if train.is_empty():
        raise ValueError("no train prompts")
    order = train.select(TASK_COLUMNS).sample(fraction=1.0, shuffle=True, seed=seed)
    start = shard * cfg.prompts_per_shard
    idx = [(start + i) % len(order) for i in range(cfg.prompts_per_shard)]
    return order[idx]


def cache_key(cfg: Params, inputs: list[Path]) -> str:
    """Chunks are reused only by a run with the same sampling params, seed and inputs."""
    knobs = {k: v for k, v in to_dict(cfg.reasoning_set).items() if k not in MERGE_ONLY}
    digest = hashlib.md5(json.dumps([knobs, to_dict(cfg.generation), cfg.seed], sort_keys=True).encode())
    for path in inputs:
        digest.update(hash_path(path).encode() if Path(path).exists() else b"-")
    return digest.hexdigest()[:12]


def chunk_path(work: Path, chunk: int) -> Path:
    return work / f"chunk_{chunk:04d}.parquet"


def verify(samples: pl.DataFrame, cfg: ReasoningSetConfig) -> tuple[pl.DataFrame, dict]:
    """Correct samples only (registry `accuracy` == 1), then the filters; counts per step."""
    scored = score_samples(samples, ("accuracy", "language_consistency"))
    correct = scored.filter(pl.col("accuracy") == 1.0)
    kept, stats = filters.apply_all(
        correct.drop("language_consistency"), min_language=cfg.min_language_consistency,
        max_paragraph_chars=cfg.max_paragraph_chars, near_dup_threshold=cfg.near_dup_threshold,
        shingle_words=cfg.shingle_words, language=correct["language_consistency"].to_list())
    stats = {"samples": len(samples), "correct": len(correct), **{k: v for k, v in stats.items() if k != "input"}}
    return kept, stats


def cap_per_prompt(df: pl.DataFrame, k: int) -> pl.DataFrame:
    return df.with_columns(pl.int_range(pl.len()).over("id").alias("_nth")).filter(pl.col("_nth") < k).drop("_nth")


def run_chunks(prompts: pl.DataFrame, model, cfg: Params, shard: int, work: Path,
               cap: Cap = NO_CAP) -> tuple[pl.DataFrame, dict]:
    """Generate + verify chunk by chunk, skipping chunks already in `work`. Returns every chunk's kept rows and
    per-chunk counts. Raises CapReached before starting a chunk once `cap` is reached: the chunks done so far stay
    in `work`, and a rerun picks up from them."""
    from r1.model.generate import generate

    rs, gen = cfg.reasoning_set, cfg.generation
    work.mkdir(parents=True, exist_ok=True)
    n_chunks = -(-len(prompts) // rs.chunk_prompts)
    done = generated = 0
    started = time.time()
    for c in range(n_chunks):
        path = chunk_path(work, c)
        if path.exists():
            done += 1
            continue
        cap.check(c, n_chunks, checkpoint=str(work))
        part = prompts.slice(c * rs.chunk_prompts, rs.chunk_prompts)
        completions = generate(model, [sft_prompt(p) for p in part["prompt"]], n=rs.samples_per_prompt,
                               temperature=rs.temperature, top_p=rs.top_p, max_new_tokens=rs.max_new_tokens,
                               batch_size=rs.batch_size, backend=gen.backend,
                               seed=cfg.seed * 1000003 + shard * 1009 + c, device=gen.device,
                               desc=f"shard {shard} chunk {c}")
        kept, stats = verify(explode_samples(part, completions), rs)
        kept = kept.with_columns(pl.lit(shard).alias("shard"), pl.lit(c).alias("chunk"))
        with atomic_file(path) as tmp:  # a chunk on disk is a whole chunk
            kept.write_parquet(tmp)
        write_json(work / f"chunk_{c:04d}.stats.json", stats)
        done += 1
        generated += stats["samples"]
        rate = generated / max(time.time() - started, 1e-9)
        log(f"shard {shard} chunk {c + 1}/{n_chunks}: {stats['samples']} sampled, {stats['correct']} correct, "
            f"{stats['kept']} kept ({rate:.1f} completions/s generated+verified)")
    present = [c for c in range(n_chunks) if chunk_path(work, c).exists()]
    frames = [pl.read_parquet(chunk_path(work, c)) for c in present]
    totals: dict = {"chunks": n_chunks, "chunks_done": len(present)}
    for c in present:
        stats_file = work / f"chunk_{c:04d}.stats.json"
        for key, value in (json.loads(stats_file.read_text()) if stats_file.exists() else {}).items():
            totals[key] = totals.get(key, 0) + value
    kept = pl.concat(frames, how="vertical_relaxed") if frames else None
    return kept, totals


def sample_expectations(min_rows: int = 0, max_rows: int | None = None) -> list:
    import great_expectations.expectations as gxe

    suite = [
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["math", "countdown", "code"]),
        gxe.ExpectColumnValuesToNotBeNull(column="prompt"),
        gxe.ExpectColumnValuesToNotBeNull(column="completion"),
        gxe.ExpectColumnValuesToMatchRegex(column="completion", regex=r"\S"),
        gxe.ExpectColumnValuesToBeInSet(column="accuracy", value_set=[1.0]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["prompt", "completion"]),
    ]
    if min_rows or max_rows is not None:
        suite.insert(0, gxe.ExpectTableRowCountToBeBetween(min_value=min_rows, max_value=max_rows))
    return suite


def computed_checks(report: quality.QualityReport, df: pl.DataFrame, rs: ReasoningSetConfig) -> None:
    """What GX cannot say in one expectation: the filters held (no code in non-code answers, no wall of text)."""
    code = df.filter((pl.col("kind") != "code") & filters.code_expr("completion"))["id"].to_list()
    report.add("no_code_in_non_code_answers", not code, observed=f"{len(code)} rows", examples=code,
               column="completion")
    long = [i for i, t in zip(df["id"], df["completion"]) if filters.longest_paragraph(t) > rs.max_paragraph_chars]
    report.add("no_over_long_paragraphs", not long, observed=f"{len(long)} rows", examples=long, column="completion")
    wrong = [i for i, t in zip(df["id"], df["completion"]) if not filters.steps_hold(t)]
    report.add("every_step_holds", not wrong, observed=f"{len(wrong)} rows", examples=wrong, column="completion")


def empty_samples(prompts: pl.DataFrame) -> pl.DataFrame:
    return prompts.head(0).with_columns(pl.lit(None, dtype=pl.Utf8).alias("completion"),
                                        pl.lit(None, dtype=pl.Float64).alias("accuracy"),
                                        pl.lit(None, dtype=pl.Int32).alias("shard"),
                                        pl.lit(None, dtype=pl.Int32).alias("chunk"))


# ---------------------------------------------------------------------------------------------------------------------
# Merge.


def merge(frames: list[pl.DataFrame], rs: ReasoningSetConfig, seed: int) -> tuple[pl.DataFrame, dict]:
    """Shards into one set: exact duplicates across shards, near duplicates within a prompt, `max_per_prompt`, then
    capped at `target_size` (a seeded sample, so every kind keeps its share)."""
    filled = [f for f in frames if len(f)]
    # all empty: keep a shard's (empty) frame, so the set still has its columns for the quality suite
    df = pl.concat(filled, how="vertical_relaxed") if filled else (frames[0] if frames else pl.DataFrame())
    stats = {"input": len(df)}
    if df.is_empty():
        return df, {**stats, "kept": 0}
    df = df.sort(["shard", "chunk"], maintain_order=True)
    df, stats["exact_duplicate"] = filters.exact_duplicates(df)
    df, stats["near_duplicate"] = filters.near_duplicates(df, rs.near_dup_threshold, rs.shingle_words)
    before = len(df)
    df = cap_per_prompt(df, rs.max_per_prompt)
    stats["over_per_prompt_cap"] = before - len(df)
    if len(df) > rs.target_size:
        df = df.sample(n=rs.target_size, shuffle=True, seed=seed)
    stats["over_target_size"] = before - stats["over_per_prompt_cap"] - len(df)
    stats["kept"] = len(df)
    stats["by_kind"] = dict(sorted(df.group_by("kind").len().iter_rows()))
    return df, stats


def merge_shards(shard_dirs: list[Path], rs: ReasoningSetConfig, seed: int, suite: str = "reasoning_set"
                 ) -> tuple[pl.DataFrame, dict, quality.QualityReport]:
    """The `reasoning_set` stage's work on its shard directories (each with samples.parquet and stats.json): the
    merged set, its stats.json and its quality report (GX suite + computed checks), not yet required to pass."""
    frames = [pl.read_parquet(Path(d) / SAMPLES) for d in shard_dirs]
    shard_stats = [json.loads((Path(d) / "stats.json").read_text()) for d in shard_dirs]
    df, merged = merge(frames, rs, seed)
    stats = set_stats(shard_stats, merged)
    report = quality.check(df, suite, sample_expectations(rs.min_size, rs.target_size))
    if not df.is_empty():
        computed_checks(report, df, rs)
    return df, stats, report


def set_stats(shard_stats: list[dict], merge_stats: dict) -> dict:
    """The set's stats.json: the shards' counts summed, the merge's counts, each shard's own, the acceptance rate."""
    totals: dict = {}
    for s in shard_stats:
        for key, value in s.items():
            if isinstance(value, (int, float)) and key != "seconds":
                totals[key] = totals.get(key, 0) + value
    return {"shards": totals, "merge": merge_stats, "per_shard": shard_stats,
            "acceptance_rate": round(totals.get("correct", 0) / max(totals.get("samples", 0), 1), 4)}
