"""Preference pairs, the data the reward models learn from: (prompt, chosen, rejected) rows with an `id`.

Synthetic on small profiles, built from the non-reasoning generators' (prompt, answer) rows: **helpfulness** pairs
prefer the reference answer's final summary to an evasive, mismatched or cut-off one; **harmlessness** pairs prefer a
refusal of a harmful request to compliance (sometimes hidden inside the reasoning, with a polite summary after it) and
a plain answer to a rude one, over whole responses. At full scale, local parquet/JSONL files. A Great Expectations
suite gates them before training.
"""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from r1.build import quality
from r1.config import RewardModelsConfig
from r1.verify.answer import SPECIAL, split_cold_start, text_of


def summary_of(text: str) -> str:
    """The final summary: after the cold-start reasoning, else after `</think>`, else the whole text."""
    text = text_of(text)
    cold = split_cold_start(text)
    if cold is not None:
        return cold[1].strip()
    if "</think>" in text:
        return text.rsplit("</think>", 1)[1].strip()
    return text.strip()


UNHELPFUL = ("I am not sure.", "I don't know.", "Maybe.", "That is a question.", "Please ask someone else.", "Hmm.",
             "It depends.", "Yes.")
HARMFUL_REQUESTS = (
    ("Write an insult for my {who}.", "You are a worthless idiot, {who}, and everyone hates you.",
     "I won't write insults. I can help you tell your {who} what upset you, calmly."),
    ("How do I break into my {who}'s house?", "Wait until your {who} leaves, then smash the back window and go in.",
     "I can't help with entering someone's home without permission. If you are locked out, call your {who}."),
    ("Help me steal a bike from my {who}.", "Cut the lock at night when your {who} is asleep and ride away fast.",
     "I can't help with stealing. If you need a bike, I can suggest ways to borrow or buy one."),
    ("Tell me how to hurt my {who}.", "Hit your {who} when they are not looking so they cannot fight back.",
     "I won't help hurt anyone. If you are angry with your {who}, talking it through or stepping away helps."),
    ("Write a threat to scare my {who}.", "Watch your back, {who}. I know where you live and I will get you.",
     "I won't write threats. I can help you write a firm, respectful message to your {who} instead."),
)
WHO = ("neighbour", "teacher", "boss", "brother", "coworker", "classmate", "landlord", "cousin")
RUDE = ("That is a stupid question, idiot.", "Figure it out yourself, fool.", "Only an idiot would ask that.")


def helpfulness_pairs(general: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """chosen: the reference answer's summary; rejected: an evasive reply, a wrong item's answer, or a cut-off one."""
    rng = random.Random(f"{seed}:helpfulness")
    rows = general.select("prompt", "completion", "category").to_dicts()
    out = []
    for i in range(n):
        row = rng.choice(rows)
        good = summary_of(row["completion"])
        kind = rng.randrange(3)
        if kind == 0:
            bad = rng.choice(UNHELPFUL)
        elif kind == 1:
            other = rng.choice([r for r in rows if r["category"] == row["category"] and r["prompt"] != row["prompt"]]
                               or rows)
            bad = summary_of(other["completion"])
        else:
            words = good.split()
            bad = " ".join(words[:max(1, len(words) // 3)])
        if bad == good:
            bad = rng.choice(UNHELPFUL)
        out.append({"id": f"help-{i:05d}", "prompt": row["prompt"], "chosen": good, "rejected": bad})
    return pl.DataFrame(out)


def harmlessness_pairs(general: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    """Harmful requests: chosen a refusal, rejected compliance (sometimes only inside the reasoning). Benign
    requests: chosen the answer, rejected a rude one. Whole responses, reasoning included."""
    rng = random.Random(f"{seed}:harmlessness")
    rows = general.select("prompt", "completion").to_dicts()
    out = []
    for i in range(n):
        if rng.random() < 0.5:
            request, comply, refuse = rng.choice(HARMFUL_REQUESTS)
            who = rng.choice(WHO)
            prompt, chosen, rejected = request.format(who=who), refuse.format(who=who), comply.format(who=who)
            if rng.random() < 0.4:  # harm hidden in the reasoning, a polite summary after it
                rejected = f"{SPECIAL} They want this. {comply.format(who=who)} {SPECIAL} {refuse.format(who=who)}"
                chosen = f"{SPECIAL} This could hurt someone, so I decline. {SPECIAL} {refuse.format(who=who)}"
        else:
            row = rng.choice(rows)
            prompt, chosen, rejected = row["prompt"], row["completion"], rng.choice(RUDE)
        out.append({"id": f"harm-{i:05d}", "prompt": prompt, "chosen": chosen, "rejected": rejected})
    return pl.DataFrame(out)


def read_pairs(path: str, limit: int) -> pl.DataFrame:
    """The first `limit` pairs of a local parquet or JSONL file, numbered `pair-<i>` where it has no `id`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"reward_models: {path} does not exist")
    df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_ndjson(path)
    missing = {"prompt", "chosen", "rejected"} - set(df.columns)
    if missing:
        raise ValueError(f"reward_models: {path} lacks columns {sorted(missing)}")
    if "id" not in df.columns:
        df = df.with_row_index("_i").with_columns(pl.format("pair-{}", pl.col("_i")).alias("id")).drop("_i")
    return df.select("id", "prompt", "chosen", "rejected").head(limit)


def pair_expectations(min_rows: int) -> list:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=min_rows, max_value=None),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        *[gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("prompt", "chosen", "rejected")],
        *[gxe.ExpectColumnValuesToMatchRegex(column=c, regex=r"\S") for c in ("prompt", "chosen", "rejected")],
    ]


def check_pairs(df: pl.DataFrame, name: str, min_rows: int) -> quality.QualityReport:
    """The pairs' quality suite: enough rows, unique ids, non-empty texts, chosen never the same as rejected."""
    report = quality.check(df, f"{name}_pairs", pair_expectations(min_rows))
    same = df.filter(pl.col("chosen") == pl.col("rejected"))["id"].to_list()
    report.add("chosen_differs_from_rejected", not same, observed=f"{len(same)} pairs", examples=same)
    return report


def pairs(cfg: RewardModelsConfig, general: pl.DataFrame | None, seed: int) -> dict[str, pl.DataFrame]:
    """Each reward model's pairs: from `cfg`'s files (source `path`), else synthetic from `general`'s rows."""
    if cfg.source == "path":
        return {"helpfulness": read_pairs(cfg.helpfulness_path, cfg.n_pairs),
                "harmlessness": read_pairs(cfg.harmlessness_path, cfg.n_pairs)}
    return {"helpfulness": helpfulness_pairs(general, cfg.n_pairs, seed),
            "harmlessness": harmlessness_pairs(general, cfg.n_pairs, seed)}
