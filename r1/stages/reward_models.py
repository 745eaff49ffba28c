"""`reward_models` stage: the helpfulness and harmlessness reward models of the general RL (R1's stage 8).

    python -m r1.stages.reward_models [--profile P]   ->  models/reward_models/{helpfulness,harmlessness}/,
                                                          metrics.json, quality.json

R1 judged general prompts with reward models: helpfulness on the final summary only, harmlessness on the whole
response, reasoning included. Here each is a one-score sequence classifier on the base's backbone, trained with TRL's
RewardTrainer on preference pairs (r1.data.preferences): synthetic on small profiles, built from the non-reasoning
generators rather than read from that set, so the reward models need only the base and train while the reasoning
chain runs; local files at full scale. The pairs pass a quality suite first; a model whose held-out accuracy (chosen
scored above rejected) is under `min_accuracy` fails the stage.
"""

from r1.build import paths, quality
from r1.build.artifacts import write_json
from r1.build.stage import StageRun, entry
from r1.data import non_reasoning, preferences
from r1.model.modeling import set_threads
from r1.train import reward_model


def main(run: StageRun) -> None:
    cfg, rm = run.cfg, run.cfg.reward_models
    set_threads(cfg.compute.train_threads)
    general = non_reasoning.synthetic(cfg.non_reasoning_set, cfg.seed + 1) if rm.source == "synthetic" else None
    pairs = preferences.pairs(rm, general, cfg.seed)
    reports = {}
    for name, df in pairs.items():
        reports[name] = preferences.check_pairs(df, name, min_rows=max(10, int(0.5 * min(rm.n_pairs, len(df)))))
        run.log(reports[name].summary())
        quality.require(reports[name])

    metrics, seconds, cap = {}, {}, run.cap()
    files = (rm.helpfulness_path, rm.harmlessness_path) if rm.source == "path" else ()
    with run.publish(inputs=files) as out:
        for name, df in pairs.items():
            metrics[name] = reward_model.train_one(name, run.input("base"), df, out / name, rm, cfg.seed,
                                                   work_dir=paths.checkpoints(run.name) / name, cap=cap)
            seconds[name] = metrics[name].pop("seconds")  # run-specific: the run sidecar, not metrics.json
            reports[name].add("heldout_accuracy_at_least_min", metrics[name]["heldout_accuracy"] >= rm.min_accuracy,
                              observed=metrics[name]["heldout_accuracy"])
            run.log(reports[name].summary())
            quality.require(reports[name])
            df.write_parquet(out / name / "pairs.parquet")
        write_json(out / "metrics.json", metrics)
        write_json(out / "quality.json", {n: r.to_dict() for n, r in reports.items()})
        run.record(metrics=metrics)
        run.timing["train_seconds"] = seconds
    run.log(f"wrote {run.out} in {run.seconds():.1f}s")


if __name__ == "__main__":
    entry(main)
