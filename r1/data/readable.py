"""The readable pattern of R1's cold-start data, and the cold-start set written in it.

A readable completion is `|special_token| <reasoning> |special_token| <answer> a </answer>`: the reasoning one step
per line, the first led by a word ("first ..."), later lines starting as the base corpus writes them (an arithmetic
line with its first number, a reflection with "wait, ..."); the summary is the answer alone, written once.
r1.data.filters.readable_ok checks the pattern. What keeps it copyable for a small model: the answer once (a repeated
answer gets garbled in the copies), nothing between a result and its copy on the next line (no "then"), no lead words
before the answer (they leak into code plans).

The cold-start set (`build`): R1-Zero samples on train prompts that are correct (`accuracy`), well formed (`format`)
and whose every arithmetic step holds (filters.steps_hold), rewritten readable, kept if still language-consistent,
at most `max_per_prompt` distinct ones per prompt; topped up to `target_size` with R1's other source, prompted long
CoT (`prompted_cot`, `topup: solutions`), when R1-Zero yields too few. `validate` re-verifies every example and runs a
Great Expectations suite.

Rows: the task record (TASK_COLUMNS) plus `completion` (readable) and `source` (r1_zero | solution). Every model is
prompted with the R1-Zero template (`sft_prompt`), in training as in eval.
"""

from __future__ import annotations

import random
import re
import time

import polars as pl

from r1.build import quality
from r1.build.log import logger
from r1.config import Params
from r1.data import corpus
from r1.data.filters import readable_ok, steps_hold
from r1.tasks.schema import r1_zero_prompt
from r1.verify.answer import SPECIAL, extract_answer, format_ok, reasoning_of

TASK_COLUMNS = ("id", "kind", "prompt", "answer", "numbers", "target", "tests", "entry_point", "reference")
SOURCES = ("r1_zero", "solution")
TAG_RE = re.compile(r"</?(?:think|answer)>")
STEP_SPLIT_RE = re.compile(r"\n+|(?<=[.;])\s+(?=\S)")
WORD_START_RE = re.compile(r"^[A-Za-z]")

log = logger("cold_start")


# ---------------------------------------------------------------------------------------------------------------------
# The readable pattern.


def steps(reasoning: str) -> list[str]:
    """The reasoning as steps: lines (or sentences), tags and blank runs removed, repeats collapsed."""
    out: list[str] = []
    for part in STEP_SPLIT_RE.split(TAG_RE.sub(" ", reasoning or "")):
        step = " ".join(part.split()).rstrip(".;")
        if step and (not out or out[-1] != step):
            out.append(step)
    return out


def readable_reasoning(lines: list[str]) -> str:
    """One step per line; the first led by "first" (a step that already starts with words, like "wait, check: ...",
    keeps them), so the CoT opens in the target language (R1's readability). Words are lower-case. Later lines start
    as the base corpus writes them: an arithmetic line with its first number, so a result sits right before its copy
    on the next line; a word-led line ("wait, 4 + 5 = 9") with no leading space, since " wait" is three tokens the
    base never saw where "wait" after a newline is one it knows."""
    out = []
    for i, step in enumerate(lines):
        if WORD_START_RE.match(step):
            out.append(step[0].lower() + step[1:])
        else:
            out.append("first " + step if i == 0 else step)
    return "\n".join(out)


def readable(reasoning_lines: list[str], answer: str, kind: str) -> str:
    """`|special_token| reasoning |special_token| summary`, the summary holding `<answer> answer </answer>`."""
    answer = (answer or "").strip()
    body = readable_reasoning(reasoning_lines)
    return f"{SPECIAL} {body} {SPECIAL} <answer> {answer} </answer>"


def rewrite(completion: str, kind: str) -> str | None:
    """An R1-Zero completion (`<think>..</think> <answer>..</answer>`) in the readable pattern; None if it has no
    reasoning or no answer to carry over."""
    if not format_ok(completion):
        return None
    answer = extract_answer(completion)
    lines = steps(reasoning_of(completion))
    if not answer or not lines:
        return None
    return readable(lines, answer, kind)


def from_solution(solution: str, answer: str, kind: str) -> str | None:
    """A task's worked solution + its answer in the readable pattern (R1's prompted long-CoT source)."""
    lines = steps(solution)
    return readable(lines, answer, kind) if lines and answer else None


