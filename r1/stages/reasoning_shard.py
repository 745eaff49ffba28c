"""`reasoning_shard_<i>` stage: one shard of the rejection sampling from the interim model (R1's ~600k reasoning
examples), its own job so a cluster runs shards side by side, each with a GPU.

    python -m r1.stages.reasoning_shard 003 [--profile P]   ->  data/reasoning_shards/shard_003/samples.parquet

The shard samples its slice of the train prompts, keeps the correct samples (registry `accuracy`) that pass the
filters (r1.data.filters), at most `max_per_prompt` per prompt. R1 also kept samples that DeepSeek-V3 judged against
a reference; every task here has a rule verifier, so no generative judge. Work is cached by chunk of prompts under
cache/reasoning_set/<key>/shard_<i>/: a killed shard, or one stopped by its time cap, resumes at its
first missing chunk.
"""

from __future__ import annotations

import polars as pl

from r1.build import paths, quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.data import filters, sampling
from r1.model.modeling import load_model_and_tokenizer, set_threads


def main(run: StageRun) -> None:
    shard = int(run.stage.instance)
    cfg, rs, gen = run.cfg, run.cfg.reasoning_set, run.cfg.generation
    set_threads(1)
    interim, tasks = run.input("interim"), run.input("tasks")
    prompts = sampling.shard_prompts(pl.read_parquet(tasks / "train.parquet"), shard, rs, cfg.seed)
    work = paths.CACHE / "reasoning_set" / sampling.cache_key(cfg, [interim, tasks]) / f"shard_{shard:03d}"

    # Chunk-level resume would be pointless if the model had to be loaded for nothing: load only if work remains.
    n_chunks = -(-len(prompts) // rs.chunk_prompts)
    model = None
    if any(not sampling.chunk_path(work, c).exists() for c in range(n_chunks)):
        run.require("interim", marker="config.json")
        model = load_model_and_tokenizer(interim, device=gen.device) if gen.backend == "hf" else str(interim)
    run.log(f"shard {shard}/{rs.n_shards}: {len(prompts)} prompts x {rs.samples_per_prompt} samples, "
            f"{n_chunks} chunks in {work}")
    kept, stats = sampling.run_chunks(prompts, model, cfg, shard, work, cap=run.cap())
    kept = sampling.empty_samples(prompts) if kept is None else kept
    # Chunks are filtered on their own; samples of one prompt never span chunks, so this is a final guard.
    kept, _ = filters.exact_duplicates(kept)
    kept = sampling.cap_per_prompt(kept, rs.max_per_prompt)
    stats["kept_after_cap"] = len(kept)
    run.timing["generate_seconds"] = round(run.seconds(), 1)  # run-specific: the sidecar, not stats.json

    report = quality.check(kept, run.name, sampling.sample_expectations())
    sampling.computed_checks(report, kept, rs)
    run.log(report.summary())
    quality.require(report)

    run.record(shard=shard, stats=stats)
    with run.publish() as out:
        kept.write_parquet(out / sampling.SAMPLES)
        write_json(out / "stats.json", stats)
        write_json(out / "quality.json", report.to_dict())
    run.log(f"wrote {run.out}: {len(kept)} kept of {stats.get('samples', 0)} sampled in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
