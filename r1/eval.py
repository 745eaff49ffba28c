"""`eval`: score one model on the held-out tasks, the R1 way.

k samples per item at T=0.6, top-p 0.95 with the R1-Zero template. Per item: pass@1 = mean correctness over the k
samples, pass@k = any sample correct, cons@k = the majority-voted answer is correct. Per sample: response length in
tokens, format (the `format` reward is 1) and reflection (`r1.schema.reflects`). Each metric overall (items weigh
equally) and per family.

A sample is correct when its `accuracy` reward is full (>= 1; partial credit for code that runs but fails tests is
not correct; None counts as not correct). The vote runs over what a user could compare without the answer key:
the normalised extracted answer for math and countdown, and for code the normalised program (its AST, so layout and
comments do not split votes). Samples with no extractable answer do not vote; ties go to the earliest sample; an item
where nobody votes is wrong. Voting on code *text* undercounts programs that differ but behave alike; voting on the
verdicts would peek at the tests, which a majority vote cannot do.

    python -m r1.eval --model base [--profile ci]     # one model (default: every model in eval.models)

Writes reports/eval/<model>.json (metrics, generation settings, params, input hashes: the same bytes from two runs
with the same seed) and <model>.samples.parquet; the run's timings (wall time, generation seconds, tokens/s, scoring
seconds) go to the <model>.run.json sidecar, which DVC ignores and r1.report does not read.
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable, Mapping

import polars as pl

from r1 import paths
from r1.artifacts import atomic_file, hash_path, run_info, run_sidecar_of, run_stage, write_json
from r1.config import MODEL_STAGES, EvalConfig, GenerationConfig, Params, to_dict
from r1.generate import generate, load_model_and_tokenizer
from r1.schema import r1_zero_prompt, reflects

METRICS = ("pass@1", "cons@k", "pass@k", "mean_response_tokens", "format_rate", "reflection_rate")
EVAL_TASKS = paths.TASKS / "eval.parquet"
# Generation stats that depend on the machine and its load: the run sidecar's, not the eval json's.
TIMING = ("seconds", "tokens_per_s", "scoring_seconds")


def load_items(path=EVAL_TASKS, max_per_family: int | None = None) -> pl.DataFrame:
    """The held-out items, the first `max_per_family` of each family (file order, so the cap is deterministic)."""
    items = pl.read_parquet(path)
    if items.is_empty():
        raise ValueError(f"{path}: no eval items")
    if max_per_family is not None:
        items = items.filter(pl.int_range(pl.len()).over("kind") < max_per_family)
    return items


def evaluate(model, items: pl.DataFrame, cfg: EvalConfig, generation: GenerationConfig | None = None, seed: int = 0,
             rewards: Mapping[str, Callable] | None = None,
             extract_answer: Callable[[str], str | None] | None = None) -> tuple[dict, pl.DataFrame, dict]:
    """Sample and score. `model`: a saved model dir or a (model, tokenizer) pair. `rewards` needs "accuracy" and
    "format" (default: r1.rewards.REWARDS). Returns (metrics, samples table, generation stats)."""
    if rewards is None or extract_answer is None:
        from r1 import rewards as rewards_mod

        rewards = rewards if rewards is not None else rewards_mod.REWARDS
        extract_answer = extract_answer or rewards_mod.extract_answer
    generation = generation or GenerationConfig(backend="hf", device="auto")
    prompts = [r1_zero_prompt(p) for p in items["prompt"].to_list()]
    if generation.backend == "hf" and isinstance(model, (str, Path)):
        model = load_model_and_tokenizer(model, generation.device)  # outside the timed generation
    start = time.perf_counter()
    completions, tokens = generate(model, prompts, n=cfg.k, temperature=cfg.temperature, top_p=cfg.top_p,
                                   max_new_tokens=cfg.max_new_tokens, batch_size=cfg.batch_size,
                                   backend=generation.backend, device=generation.device, seed=seed,
                                   threads=generation.threads,
                                   return_num_tokens=True, desc="eval")
    gen_seconds = time.perf_counter() - start
    start = time.perf_counter()
    samples = score(items, prompts, completions, tokens, rewards, extract_answer)
    n_tokens = int(samples["tokens"].sum())
    stats = {"tokens": n_tokens, "seconds": round(gen_seconds, 2), "tokens_per_s": round(n_tokens / gen_seconds, 1),
             "scoring_seconds": round(time.perf_counter() - start, 2), "backend": generation.backend,
             "threads": generation.threads}
    print(f"eval: {len(samples)} samples, {n_tokens} tokens in {gen_seconds:.1f}s "
          f"({stats['tokens_per_s']:.0f} tok/s), scored in {stats['scoring_seconds']}s", file=sys.stderr)
    return summarize(samples), samples, stats


def score(items: pl.DataFrame, prompts: list[str], completions: list[list[str]], tokens: list[list[int]],
          rewards: Mapping[str, Callable], extract_answer: Callable) -> pl.DataFrame:
    """One row per (item, sample). Each reward is called once over all completions (code runs in parallel there)."""
    k = len(completions[0]) if completions else 0
    rep = items.select(pl.all().gather([i for i in range(len(items)) for _ in range(k)]))
    flat = [c for group in completions for c in group]
    columns = {c: rep[c].to_list() for c in rep.columns if c != "prompt"}
    flat_prompts = [p for p in prompts for _ in range(k)]
    accuracy = rewards["accuracy"](flat, prompts=flat_prompts, **columns)
    fmt = rewards["format"](flat, prompts=flat_prompts, **columns)
    kinds = columns["kind"]
    return pl.DataFrame({
        "id": columns["id"],
        "kind": kinds,
        "sample": [s for _ in completions for s in range(k)],
        "completion": flat,
        "reward": [None if r is None else float(r) for r in accuracy],
        "correct": [r is not None and r >= 1.0 for r in accuracy],
        "format_ok": [r is not None and r >= 1.0 for r in fmt],
        "reflects": [reflects(c) for c in flat],
        "tokens": [t for group in tokens for t in group],
        "vote": [vote_key(kind, extract_answer(c)) for kind, c in zip(kinds, flat)],
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
    out["by_family"] = {kind: _metrics(samples.filter(pl.col("kind") == kind))
                        for kind in sorted(samples["kind"].unique().to_list())}
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


def main(cfg: Params, model: str | None = None) -> None:
    items = load_items(EVAL_TASKS, cfg.eval.max_items_per_family)
    for name in [model] if model else cfg.eval.models:
        evaluate_model(cfg, name, items)


def evaluate_model(cfg: Params, name: str, items: pl.DataFrame) -> dict:
    model_dir = paths.model_dir(name)
    print(f"eval {name}: {len(items)} items x k={cfg.eval.k} from {model_dir}", file=sys.stderr)
    start = time.perf_counter()
    metrics, samples, stats = evaluate(model_dir, items, cfg.eval, cfg.generation, cfg.seed)
    result = {
        "model": name, "k": cfg.eval.k, "n_items": len(items),
        "items_per_family": dict(Counter(items["kind"].to_list())),
        "metrics": metrics, "generation": {k: v for k, v in stats.items() if k not in TIMING},
        "params": {"eval": to_dict(cfg.eval), "generation": to_dict(cfg.generation), "seed": cfg.seed},
        "inputs": {str(model_dir): hash_path(model_dir), str(EVAL_TASKS): hash_path(EVAL_TASKS)},
    }
    with atomic_file(paths.EVAL / f"{name}.samples.parquet") as tmp:
        samples.write_parquet(tmp)
    out = paths.EVAL / f"{name}.json"
    write_json(run_sidecar_of(out), run_info(time.perf_counter() - start,
                                             {"generation": {k: stats[k] for k in TIMING if k in stats}}))
    write_json(out, result)  # last: the json marks a complete eval
    print(f"eval {name}: pass@1 {metrics['pass@1']:.3f}  cons@{cfg.eval.k} {metrics['cons@k']:.3f}  "
          f"pass@{cfg.eval.k} {metrics['pass@k']:.3f}  format {metrics['format_rate']:.2f}", file=sys.stderr)
    return result


if __name__ == "__main__":
    # run_stage parses only --profile: parse ours here (full --help) and hand it --profile.
    parser = argparse.ArgumentParser(prog="python -m r1.eval")
    parser.add_argument("--model", choices=MODEL_STAGES, default=None,
                        help="model artifact to evaluate (default: every model in eval.models)")
    parser.add_argument("--profile", default=None, help="overlay configs/<profile>.yaml (default: params.yaml's)")
    args = parser.parse_args()
    run_stage("eval", functools.partial(main, model=args.model), ["--profile", args.profile] if args.profile else [])