def prompted_cot(rec: dict, rng: random.Random) -> str | None:
    """R1's prompted long CoT ("detailed answers with reflection and verification") for a task, readable. Countdown
    is written as the base corpus's worked examples are (r1.data.corpus): each attempt compared with the target, and a
    share that miss first and try again (without the comparison a miss cannot be seen). Math and code: the worked
    solution."""
    if rec["kind"] == "countdown":
        shown = "reflective" if rng.random() < corpus.WORKED_RETRY_SHARE else "reasoned"
        return rewrite(corpus.trace(rec, shown, rng), "countdown")
    return from_solution(rec["solution"], rec["answer"], rec["kind"])


# ---------------------------------------------------------------------------------------------------------------------
# Sampling and selection.


def sft_prompt(prompt: str) -> str:
    """The prompt every model sees (eval prompts with the R1-Zero template too)."""
    return r1_zero_prompt(prompt)


def pick_prompts(train: pl.DataFrame, n: int, seed: int) -> pl.DataFrame:
    n = min(n, len(train))
    return train.sample(n=n, shuffle=True, seed=seed) if n else train.head(0)


def explode_samples(tasks: pl.DataFrame, completions: list[list[str]]) -> pl.DataFrame:
    """One row per (task, sample)."""
    return tasks.with_columns(pl.Series("completion", completions, dtype=pl.List(pl.Utf8))).explode("completion")


def score_samples(df: pl.DataFrame, names: tuple[str, ...] = ("accuracy", "format", "language_consistency")
                  ) -> pl.DataFrame:
    """Add one column per registry reward named in `names` (value or null), scoring each row's `completion`."""
    from r1.verify import rewards

    if df.is_empty():
        return df.with_columns([pl.lit(None, dtype=pl.Float64).alias(n) for n in names])
    columns = {c: df[c].to_list() for c in TASK_COLUMNS if c in df.columns}
    completions = df["completion"].to_list()
    return df.with_columns([pl.Series(n, rewards.get(n)(completions, **columns), dtype=pl.Float64) for n in names])


def select(scored: pl.DataFrame, min_language: float, max_per_prompt: int) -> pl.DataFrame:
    """Correct, well-formed samples, rewritten readable; kept only if still language-consistent; distinct per prompt
    up to `max_per_prompt`."""
    ok = scored.filter((pl.col("accuracy") == 1.0) & (pl.col("format") == 1.0))
    rewritten = [rewrite(c, k) for c, k in zip(ok["completion"], ok["kind"])]
    ok = ok.with_columns(pl.Series("completion", rewritten, dtype=pl.Utf8)).filter(pl.col("completion").is_not_null())
    ok = ok.unique(subset=["id", "completion"], keep="first", maintain_order=True)
    ok = ok.filter(pl.Series([steps_hold(t) for t in ok["completion"]], dtype=pl.Boolean))
    ok = ok.with_columns(pl.int_range(pl.len()).over("id").alias("_nth")).filter(pl.col("_nth") < max_per_prompt)
    ok = ok.drop("_nth", "accuracy", "format", "language_consistency")
    ok = score_samples(ok, ("accuracy", "language_consistency"))
    return ok.filter((pl.col("accuracy") == 1.0) & (pl.col("language_consistency") >= min_language)) \
        .drop("accuracy", "language_consistency").with_columns(pl.lit("r1_zero").alias("source"))


def topup(train: pl.DataFrame, n: int, seed: int, min_language: float) -> pl.DataFrame:
    """Up to `n` examples from the tasks' worked solutions, rewritten readable and verified."""
    if n <= 0:
        return train.head(0).select(TASK_COLUMNS).with_columns(pl.lit(None, dtype=pl.Utf8).alias("completion"),
                                                              pl.lit("solution").alias("source"))
    pool = train.sample(fraction=1.0, shuffle=True, seed=seed + 1).head(min(len(train), 2 * n))
    rng = random.Random(seed + 2)
    texts = [prompted_cot(rec, rng) for rec in pool.iter_rows(named=True)]
    pool = pool.select(TASK_COLUMNS).with_columns(pl.Series("completion", texts, dtype=pl.Utf8)) \
        .filter(pl.col("completion").is_not_null())
    pool = score_samples(pool, ("accuracy", "language_consistency"))
    pool = pool.filter((pl.col("accuracy") == 1.0) & (pl.col("language_consistency") >= min_language))
    return pool.drop("accuracy", "language_consistency").head(n).with_columns(pl.lit("solution").alias("source"))


