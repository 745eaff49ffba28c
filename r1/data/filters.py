"""Filters for generated SFT data (R1's reasoning set): mixed language, unreadable (not in the readable pattern),
wrong steps (a right answer after arithmetic that does not hold), over-long paragraphs, code blocks in answers that
should not hold code, exact and near duplicates.

Every filter is a plain function over a polars frame with at least `id`, `kind`, `prompt`, `completion`; it returns
the rows it keeps and how many it dropped, so each stage can report a per-filter count. The language score is the
verifiers' `language_consistency` reward (one definition for the RL reward and the filter).
"""

from __future__ import annotations

import re

import polars as pl

from r1.verify.answer import SPECIAL, reasoning_of, split_cold_start

# A fence, or a line that starts like Python: in a math or countdown answer, that is code where none belongs.
CODE_RE = re.compile(r"```|^[ \t]*(?:def |class |import |from \w+ import |return |print\()", re.MULTILINE)
PARAGRAPH_RE = re.compile(r"\n[ \t]*\n")
WORD_RE = re.compile(r"\w+", re.UNICODE)
# The readable pattern: a reasoning with some letters, then a summary that holds the final answer in <answer> tags;
# no R1-Zero tags anywhere.
READABLE_RE = re.compile(re.escape(SPECIAL) + r"(?:(?!<think>|</think>).)*[A-Za-z](?:(?!<think>|</think>).)*"
                         + re.escape(SPECIAL) + r"(?:(?!<think>|</think>).)*<answer>.*\S.*</answer>\s*$", re.DOTALL)


def readable_ok(text: str) -> bool:
    """In the readable pattern: exactly two markers, a reasoning in words, the answer in the summary."""
    text = (text or "").strip()
    return text.count(SPECIAL) == 2 and bool(READABLE_RE.match(text)) and split_cold_start(text) is not None


def unreadable(df: pl.DataFrame):
    """Drop completions that break the readable pattern (a right answer after a garbled reasoning teaches garbling)."""
    keep = pl.Series([readable_ok(t) for t in df["completion"]], dtype=pl.Boolean)
    return df.filter(keep), int((~keep).sum())


def language_scores(df: pl.DataFrame) -> list[float | None]:
    """The `language_consistency` reward of each row's completion (share of target-language words in the CoT)."""
    from r1.verify import rewards

    fn = rewards.get("language_consistency")
    columns = {c: df[c].to_list() for c in df.columns if c not in ("completion", "completions")}
    return list(fn(df["completion"].to_list(), **columns))


def mixed_language(df: pl.DataFrame, min_score: float, scores: list[float | None] | None = None):
    """Drop rows whose chain of thought mixes languages (score below `min_score`; an unscorable row is dropped)."""
    scores = language_scores(df) if scores is None else scores
    keep = pl.Series([s is not None and s >= min_score for s in scores], dtype=pl.Boolean)
    return df.filter(keep), int((~keep).sum())


# An arithmetic step of the reasoning: "12 + 18 = 30".
STEP_RE = re.compile(r"(?<![\w.])(-?\d+) ([-+*/]) (-?\d+) = (-?\d+)(?![\w.])")
CAUGHT_RE = re.compile(r"\bwait\b", re.IGNORECASE)


def _holds(a: str, op: str, b: str, c: str) -> bool:
    a_, b_, c_ = int(a), int(b), int(c)
    if op == "/":
        return b_ != 0 and a_ == b_ * c_
    return {"+": a_ + b_, "-": a_ - b_, "*": a_ * b_}[op] == c_


def steps_hold(text: str) -> bool:
    """Every arithmetic step of the reasoning is true, or a false one is caught by a later "wait" (a reflection)."""
    reasoning = reasoning_of(text) or ""
    for m in STEP_RE.finditer(reasoning):
        if not _holds(*m.groups()) and not CAUGHT_RE.search(reasoning, m.end()):
            return False
    return True


def wrong_steps(df: pl.DataFrame):
    """Drop rows whose reasoning holds a false step nobody caught: the verifier judged only the final answer, and a
    right answer after "11 - 12 = 1" teaches that the answer need not follow from the steps."""
    keep = pl.Series([steps_hold(t) for t in df["completion"]], dtype=pl.Boolean)
    return df.filter(keep), int((~keep).sum())


def longest_paragraph(text: str) -> int:
    """Characters in the longest paragraph (blank-line separated) of the text's reasoning."""
    return max((len(p.strip()) for p in PARAGRAPH_RE.split(reasoning_of(text) or "")), default=0)


