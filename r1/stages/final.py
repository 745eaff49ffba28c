"""`final` stage (general RL, R1's stage 8): GRPO on the SFT model over a mix of reasoning and general prompts,
giving the final model.

    python -m r1.stages.final [--profile P]   ->  models/final (model, tokenizer, metrics.tsv per RL step)

R1's last stage aligns the model with human preferences while keeping its reasoning: reasoning prompts (here the
train tasks) are judged by the rule rewards of `final.grpo.rewards`, general prompts (the non-reasoning set's) by the
reward models of `final.preference_rewards`, helpfulness on the final summary only and harmlessness on the whole
response. Each reward gives None on the other kind of row, so a row's advantage comes from its own judges. As in R1,
the preference rewards count only from `preference_from` of training on (R1: the last 400 of 1,700 steps).
"""

import dataclasses

import polars as pl

from r1.build import paths
from r1.build.stage import StageRun, entry
from r1.tasks.pools import load_train_records
from r1.train import grpo
from r1.train.reward_model import PreferenceSchedule, RuleOnReasoning, reward_function
from r1.verify.rewards import PREFERENCE_REWARDS


def main(run: StageRun) -> None:
    cfg, final = run.cfg, run.cfg.final
    run.require("sft", marker="config.json")
    for name in PREFERENCE_REWARDS:
        run.require("reward_models", marker=f"{name}/config.json")
    general = pl.read_parquet(run.input("non_reasoning_set") / "train.parquet")
    rows = grpo.mix_rows(load_train_records(run.input("tasks")), general, final.reasoning_prompts,
                         final.general_prompts, cfg.seed)

    # Rule rewards on the task rows; reward models on the general rows once the preference phase has begun.
    schedule = PreferenceSchedule(final.preference_from, final.grpo.max_steps)
    rewards = {name: RuleOnReasoning(name) for name in final.grpo.rewards}
    rewards.update({name: reward_function(name, run.input("reward_models"), active=schedule)
                    for name in final.preference_rewards})
    grpo_cfg = dataclasses.replace(final.grpo, rewards={**final.grpo.rewards, **final.preference_rewards})
    run.log(f"{sum(r['kind'] != 'general' for r in rows)} reasoning + {sum(r['kind'] == 'general' for r in rows)} "
            f"general prompts; rewards {grpo_cfg.rewards}; preference rewards from {final.preference_from:.0%} of "
            f"training")

    with run.publish() as out:
        summary = grpo.run_grpo(run.input("sft"), out, grpo_cfg, rows, rewards, seed=cfg.seed,
                                checkpoint_dir=paths.checkpoints(run.name), threads=cfg.compute.train_threads,
                                cap=run.cap())
        run.record(summary=summary)
    run.log(f"wrote {run.out} in {run.seconds():.0f}s: {summary}")


if __name__ == "__main__":
    entry(main)
