"""Verifiable task pools: a train split and a decontaminated held-out eval split, and their quality suite.

Families (r1.tasks.families): `math` (word problems, numeric `answer`), `countdown` (`numbers` + `target`; `answer`
is one solving expression), `code` (`tests`, `entry_point`, `reference`; `answer` is the reference source). Every
record has a worked `solution` (the text inside <think>). The code eval split starts with the article's prompt (id
`code-eval-article`). Deterministic from the seed: each (family, split) has its own random stream. Eval items are
drawn until they share no word n-gram with any train prompt (r1.tasks.decontam).
"""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path

import polars as pl

from r1.build import quality
from r1.build.log import logger
from r1.config import TasksConfig
from r1.tasks import FAMILIES, decontam, families
from r1.tasks.schema import TASK_SCHEMA

MAX_PROMPT_CHARS = 200  # a small model's context; the longest template is well under it
STEPS_RE = r"^\d+ [-+*/] \d+ = \d+(?:\n\d+ [-+*/] \d+ = \d+)*$"  # math/countdown solutions: `a op b = c` lines

log = logger("tasks")


def load_train_records(tasks_dir: Path | str) -> list[dict]:
    """The train split's records from a `tasks` artifact directory."""
    path = Path(tasks_dir) / "train.parquet"
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: build the `tasks` stage first")
    df = pl.read_parquet(path)
    return df.filter(pl.col("split") == "train").to_dicts()


def _rng(seed: int, kind: str, split: str) -> random.Random:
    return random.Random(f"{seed}:{kind}:{split}")  # str seeds are hashed stably across runs


def generate(cfg: TasksConfig, seed: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, eval) frames with TASK_SCHEMA columns."""
    seen: set[str] = set()  # every accepted prompt: no exact duplicates anywhere
    train, evals = [], []
    for kind in FAMILIES:
        start, rng = time.time(), _rng(seed, kind, "train")
        recs, draws = decontam.draw(_stream(kind, rng, cfg), cfg.n_train.get(kind, 0), seen, label=f"{kind} train")
        train += _with_ids(recs, kind, "train")
        log(f"{kind} train: {len(recs)} items from {draws} draws in {time.time() - start:.2f}s")
    index = decontam.NgramIndex(cfg.decontam_ngram, (r["prompt"] for r in train))
    for kind in FAMILIES:
        start, rng = time.time(), _rng(seed, kind, "eval")
        first = [families.record(kind="code", **families.code.article(rng))] if kind == "code" else []
        recs, draws = decontam.draw(_stream(kind, rng, cfg, first), cfg.n_eval.get(kind, 0), seen, index,
                                    label=f"{kind} eval")
        evals += _with_ids(recs, kind, "eval")
        log(f"{kind} eval: {len(recs)} items from {draws} draws ({len(recs) / max(draws, 1):.0%} clean) "
            f"in {time.time() - start:.2f}s")
    return _frame(train), _frame(evals)


def _stream(kind: str, rng: random.Random, cfg: TasksConfig, first: list[dict] = ()):
    """A callable giving the `first` records, then fresh ones forever."""
    return itertools.chain(first, iter(lambda: families.generate(kind, rng, cfg), None)).__next__


def _with_ids(recs: list[dict], kind: str, split: str) -> list[dict]:
    for i, rec in enumerate(recs):
        article = rec["prompt"] == families.code.ARTICLE_PROMPT
        rec.update(id=f"{kind}-{split}-article" if article else f"{kind}-{split}-{i:05d}", split=split)
    return recs


def _frame(recs: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(recs, schema=TASK_SCHEMA)


def expectations() -> list:
    """The tasks suite (GX expectation objects)."""
    gxe = quality.gx().expectations
    from great_expectations.expectations.row_conditions import Column

    def present(column: str, kind: str):
        return gxe.ExpectColumnValuesToNotBeNull(column=column, row_condition=Column("kind") == kind)

    return [
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("id", "kind", "split", "prompt", "solution")),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=list(FAMILIES)),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "eval"]),
        gxe.ExpectColumnValuesToMatchRegex(column="prompt", regex=r"\S"),  # not empty, not blank
        gxe.ExpectColumnValueLengthsToBeBetween(column="prompt", min_value=1, max_value=MAX_PROMPT_CHARS),
        gxe.ExpectColumnValuesToBeUnique(column="prompt"),
        gxe.ExpectColumnValuesToMatchRegex(column="solution", regex=r"\S"),
        gxe.ExpectColumnValuesToMatchRegex(column="solution", regex=STEPS_RE, row_condition=Column("kind") != "code"),
        present("answer", "math"),
        gxe.ExpectColumnValuesToMatchRegex(column="answer", regex=r"^-?\d+$", row_condition=Column("kind") == "math"),
        present("numbers", "countdown"),
        present("target", "countdown"),
        present("tests", "code"),
        present("entry_point", "code"),
        present("reference", "code"),
        gxe.ExpectColumnValuesToMatchRegex(column="entry_point", regex=r"^[A-Za-z_]\w*$",
                                           row_condition=Column("kind") == "code"),
    ]


def validate(train: pl.DataFrame, evals: pl.DataFrame, cfg: TasksConfig) -> quality.QualityReport:
    """The GX suite plus computed checks: no train/eval n-gram overlap, family counts as configured."""
    report = quality.check(pl.concat([train, evals]), "tasks", expectations())
    found = decontam.overlaps(evals["prompt"], train["prompt"], cfg.decontam_ngram)
    report.add(f"no_train_eval_{cfg.decontam_ngram}gram_overlap", not found, observed=f"{len(found)} eval prompts",
               examples=[f"{o['eval']!r} ~ {o['train']!r} share {o['ngram']!r}" for o in found], column="prompt")
    for split, frame, want in (("train", train, cfg.n_train), ("eval", evals, cfg.n_eval)):
        counts = dict(frame.group_by("kind").len().iter_rows())
        got = {k: counts.get(k, 0) for k in FAMILIES}
        report.add(f"{split}_counts_match_config", got == {k: want.get(k, 0) for k in FAMILIES}, observed=got,
                   column="kind")
    return report
