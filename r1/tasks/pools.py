"""Verifiable task pools: a train split and a decontaminated held-out eval split, and their quality suite.

Families (r1.tasks.families): `math` (word problems, numeric `answer`), `countdown` (`numbers` + `target`; `answer`
is one solving expression), `code` (`tests`, `entry_point`, `reference`; `answer` is the reference source). Every
generated record has a worked `solution` (the text inside <think>). The code eval split starts with the article's
prompt (id `code-eval-article`). Deterministic from the seed: each (family, split) has its own random stream. Eval
items are drawn until they share no word n-gram with any train prompt (r1.tasks.decontam).

Imported records (`tasks.sources`, r1.tasks.imports) come first: their train rows join train (generated prompts then
avoid theirs), and their eval rows must share no n-gram with any train prompt; those that do are dropped and counted
(a file's rows cannot be redrawn). A prompt already taken by an earlier source is dropped and counted too.
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
from r1.tasks import FAMILIES, decontam, families, imports
from r1.tasks.schema import SYNTHETIC, TASK_SCHEMA

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


def generate(cfg: TasksConfig, seed: int, sources: list[imports.Imported] = ()) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, eval) frames with TASK_SCHEMA columns: the imported `sources` (r1.tasks.imports.load_all; their
    dropped rows are recorded in them) and the generated families."""
    seen: set[str] = set()  # every accepted prompt: no exact duplicates anywhere
    train, evals = [], []
    for src in sources:
        train += _first_use(src, src.train, seen)
    for kind in FAMILIES:
        start, rng = time.time(), _rng(seed, kind, "train")
        recs, draws = decontam.draw(_stream(kind, rng, cfg), cfg.n_train.get(kind, 0), seen, label=f"{kind} train")
        train += _with_ids(recs, kind, "train")
        log(f"{kind} train: {len(recs)} items from {draws} draws in {time.time() - start:.2f}s")
    index = decontam.NgramIndex(cfg.decontam_ngram, (r["prompt"] for r in train))
    for src in sources:
        clean = []
        for rec in _first_use(src, src.eval, seen):
            hit = index.shared(rec["prompt"])
            if hit:
                src.drop(imports.CONTAMINATED, f"{rec['id']}: shares {' '.join(hit[0])!r} with train {hit[1]!r}")
            else:
                clean.append(rec)
        src.eval = clean
        evals += clean
    for kind in FAMILIES:
        start, rng = time.time(), _rng(seed, kind, "eval")
        first = [families.record(kind="code", **families.code.article(rng))] if kind == "code" else []
        recs, draws = decontam.draw(_stream(kind, rng, cfg, first), cfg.n_eval.get(kind, 0), seen, index,
                                    label=f"{kind} eval")
        evals += _with_ids(recs, kind, "eval")
        log(f"{kind} eval: {len(recs)} items from {draws} draws ({len(recs) / max(draws, 1):.0%} clean) "
            f"in {time.time() - start:.2f}s")
    return _frame(train), _frame(evals)


def _first_use(src: imports.Imported, recs: list[dict], seen: set[str]) -> list[dict]:
    """The records whose prompt is not in `seen` (the others are dropped and counted); adds theirs to `seen`."""
    kept = []
    for rec in recs:
        if rec["prompt"] in seen:
            src.drop(imports.DUPLICATE_PROMPT, f"{rec['id']}: its prompt is taken (by an earlier source or, for an "
                                               f"eval row, a generated train task)")
        else:
            seen.add(rec["prompt"])
            kept.append(rec)
    recs[:] = kept
    return kept


def _stream(kind: str, rng: random.Random, cfg: TasksConfig, first: list[dict] = ()):
    """A callable giving the `first` records, then fresh ones forever."""
    return itertools.chain(first, iter(lambda: families.generate(kind, rng, cfg), None)).__next__


def _with_ids(recs: list[dict], kind: str, split: str) -> list[dict]:
    for i, rec in enumerate(recs):
        article = rec["prompt"] == families.code.ARTICLE_PROMPT
        rec.update(id=f"{kind}-{split}-article" if article else f"{kind}-{split}-{i:05d}", split=split,
                   origin=SYNTHETIC)
    return recs


