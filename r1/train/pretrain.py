"""Pretraining a base from scratch, or importing one: what the `base` and `student_base` stages run.

`source: scratch` trains a byte-level BPE tokenizer and pretrains a miniature DeepSeek-V3 on the synthetic corpus
(r1.data.corpus, train tasks only) for `max_steps`; a run stopped by its time cap resumes from its saved state. `hf_dir | gguf` imports a local
checkpoint instead. `build_base` writes the artifact's files: model + tokenizer (save_pretrained), curve.tsv (step,
loss), corpus.json; and the run sidecar throughput.tsv (step, tokens/s), which DVC ignores.
"""

from __future__ import annotations

import collections
import json
import math
import random
import time
from pathlib import Path

from r1.build import checkpoints, distributed
from r1.build.artifacts import THROUGHPUT, atomic_file, hash_path, write_throughput
from r1.build.clock import NO_CAP, Cap, CapReached
from r1.build.log import logger
from r1.config import BaseConfig, to_dict
from r1.data import corpus as corpus_mod

CURVE = "curve.tsv"
CORPUS_STATS = "corpus.json"

log = logger("pretrain")


def mix_of(cfg: BaseConfig) -> corpus_mod.Mix:
    return corpus_mod.Mix(error_rate=cfg.error_rate, reflection_rate=cfg.reflection_rate,
                          direct_rate=cfg.direct_rate, malformed_rate=cfg.malformed_rate,
                          worked_rate=cfg.worked_rate, drill_rate=cfg.drill_rate)


def batches(docs_ids: list[list[int]], batch_size: int, seq_len: int, pad_id: int, n_prompt: list[int] | None,
            rng) -> list:
    """One document per row, starting at position 0 as at inference (no packing: nothing to copy from a
    neighbouring document). Rows of similar length share a batch; padding gets no loss and no attention.
    With `n_prompt`, each document's first n_prompt[i] tokens get no loss. Returns [(input_ids, labels, mask)]."""
    import torch

    order = list(range(len(docs_ids)))
    rng.shuffle(order)
    chunk = batch_size * 32
    groups = []
    for c in range(0, len(order), chunk):
        part = sorted(order[c:c + chunk], key=lambda i: len(docs_ids[i]))
        groups += [part[b:b + batch_size] for b in range(0, len(part), batch_size)]
    rng.shuffle(groups)
    out = []
    for group in groups:
        width = min(seq_len, max(len(docs_ids[i]) for i in group))
        x = torch.full((len(group), width), pad_id, dtype=torch.long)
        y = torch.full((len(group), width), -100, dtype=torch.long)
        m = torch.zeros((len(group), width), dtype=torch.long)
        for r, i in enumerate(group):
            ids = torch.tensor(docs_ids[i][:width])
            x[r, :len(ids)] = ids
            y[r, :len(ids)] = ids
            m[r, :len(ids)] = 1
            if n_prompt is not None:
                y[r, :n_prompt[i]] = -100
        out.append((x, y, m))
    return out


def lr_at(progress: float, cfg: BaseConfig, step: int) -> float:
    """Linear warmup, then cosine to 10%; `progress` is the step's fraction of max_steps."""
    if step < cfg.warmup_steps:
        return cfg.learning_rate * (step + 1) / cfg.warmup_steps
    return cfg.learning_rate * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


STATE = "pretrain.pt"


def pretrain(model, data: list, cfg: BaseConfig, seed: int, log_every: int = 25, cap: Cap = NO_CAP,
             work: Path | None = None) -> list:
    """Train on `data` batches [(input_ids, labels, mask)] (cycled) for max_steps; returns [(step, loss, tok/s)].

    With `work`, a run stopped by its time cap saves its state there (weights, optimizer, step, curve so far) and
    raises CapReached; the next call resumes from it and ends with the same weights and curve as an uninterrupted
    run (the batches, the schedule and the arithmetic depend on the step alone)."""
    import torch

    opt = torch.optim.AdamW(model.parameters(), lr=cfg.learning_rate, betas=(0.9, 0.95), weight_decay=0.01)
    curve, losses, window_tok, first = [], [], 0, 0
    state_file = Path(work) / STATE if work is not None else None
    if state_file is not None and state_file.exists():
        state = torch.load(state_file, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        first, curve, losses, window_tok = state["step"], state["curve"], state["losses"], state["window_tok"]
        log(f"resuming from step {first} ({state_file})")
    model.train()
    start = window_t = time.time()
    step = first
    for step in range(first, cfg.max_steps):
        if distributed.any_rank(cap.reached()):  # agreed: every rank of a launch stops at the same step
            if state_file is not None and distributed.is_main():
                with atomic_file(state_file) as tmp:  # a state on disk is a whole state
                    torch.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "step": step,
                                "curve": curve, "losses": losses, "window_tok": window_tok}, tmp)
            raise CapReached(cap, step, cfg.max_steps, str(state_file) if state_file else None)
        xb, yb, mb = data[step % len(data)]
        for group in opt.param_groups:
            group["lr"] = lr_at(step / cfg.max_steps, cfg, step)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.bf16):
            loss = model(input_ids=xb, attention_mask=mb, labels=yb).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        window_tok += int(mb.sum())
        losses.append(loss.item())
        if (step + 1) % log_every == 0 or step == 0:
            now = time.time()
            tps = window_tok / max(now - window_t, 1e-9)
            mean = sum(losses) / len(losses)
            curve.append((step + 1, round(mean, 4), round(tps, 1)))
            log(f"step {step + 1}/{cfg.max_steps} loss {mean:.4f} {tps:,.0f} tok/s "
                f"lr {opt.param_groups[0]['lr']:.2e} {now - start:.0f}s")
            window_t, window_tok, losses = now, 0, []
    if losses:
        curve.append((step + 1, round(sum(losses) / len(losses), 4),
                      round(window_tok / max(time.time() - window_t, 1e-9), 1)))
    model.eval()
    return curve


