"""Scoring a model on held-out tasks, the R1 way.

k samples per item with the R1-Zero template (benchmark items, r1.eval.benchmarks, carry a `style`: the template or a
plain completion prompt). Per item: pass@1 = mean correctness over the k samples, pass@k = any
sample correct, cons@k = the majority-voted answer is correct. Per sample: response length in tokens, format (the
`format` reward is 1) and reflection (r1.tasks.schema.reflects). Each metric overall (items weigh equally) and per
family (the `family` column where items have one, e.g. "humaneval", else their kind).

A sample is correct when its `accuracy` reward is full (>= 1; partial credit for code that runs but fails tests is
not correct; None counts as not correct). The vote runs over what a user could compare without the answer key:
the normalised extracted answer for math and countdown, and for code the normalised program the verifier runs (the
last fenced block, r1.verify.answer.code_of; its AST, so layout and comments do not split votes). Samples with no extractable answer do not vote; ties go to the earliest sample; an item
where nobody votes is wrong. Voting on code *text* undercounts programs that differ but behave alike; voting on the
verdicts would peek at the tests, which a majority vote cannot do.
"""

from __future__ import annotations

import ast
import re
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Mapping

import polars as pl

from r1.build.log import logger
from r1.config import EvalConfig, GenerationConfig
from r1.model.generate import generate
from r1.model.modeling import load_model_and_tokenizer
from r1.tasks.schema import r1_zero_prompt, reflects
from r1.verify.answer import code_of

METRICS = ("pass@1", "cons@k", "pass@k", "mean_response_tokens", "format_rate", "reflection_rate")
# Generation stats that depend on the machine and its load: the run sidecar's, not the eval json's.
TIMING = ("seconds", "tokens_per_s", "scoring_seconds")

log = logger("eval")


def load_items(path: Path | str, max_per_family: int | None = None) -> pl.DataFrame:
    """The held-out items, the first `max_per_family` of each family (file order, so the cap is deterministic)."""
    items = pl.read_parquet(path)
    if items.is_empty():
        raise ValueError(f"{path}: no eval items")
    if max_per_family is not None:
        items = items.filter(pl.int_range(pl.len()).over("kind") < max_per_family)
    return items


def with_benchmarks(items: pl.DataFrame, names: list[str], style: str, limit: int | None = None) -> pl.DataFrame:
    """The held-out items plus the named benchmarks' (r1.eval.benchmarks), each benchmark row tagged with the prompt
    `style`; held-out rows get `family` = their kind and no style."""
    if not names:
        return items
    from r1.eval import benchmarks

    bench = benchmarks.items(names, limit).with_columns(pl.lit(style).alias("style"))
    if items.is_empty():
        return bench
    own = items.with_columns(pl.col("kind").alias("family"), pl.lit(None, pl.Utf8).alias("style"))
    return pl.concat([own, bench], how="diagonal_relaxed")


def render_prompts(items: pl.DataFrame) -> list[str]:
    """The text each item's samples continue: the R1-Zero template, or its benchmark style."""
    styles = items["style"].to_list() if "style" in items.columns else [None] * len(items)
    if not any(styles):
        return [r1_zero_prompt(p) for p in items["prompt"].to_list()]
    from r1.eval.benchmarks import render

    return [r1_zero_prompt(p) if s is None else render(p, s) for p, s in zip(items["prompt"].to_list(), styles)]


def evaluate(model, items: pl.DataFrame, cfg: EvalConfig, generation: GenerationConfig | None = None, seed: int = 0,
             rewards: Mapping[str, Callable] | None = None,
             extract_answer: Callable[[str], str | None] | None = None) -> tuple[dict, pl.DataFrame, dict]:
    """Sample and score. `model`: a saved model dir or a (model, tokenizer) pair. `rewards` needs "accuracy" and
    "format" (default: r1.verify.rewards.REWARDS). Returns (metrics, samples table, generation stats)."""
    if rewards is None or extract_answer is None:
        from r1.verify import rewards as rewards_mod

        rewards = rewards if rewards is not None else rewards_mod.REWARDS
        extract_answer = extract_answer or rewards_mod.extract_answer
    generation = generation or GenerationConfig(backend="hf", device="auto")
    prompts = render_prompts(items)
    if generation.backend == "hf" and isinstance(model, (str, Path)):
        model = load_model_and_tokenizer(model, device=generation.device)  # outside the timed generation
    start = time.perf_counter()
    completions, tokens = generate(model, prompts, n=cfg.k, temperature=cfg.temperature, top_p=cfg.top_p,
                                   max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
                                   backend=generation.backend, device=generation.device, seed=seed,
                                   threads=generation.threads,
                                   return_num_tokens=True, desc="eval")
    gen_seconds = time.perf_counter() - start
    start = time.perf_counter()
    samples = score_samples(items, prompts, completions, tokens, rewards, extract_answer)
    n_tokens = int(samples["tokens"].sum())
    stats = {"tokens": n_tokens, "seconds": round(gen_seconds, 2), "tokens_per_s": round(n_tokens / gen_seconds, 1),
             "scoring_seconds": round(time.perf_counter() - start, 2), "backend": generation.backend,
             "threads": generation.threads}
    log(f"{len(samples)} samples, {n_tokens} tokens in {gen_seconds:.1f}s ({stats['tokens_per_s']:.0f} tok/s), "
        f"scored in {stats['scoring_seconds']}s")
    return summarize(samples), samples, stats


