"""`tasks` stage: verifiable task pools, a train split and a decontaminated held-out eval split.

    python -m r1.stages.tasks [--profile P]   ->  data/tasks (train.parquet, eval.parquet, quality.json)

R1 trains on math, code and logic prompts whose answers a rule can check. Here three generated families stand in:
math word problems, countdown (reach a target with given numbers) and small Python functions with tests, each with
a worked solution for the pretraining corpus. Local files in public layouts (GSM8K, Countdown-Tasks-3to4,
HumanEval/MBPP) join them (`tasks.sources`, r1.tasks.imports); the DAG's row makes them inputs of this stage. Eval
items share no word n-gram with any train prompt, and a Great Expectations suite must pass before anything is written.
"""

from r1.build import quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.tasks import imports, pools


def main(run: StageRun) -> None:
    cfg = run.cfg.tasks
    sources = imports.load_all(cfg.sources, run.cfg.seed)  # every file read and checked before anything is written
    train, evals = pools.generate(cfg, run.cfg.seed, sources)
    for src in sources:
        run.log(f"imported {src.label}: {src.summary()}")
    run.log(f"{len(train)} train + {len(evals)} eval in {run.seconds():.1f}s; validating")
    report = pools.validate(train, evals, cfg, sources)
    run.log(report.summary().splitlines()[0] + f" ({report.seconds:.1f}s)")
    quality.require(report)  # a failed suite writes nothing
    with run.publish() as out:
        train.write_parquet(out / "train.parquet")
        evals.write_parquet(out / "eval.parquet")
        write_json(out / "quality.json", report.to_dict())
        run.record(counts={split: dict(sorted(frame.group_by("kind").len().iter_rows()))
                           for split, frame in (("train", train), ("eval", evals))})
        if sources:
            run.record(imported={src.label: src.summary() for src in sources})
    run.log(f"wrote {run.out} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