def write_curve(path: Path, curve: list) -> None:
    """The loss curve into `path` (hashed with the model); tokens/s, which depends on the machine and its load, into
    the THROUGHPUT sidecar beside it."""
    path.write_text("step\tloss\n" + "".join(f"{s}\t{l}\n" for s, l, _ in curve))
    write_throughput(path.with_name(THROUGHPUT), ["tokens_per_s"], [(s, t) for s, _, t in curve])


def build_scratch(cfg: BaseConfig, records: list[dict], seed: int, cap: Cap = NO_CAP, work: Path | None = None):
    """(model, tokenizer, curve, corpus stats) pretrained from scratch on the corpus built from `records`."""
    import torch

    from r1.model import modeling

    t0 = time.time()
    docs = corpus_mod.build(records, cfg.corpus_examples, mix_of(cfg), seed, cfg.corpus_kinds)
    texts = [d["text"] for d in docs]
    stats = corpus_stats(docs)
    log(f"corpus: {len(docs)} documents from {len(records)} train tasks in {time.time() - t0:.1f}s; "
        f"modes {stats['modes']}")
    tok = modeling.train_tokenizer(texts[:20000], cfg.vocab_size)
    enc = tok(texts, add_special_tokens=False)["input_ids"]
    docs_ids = [ids + [tok.eos_token_id] for ids in enc]
    lengths = sorted(len(d) for d in docs_ids)
    stats["tokens"] = sum(lengths)
    stats["doc_tokens_median"] = lengths[len(lengths) // 2]
    stats["doc_tokens_max"] = lengths[-1]
    log(f"tokenizer: {len(tok)} tokens; corpus {stats['tokens']:,} tokens, median doc {stats['doc_tokens_median']}, "
        f"max {stats['doc_tokens_max']}")
    n_prompt = None
    if not cfg.loss_on_prompt:  # the prompt ends with the template tail token; learn what follows it
        tail = tok.convert_tokens_to_ids(modeling.TEMPLATE_TAIL)
        n_prompt = [ids.index(tail) + 1 if tail in ids else 0 for ids in docs_ids]
    data = batches(docs_ids, cfg.batch_size, cfg.seq_len, tok.pad_token_id, n_prompt, random.Random(seed))
    model = modeling.build_model(cfg.model, tok, seed)
    log(f"DeepseekV3ForCausalLM: {modeling.n_params(model):,} parameters; {len(data)} batches of {cfg.batch_size} "
        f"documents")
    torch.manual_seed(seed)
    curve = pretrain(model, data, cfg, seed, cap=cap, work=work)
    return model, tok, curve, stats


def corpus_stats(docs: list[dict]) -> dict:
    from r1.tasks.schema import reflects

    modes = collections.Counter(d["mode"] for d in docs)
    n = max(len(docs), 1)
    return {
        "documents": len(docs),
        "modes": dict(sorted(modes.items())),
        "kinds": dict(sorted(collections.Counter(d["kind"] for d in docs).items())),
        "reflection_share": round(sum(reflects(d["text"].split(". Assistant:", 1)[-1]) for d in docs) / n, 4),
        "error_share": round((modes.get("wrong", 0) + modes.get("guess", 0)) / n, 4),
    }


def build_base(cfg: BaseConfig, tasks_dir: Path | str, seed: int, threads: int, out_dir: Path, *, cap: Cap = NO_CAP,
               checkpoint_dir: Path | None = None) -> dict:
    """Pretrain from scratch on the train tasks in `tasks_dir` (or import `cfg.import_path`) with `threads` torch
    threads, and write the model, tokenizer, CURVE and CORPUS_STATS into `out_dir`. Returns the manifest fields
    (n_params, architecture)."""
    from r1.model import modeling
    from r1.tasks.pools import load_train_records

    start = time.time()
    modeling.set_threads(threads)
    if cfg.source == "scratch":
        work = None
        if checkpoint_dir is not None:  # where a run stopped by its cap leaves the state a rerun continues from
            key = checkpoints.run_key({"pretrain": to_dict(cfg)}, seed, None, hash_path(tasks_dir))
            work = checkpoints.run_dir(checkpoint_dir, key)
        model, tok, curve, stats = build_scratch(cfg, load_train_records(tasks_dir), seed, cap, work)
        distributed.report_params(model, log)  # several processes: each trains the same model (no data split)
        if work is not None:
            checkpoints.remove_finished(work)  # finished: a rerun of the same run trains afresh
    else:
        log(f"importing {cfg.source} {cfg.import_path}")
        model, tok = modeling.import_base(cfg.source, cfg.import_path, cfg.prompt_format)
        curve, stats = [], {"imported_from": cfg.import_path}
        log(f"imported {type(model).__name__}: {modeling.n_params(model):,} parameters in {time.time() - start:.0f}s")
    modeling.save_model_and_tokenizer(model, tok, out_dir)
    write_curve(Path(out_dir) / CURVE, curve)
    (Path(out_dir) / CORPUS_STATS).write_text(json.dumps(stats, indent=2) + "\n")
    return {"n_params": modeling.n_params(model), "architecture": type(model).__name__}