def long_paragraphs(df: pl.DataFrame, max_chars: int):
    """Drop rows whose reasoning holds a paragraph longer than `max_chars` (a wall of text is not readable)."""
    keep = pl.Series([longest_paragraph(t) <= max_chars for t in df["completion"]], dtype=pl.Boolean)
    return df.filter(keep), int((~keep).sum())


def has_code(text: str) -> bool:
    return bool(CODE_RE.search(text or ""))


def code_expr(column: str) -> pl.Expr:
    """`has_code` as a polars expression over a column (one vectorized pass; same pattern, multi-line mode)."""
    return pl.col(column).fill_null("").str.contains("(?m)" + CODE_RE.pattern)


def code_blocks(df: pl.DataFrame):
    """Drop rows that put code in a completion whose task is not a coding task."""
    keep = pl.Series([kind == "code" or not has_code(t) for kind, t in zip(df["kind"], df["completion"])],
                     dtype=pl.Boolean)
    return df.filter(keep), int((~keep).sum())


def normalize(text: str) -> str:
    """Lowercased words joined by single spaces: what is left once spacing and case no longer count."""
    return " ".join(WORD_RE.findall((text or "").lower()))


def normalized(column: str) -> pl.Expr:
    """`normalize` as a polars expression (Rust's Unicode `\\w` and lowercasing): one vectorized pass over a column.
    It agrees with `normalize` on ordinary text (tests/unit/data/test_filters.py); the duplicate filters use it."""
    return pl.col(column).fill_null("").str.to_lowercase().str.extract_all(r"\w+").list.join(" ")


def exact_duplicates(df: pl.DataFrame):
    """Keep the first row of each (prompt, completion) pair, equal up to case and spacing."""
    first = df.select(pl.struct(normalized("prompt").alias("p"), normalized("completion").alias("c"))
                      .is_first_distinct()).to_series()
    kept = df.filter(first)
    return kept, len(df) - len(kept)


def shingles(text: str, k: int) -> frozenset:
    words = normalize(text).split()
    if len(words) <= k:
        return frozenset([" ".join(words)])
    return frozenset(" ".join(words[i:i + k]) for i in range(len(words) - k + 1))


def jaccard(a: frozenset, b: frozenset) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def near_duplicates(df: pl.DataFrame, threshold: float, k: int):
    """Among completions of the same prompt, drop any whose word k-shingles overlap an earlier kept one's by Jaccard
    >= `threshold`. Samples of one prompt are where near copies arise; different prompts are different problems.
    Linear in rows: pairwise only within a prompt, whose samples are few (R1: a handful to 16). A vectorized version
    (polars shingle hashes, pairs from shared shingles) kept the same rows but cost more CPU at 200k rows (12.0 s vs
    10.4 s, bench/bench_merge.py shape), so this plain loop stays."""
    keep = [True] * len(df)
    groups = df.with_row_index("_row").group_by("prompt", maintain_order=True).agg(pl.col("_row"),
                                                                                   pl.col("completion"))
    for rows, texts in zip(groups["_row"], groups["completion"]):
        kept: list[frozenset] = []
        for row, text in zip(rows, texts):
            sh = shingles(text, k)
            if any(jaccard(sh, other) >= threshold for other in kept):
                keep[row] = False
            else:
                kept.append(sh)
    mask = pl.Series(keep, dtype=pl.Boolean)
    return df.filter(mask), int((~mask).sum())


def apply_all(df: pl.DataFrame, *, min_language: float, max_paragraph_chars: int, near_dup_threshold: float,
              shingle_words: int, language: list[float | None] | None = None) -> tuple[pl.DataFrame, dict]:
    """Every filter in turn; returns the kept rows and {filter: rows dropped}."""
    stats = {"input": len(df)}
    df, stats["mixed_language"] = mixed_language(df, min_language, language)
    df, stats["unreadable"] = unreadable(df)
    df, stats["wrong_steps"] = wrong_steps(df)
    df, stats["long_paragraph"] = long_paragraphs(df, max_paragraph_chars)
    df, stats["code_block"] = code_blocks(df)
    df, stats["exact_duplicate"] = exact_duplicates(df)
    df, stats["near_duplicate"] = near_duplicates(df, near_dup_threshold, shingle_words)
    stats["kept"] = len(df)
    return df, stats