def score_samples(items: pl.DataFrame, prompts: list[str], completions: list[list[str]], tokens: list[list[int]],
          rewards: Mapping[str, Callable], extract_answer: Callable) -> pl.DataFrame:
    """One row per (item, sample). Each reward is called once over all completions (code runs in parallel there)."""
    k = len(completions[0]) if completions else 0
    rep = items.select(pl.all().gather([i for i in range(len(items)) for _ in range(k)]))
    flat = [c for group in completions for c in group]
    columns = {c: rep[c].to_list() for c in rep.columns if c not in ("prompt", "style", "family")}
    flat_prompts = [p for p in prompts for _ in range(k)]
    raw = rep["prompt"].to_list()
    styles = rep["style"].to_list() if "style" in rep.columns else [None] * len(flat)
    scored = flat
    if any(s == "plain" for s in styles):  # a continuation is verified as the prompt it continues plus itself
        from r1.eval.benchmarks import for_scoring

        scored = [for_scoring(p, c, s) for p, c, s in zip(raw, flat, styles)]
    accuracy = rewards["accuracy"](scored, prompts=flat_prompts, prompt=raw, **columns)
    fmt = rewards["format"](flat, prompts=flat_prompts, **columns)
    kinds = columns["kind"]
    families = rep["family"].to_list() if "family" in rep.columns else kinds
    votes = [vote_key(kind, code_of(t)[0] if kind == "code" else extract_answer(c))
             for kind, c, t in zip(kinds, flat, scored)]  # code: the program the verifier runs (code_of)
    return pl.DataFrame({
        "id": columns["id"],
        "kind": kinds,
        "family": families,
        "sample": [s for _ in completions for s in range(k)],
        "completion": flat,
        "reward": [None if r is None else float(r) for r in accuracy],
        "correct": [r is not None and r >= 1.0 for r in accuracy],
        "format_ok": [r is not None and r >= 1.0 for r in fmt],
        "reflects": [reflects(c) for c in flat],
        "tokens": [t for group in tokens for t in group],
        "vote": votes,
    }, schema_overrides={"reward": pl.Float64, "vote": pl.Utf8})


def vote_key(kind: str, answer: str | None) -> str | None:
    """What majority voting compares: a normalised answer, or for code the program's AST."""
    if answer is None or not answer.strip():
        return None
    if kind == "code":
        try:
            return ast.dump(ast.parse(answer))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            return " ".join(answer.split())
    text = answer.strip()
    boxed = re.fullmatch(r"\\boxed\{(.*)\}", text)
    text = re.sub(r"\s+|\$", "", boxed.group(1) if boxed else text).rstrip(".").lower()
    try:
        value = float(text.replace(",", ""))
        return repr(int(value)) if value.is_integer() else repr(value)
    except ValueError:
        return text


def summarize(samples: pl.DataFrame) -> dict:
    """The metrics overall and `by_family`."""
    out = _metrics(samples)
    col = "family" if "family" in samples.columns else "kind"
    out["by_family"] = {fam: _metrics(samples.filter(pl.col(col) == fam))
                        for fam in sorted(samples[col].unique().to_list())}
    return out


def _metrics(samples: pl.DataFrame) -> dict:
    if samples.is_empty():
        return {m: float("nan") for m in METRICS}
    per_item = (samples.sort("id", "sample", maintain_order=True)
                .group_by("id", maintain_order=True)
                .agg(pl.col("correct").mean().alias("pass1"), pl.col("correct").any().alias("passk"),
                     pl.col("vote"), pl.col("correct").alias("corrects")))
    cons = [majority_correct(v, c) for v, c in zip(per_item["vote"].to_list(), per_item["corrects"].to_list())]
    return {
        "pass@1": float(per_item["pass1"].mean()),
        "cons@k": sum(cons) / len(cons),
        "pass@k": float(per_item["passk"].mean()),
        "mean_response_tokens": float(samples["tokens"].mean()),
        "format_rate": float(samples["format_ok"].mean()),
        "reflection_rate": float(samples["reflects"].mean()),
    }


def majority_correct(votes: list[str | None], correct: list[bool]) -> bool:
    """Is the most common answer correct? Ties: the earliest sample's answer; no answers at all: wrong."""
    counts = Counter(v for v in votes if v is not None)
    if not counts:
        return False
    top = max(counts.values())
    winner = next(v for v in votes if v is not None and counts[v] == top)
    return correct[votes.index(winner)]
