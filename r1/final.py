"""`final` stage (general RL, R1's stage 8): GRPO on the SFT model over a mix of reasoning prompts and general
prompts, giving the final model.

    python -m r1.final [--profile P]   ->  models/final (model, tokenizer, metrics.tsv per RL step)

Reasoning prompts (train tasks) are judged by the rule rewards of `final.grpo.rewards`; general prompts (the
non-reasoning set's) by the reward models of `final.preference_rewards`: helpfulness on the final summary only,
harmlessness on the whole response. Each reward gives None on the other kind of row, so a row's advantage comes from
its own judges. As in R1, the preference rewards count only from `preference_from` of training on (R1: the last 400
of 1,700 steps). GRPO is r1.grpo's runner; the model rewards are lent to it through the registry for the run.
"""

from __future__ import annotations

import dataclasses
import random
import sys
import time

import polars as pl

from r1 import part2_paths as p2
from r1 import paths
from r1.artifacts import atomic_dir, run_stage, write_manifest
from r1.config import Params
from r1.schema import r1_zero_prompt

STAGE = "final"


def mix_rows(records: list[dict], general: pl.DataFrame, n_reasoning: int, n_general: int, seed: int) -> list[dict]:
    """The RL prompt mix: reasoning task rows (templated prompt + reward columns + `question`) and general rows
    (`kind` "general"), shuffled with the seed. Every row has the same keys."""
    from r1.grpo import REWARD_COLUMNS, rl_rows

    rng = random.Random(f"{seed}:final")
    reasoning = rng.sample(records, min(n_reasoning, len(records)))
    rows = [{**row, "question": rec["prompt"]} for row, rec in zip(rl_rows(reasoning), reasoning)]
    prompts = general["prompt"].unique(maintain_order=True).to_list()
    for i, q in enumerate(rng.sample(prompts, min(n_general, len(prompts)))):
        rows.append({"prompt": r1_zero_prompt(q), **{k: None for k in REWARD_COLUMNS}, "id": f"general-{i:05d}",
                     "kind": "general", "question": q})
    rng.shuffle(rows)
    return rows


def reward_overrides(cfg: Params, root=p2.REWARD_MODELS) -> dict:
    """name -> reward function for this run: rule rewards masked to reasoning rows, model rewards to general rows
    (gated by the preference schedule)."""
    from r1.reward_models import PreferenceSchedule, RuleOnReasoning, reward_function

    g = cfg.final.grpo
    schedule = PreferenceSchedule(cfg.final.preference_from, g.max_steps, g.max_minutes)
    funcs = {name: RuleOnReasoning(name) for name in g.rewards}
    funcs.update({name: reward_function(name, root, active=schedule) for name in cfg.final.preference_rewards})
    return funcs


def main(cfg: Params) -> None:
    from r1.base import load_train_records
    from r1.grpo import run_grpo
    from r1.reward_models import registered

    start = time.time()
    for need in (p2.SFT, p2.REWARD_MODELS / "helpfulness", p2.REWARD_MODELS / "harmlessness"):
        if not (need / "config.json").exists():
            sys.exit(f"r1.final: {need} missing: build `sft` and `reward_models` first")
    general = pl.read_parquet(p2.NON_REASONING / "train.parquet")
    rows = mix_rows(load_train_records(), general, cfg.final.reasoning_prompts, cfg.final.general_prompts, cfg.seed)
    grpo_cfg = dataclasses.replace(cfg.final.grpo, rewards={**cfg.final.grpo.rewards, **cfg.final.preference_rewards})
    print(f"[{STAGE}] {sum(r['kind'] != 'general' for r in rows)} reasoning + "
          f"{sum(r['kind'] == 'general' for r in rows)} general prompts; rewards {grpo_cfg.rewards}; preference "
          f"rewards from {cfg.final.preference_from:.0%} of training", file=sys.stderr)
    with atomic_dir(p2.FINAL) as out, registered(reward_overrides(cfg)):
        summary = run_grpo(p2.SFT, out, grpo_cfg, rows, seed=cfg.seed, checkpoint_dir=paths.checkpoints(STAGE),
                           threads=cfg.compute.train_threads)
        write_manifest(out, STAGE, cfg, ["seed", "final", "compute"], [p2.SFT, p2.REWARD_MODELS, paths.TASKS, p2.NON_REASONING],
                       time.time() - start, extra={"summary": summary})
    print(f"[{STAGE}] wrote {p2.FINAL} in {time.time() - start:.0f}s: {summary}", file=sys.stderr)


if __name__ == "__main__":
    run_stage(STAGE, main)
