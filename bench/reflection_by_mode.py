"""Accuracy of a model's held-out samples by family and by mode: reflecting, reasoning without reflecting, or
answering at once (`<think> </think>`). Shows whether reflection pays for this model, which decides whether RL
raises it.

    cd <build> && python bench/reflection_by_mode.py models/base [--k 8] [--temperature 0.6] [--out samples.parquet]

Also prints, over items where the model reflects at least once, reflective accuracy beside the item's plain-reasoning
accuracy (what GRPO compares within a group); and for countdown, what the model does once it has seen a miss ("19 is
not 9"): answer anyway or try again ("wait, ..."), and how often each is right."""

from __future__ import annotations

import argparse
import dataclasses

import polars as pl
import torch

from r1 import config
from r1.build import paths
from r1.eval import scoring as eval_mod

ANSWERS_AT_ONCE = pl.col("completion").str.contains("<think> </think>", literal=True)
MISS_SEEN = pl.col("completion").str.contains(" is not ", literal=True)


def by_mode(samples: pl.DataFrame) -> pl.DataFrame:
    """Samples, accuracy and mean tokens per (family, mode); mode: reflects, reasons, or answers at once."""
    mode = (pl.when(pl.col("reflects")).then(pl.lit("reflects"))
            .when(ANSWERS_AT_ONCE).then(pl.lit("answers at once")).otherwise(pl.lit("reasons")))
    return (samples.with_columns(mode=mode).group_by("kind", "mode")
            .agg(pl.len().alias("samples"), pl.col("correct").mean().round(3).alias("accuracy"),
                 pl.col("tokens").mean().round(1).alias("tokens")).sort("kind", "mode"))


def within_items(samples: pl.DataFrame) -> pl.DataFrame:
    """Over items with at least one reflecting sample: mean reflective accuracy beside mean plain-reasoning accuracy
    (reasoning that does not reflect; null for an item without any)."""
    per_item = (samples.group_by("kind", "id")
                .agg(reflective=pl.col("correct").filter(pl.col("reflects")).mean(),
                     reasoning=pl.col("correct").filter(~pl.col("reflects") & ~ANSWERS_AT_ONCE).mean(),
                     n=pl.col("reflects").sum())
                .filter(pl.col("n") > 0))
    return per_item.group_by("kind").agg(pl.len().alias("items"), pl.col("reflective").mean().round(3),
                                         pl.col("reasoning").mean().round(3)).sort("kind")


def after_a_miss(samples: pl.DataFrame) -> pl.DataFrame:
    """Countdown samples by what follows the first comparison with the target: a hit, a seen miss answered anyway, or a
    seen miss followed by another attempt ("wait, ..."); samples, accuracy and mean tokens of each."""
    then = (pl.when(~MISS_SEEN).then(pl.lit("no miss seen")).when(pl.col("reflects")).then(pl.lit("miss, retries"))
            .otherwise(pl.lit("miss, answers it")))
    return (samples.filter(pl.col("kind") == "countdown", ~ANSWERS_AT_ONCE).with_columns(then=then).group_by("then")
            .agg(pl.len().alias("samples"), pl.col("correct").mean().round(3).alias("accuracy"),
                 pl.col("tokens").mean().round(1).alias("tokens")).sort("then"))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("--k", type=int, default=8)
    ap.add_argument("--temperature", type=float, default=0.6)
    ap.add_argument("--top-p", type=float, default=0.95)
    ap.add_argument("--out", help="write the samples here (parquet)")
    args = ap.parse_args(argv)
    torch.manual_seed(0)
    # the eval stage's settings (lengths, batch) from params, with this run's sampling
    cfg = dataclasses.replace(config.load().eval, models=["x"], k=args.k, temperature=args.temperature,
                              top_p=args.top_p, max_items_per_family=None)
    metrics, samples, _ = eval_mod.evaluate(args.model, eval_mod.load_items(paths.TASKS / "eval.parquet"), cfg)
    if args.out:
        samples.write_parquet(args.out)
    with pl.Config(tbl_rows=30):
        print(f"pass@1 {metrics['pass@1']:.3f}  reflection rate {metrics['reflection_rate']:.3f}")
        print(by_mode(samples))
        print(within_items(samples))
        print(after_a_miss(samples))


if __name__ == "__main__":
    main()