def _frame(recs: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(recs, schema=TASK_SCHEMA)


def expectations() -> list:
    """The tasks suite (GX expectation objects). Imported rows (`origin` not "synthetic") answer to the same checks
    but three that only a generator can promise: a prompt within MAX_PROMPT_CHARS, math solutions as `a op b = c`
    lines (GSM8K's are prose) and a code reference (optional in HumanEval/MBPP files)."""
    gxe = quality.gx().expectations
    from great_expectations.expectations.row_conditions import Column

    kind = Column("kind")
    synthetic = Column("origin") == SYNTHETIC

    def present(column: str, condition):
        return gxe.ExpectColumnValuesToNotBeNull(column=column, row_condition=condition)

    return [
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("id", "kind", "split", "prompt", "origin")),
        gxe.ExpectColumnValuesToBeUnique(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=list(FAMILIES)),
        gxe.ExpectColumnValuesToBeInSet(column="split", value_set=["train", "eval"]),
        gxe.ExpectColumnValuesToMatchRegex(column="prompt", regex=r"\S"),  # not empty, not blank
        gxe.ExpectColumnValueLengthsToBeBetween(column="prompt", min_value=1, max_value=MAX_PROMPT_CHARS,
                                                row_condition=synthetic),
        gxe.ExpectColumnValuesToBeUnique(column="prompt"),
        present("solution", kind != "code"),
        present("solution", synthetic),
        gxe.ExpectColumnValuesToMatchRegex(column="solution", regex=r"\S"),
        gxe.ExpectColumnValuesToMatchRegex(column="solution", regex=STEPS_RE, row_condition=kind == "countdown"),
        gxe.ExpectColumnValuesToMatchRegex(column="solution", regex=STEPS_RE,
                                           row_condition=(kind == "math") & synthetic),
        present("answer", kind == "math"),
        gxe.ExpectColumnValuesToMatchRegex(column="answer", regex=r"^-?\d+(?:\.\d+)?$", row_condition=kind == "math"),
        present("numbers", kind == "countdown"),
        present("target", kind == "countdown"),
        present("tests", kind == "code"),
        present("entry_point", kind == "code"),
        present("reference", (kind == "code") & synthetic),
        gxe.ExpectColumnValuesToMatchRegex(column="entry_point", regex=r"^[A-Za-z_]\w*$",
                                           row_condition=kind == "code"),
    ]


def validate(train: pl.DataFrame, evals: pl.DataFrame, cfg: TasksConfig,
             sources: list[imports.Imported] = ()) -> quality.QualityReport:
    """The GX suite plus computed checks: no train/eval n-gram overlap, generated family counts as configured, and
    per imported source its rows by split and the rows it dropped, by reason (a source left with no rows fails)."""
    report = quality.check(pl.concat([train, evals]), "tasks", expectations())
    found = decontam.overlaps(evals["prompt"], train["prompt"], cfg.decontam_ngram)
    report.add(f"no_train_eval_{cfg.decontam_ngram}gram_overlap", not found, observed=f"{len(found)} eval prompts",
               examples=[f"{o['eval']!r} ~ {o['train']!r} share {o['ngram']!r}" for o in found], column="prompt")
    for split, frame, want in (("train", train, cfg.n_train), ("eval", evals, cfg.n_eval)):
        counts = dict(frame.filter(pl.col("origin") == SYNTHETIC).group_by("kind").len().iter_rows())
        got = {k: counts.get(k, 0) for k in FAMILIES}
        report.add(f"{split}_counts_match_config", got == {k: want.get(k, 0) for k in FAMILIES}, observed=got,
                   column="kind")
    for src in sources:
        report.add(f"imported_{src.label}", bool(src.train or src.eval), observed=src.summary(),
                   examples=[f"{reason}: {where}" for reason, rows in sorted(src.dropped.items()) for where in rows],
                   column="origin")
    return report