# ---------------------------------------------------------------------------------------------------------------------
# Quality gate.


def expectations(min_size: int, max_size: int) -> list:
    import great_expectations.expectations as gxe

    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=min_size, max_value=max_size),
        gxe.ExpectColumnValuesToNotBeNull(column="id"),
        gxe.ExpectColumnValuesToBeInSet(column="kind", value_set=["math", "countdown", "code"]),
        gxe.ExpectColumnValuesToNotBeNull(column="prompt"),
        gxe.ExpectColumnValuesToNotBeNull(column="completion"),
        gxe.ExpectColumnValuesToMatchRegex(column="completion", regex=r"^\|special_token\|[\s\S]+\|special_token\|"),
        gxe.ExpectColumnValuesToNotMatchRegex(column="completion", regex=r"<think>|</think>"),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["prompt", "completion"]),
        gxe.ExpectColumnValuesToBeInSet(column="source", value_set=list(SOURCES)),
    ]


def validate(df: pl.DataFrame, min_size: int, max_size: int, min_language: float) -> quality.QualityReport:
    """The GX suite plus computed checks: every example re-verified correct, readable and language-consistent."""
    report = quality.check(df, "cold_start", expectations(min_size, max_size))
    scored = score_samples(df, ("accuracy", "language_consistency"))
    bad = scored.filter((pl.col("accuracy") != 1.0) | pl.col("accuracy").is_null())
    report.add("every_example_verified_correct", bad.is_empty(), observed=f"{len(bad)} not correct",
               examples=bad["id"].to_list(), column="completion")
    mixed = scored.filter(pl.col("language_consistency") < min_language)
    report.add("every_cot_language_consistent", mixed.is_empty(), observed=f"{len(mixed)} below {min_language}",
               examples=mixed["id"].to_list(), column="completion")
    wrong = [i for i, t in zip(df["id"], df["completion"]) if not steps_hold(t)]
    report.add("every_step_holds", not wrong, observed=f"{len(wrong)} with a false step", examples=wrong,
               column="completion")
    unreadable = [i for i, t in zip(df["id"], df["completion"]) if not readable_ok(t)]
    report.add("every_example_readable", not unreadable, observed=f"{len(unreadable)} malformed",
               examples=unreadable, column="completion")
    return report


# ---------------------------------------------------------------------------------------------------------------------
# The cold-start set.


def build(train: pl.DataFrame, model, cfg: Params) -> tuple[pl.DataFrame, dict]:
    """The cold-start set from R1-Zero samples (+ solutions top-up) and per-step counts. `model`: a directory or a
    (model, tokenizer) pair for r1.model.generate."""
    from r1.model.generate import generate

    cs, gen = cfg.cold_start, cfg.generation
    started = time.time()
    prompts = pick_prompts(train, cs.n_prompts, cfg.seed).select(TASK_COLUMNS)
    completions = generate(model, [sft_prompt(p) for p in prompts["prompt"]], n=cs.samples_per_prompt,
                           temperature=cs.temperature, top_p=cs.top_p, max_new_tokens=cs.max_new_tokens,
                           batch_size=cs.batch_size, backend=gen.backend, seed=cfg.seed, device=gen.device,
                           desc="cold_start")
    samples = score_samples(explode_samples(prompts, completions))
    stats = {
        "prompts": len(prompts), "samples": len(samples),
        "correct": int((samples["accuracy"] == 1.0).sum()), "well_formed": int((samples["format"] == 1.0).sum()),
    }
    log(f"sampled {len(samples)} completions in {time.time() - started:.1f}s")
    chosen = select(samples, cs.min_language_consistency, cs.max_per_prompt).head(cs.target_size)
    stats["from_r1_zero"] = len(chosen)
    need = cs.target_size - len(chosen) if cs.topup == "solutions" else 0
    extra = topup(train.filter(~pl.col("id").is_in(chosen["id"].to_list())), need, cfg.seed,
                  cs.min_language_consistency)
    stats["from_solutions"] = len(extra)
    out = pl.concat([chosen, extra], how="vertical_relaxed") if len(extra) else chosen
    out = out.unique(subset=["prompt", "completion"], keep="first", maintain_order=True)
    stats["examples"] = len(out)
    return out, stats
