"""Generation throughput, every path on the same model, prompts and settings, in one run (ratios, not only absolutes).

    python bench/bench_generate.py --model models/r1_zero --tasks data/tasks [--prompts 256] [--threads 1]
        [--samples 8 --batch 256]    # the eval stage's call: k samples of each item, 256 sequences a batch

Prints tokens/s (generated tokens, eos included, per second of wall time) of:
  plain       model.generate, left-padded batches of `--batch` sequences (HF's stock loop; `--samples` copies of
              each prompt, as num_return_sequences gives them)
  previous    the project's path before continuous batching: model.generate with the absorbed MLA decode
  project     r1.generate as it is now (continuous batching on DeepSeek-V3, r1.model.continuous)
  grpo-trl    the rollouts of real GRPOTrainer steps with TRL's own generate (the profile's r1_zero settings)
  grpo-ours   the same steps with r1.train.rollouts' trainer
  ceiling     the arithmetic of one batched decode step alone (the model's matmuls at `--batch` rows and the mean
              context, timed in a tight loop): what a decode loop with no overhead would reach
and the ratios the issue asks for (project / previous, grpo-ours / grpo-trl, ceiling / project). Without `--model`,
a random model of the profile's `base.model` shape is used (a random model rarely stops early: its lengths differ).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from r1 import config  # noqa: E402
from r1.model import continuous  # noqa: E402
from r1.model import generate as gen  # noqa: E402


def prompts_from(tasks: Path | None, n: int) -> list[str]:
    """`n` R1-Zero prompts from the train split of a tasks artifact (cycled), or synthetic sums without one."""
    from r1.tasks.schema import r1_zero_prompt

    if tasks is not None:
        import polars as pl

        raw = pl.read_parquet(tasks / "train.parquet")["prompt"].to_list()
    else:
        raw = [f"Ann has {a} pens and gets {a % 7 + 2} more. How many now?" for a in range(1, 200)]
    return [r1_zero_prompt(raw[i % len(raw)]) for i in range(n)]


def load(model_dir: Path | None, profile: str):
    from r1.model.modeling import build_model, load_model_and_tokenizer

    if model_dir is not None:
        return load_model_and_tokenizer(model_dir)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "helpers"))
    import tiny

    tok = tiny.tokenizer(vocab_size=1000)
    return build_model(config.load(profile).base.model, tok).eval(), tok


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def plain(model, tok, prompts, a, absorbed: bool) -> tuple[int, float]:
    """Tokens and seconds of model.generate over left-padded batches (eos counted, padding not)."""
    eos, pad = tok.eos_token_id, tok.pad_token_id
    rows = [r for r in tok(prompts)["input_ids"] for _ in range(a.samples)]
    total = 0
    start = time.perf_counter()
    with torch.inference_mode():
        for lo in range(0, len(rows), a.batch):
            ids, mask = gen._left_pad(rows[lo:lo + a.batch], pad, model.device)
            ctx = gen.absorbed_mla(model) if absorbed else mock.MagicMock()
            with ctx:
                out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=a.max_new_tokens,
                                     do_sample=True, temperature=a.temperature, top_p=a.top_p, top_k=0,
                                     eos_token_id=eos, pad_token_id=pad)
            for row in out[:, ids.shape[1]:].tolist():
                total += row.index(eos) + 1 if eos in row else len(row)
    return total, time.perf_counter() - start


def project(model, tok, prompts, a) -> tuple[int, float]:
    (_, counts), secs = timed(lambda: gen.generate((model, tok), prompts, n=a.samples, temperature=a.temperature,
                                                   top_p=a.top_p, max_new_tokens=a.max_new_tokens, batch_size=a.batch,
                                                   seed=1, return_num_tokens=True, desc="project"))
    return sum(c + (c < a.max_new_tokens) for row in counts for c in row), secs  # + the eos each finished row drew


def grpo(model_dir, model, tok, prompts, a, ours: bool) -> tuple[int, float]:
    """Rollout tokens and seconds inside `a.grpo_steps` real GRPOTrainer steps (r1_zero's settings)."""
    import copy
    import dataclasses
    import tempfile

    from datasets import Dataset
    from trl import GRPOTrainer

    from r1.train.grpo import grpo_args
    from r1.train.rollouts import rollout_trainer

    cfg = config.load(a.profile).r1_zero
    cfg = dataclasses.replace(cfg, max_steps=a.grpo_steps, save_steps=10_000)
    stats = {"tokens": 0, "seconds": 0.0}
    base = rollout_trainer() if ours else GRPOTrainer

    class Timed(base):
        def _generate_single_turn(self, *args, **kwargs):
            (ids, logps), secs = timed(lambda: super(Timed, self)._generate_single_turn(*args, **kwargs))
            stats["tokens"] += sum(len(x) for x in ids)
            stats["seconds"] += secs
            return ids, logps

    def reward(completions, **_):
        return [float(len(c)) for c in completions]

    with tempfile.TemporaryDirectory() as tmp:
        args = grpo_args(cfg, Path(tmp), 1, [1.0])
        trainer = Timed(model=copy.deepcopy(model), reward_funcs=[reward], args=args, processing_class=tok,
                        train_dataset=Dataset.from_list([{"prompt": p} for p in prompts]))
        torch.manual_seed(1)
        trainer.train()
    return stats["tokens"], stats["seconds"]


def ceiling(model, a, context: int) -> float:
    """Tokens/s of one decode step's matmuls alone at `a.batch` rows: every linear map a token goes through (the
    experts it is routed to, the shared ones, lm_head) and the absorbed attention over `context` latents."""
    cfg = model.config
    b, h, d = a.batch, cfg.num_attention_heads, cfg.hidden_size
    rank, rope = cfg.kv_lora_rank, cfg.qk_rope_head_dim
    mats = [(d, h * (cfg.qk_nope_head_dim + rope)), (d, rank + rope), (h * cfg.v_head_dim, d)]  # q, kv_a, o
    attn = []
    for i in range(cfg.num_hidden_layers):
        dense = i < cfg.first_k_dense_replace
        widths = [cfg.intermediate_size] if dense else \
            [cfg.moe_intermediate_size] * (cfg.num_experts_per_tok + cfg.n_shared_experts)
        layer = list(mats) + [(d, cfg.n_routed_experts)] * (not dense)
        for w in widths:
            layer += [(d, w), (d, w), (w, d)]  # gate, up, down
        attn.append(layer)
    shapes = [s for layer in attn for s in layer] + [(d, cfg.vocab_size)]
    xs = [(torch.randn(b, i), torch.randn(i, o)) for i, o in shapes]
    q = torch.randn(b, h, rank + rope)
    kv = torch.randn(b, context, rank + rope)
    wq, wo = torch.randn(h, cfg.qk_nope_head_dim, rank), torch.randn(h, cfg.v_head_dim, rank)
    qn = torch.randn(b, h, cfg.qk_nope_head_dim)

    def step():
        for x, w in xs:
            torch.mm(x, w)
        for _ in range(cfg.num_hidden_layers):
            torch.einsum("bhd,hdr->bhr", qn, wq)
            s = torch.bmm(q, kv.transpose(1, 2))
            o = torch.bmm(s, kv[..., :rank])
            torch.einsum("bhr,hvr->bhv", o, wo)

    for _ in range(5):
        step()
    reps = 50
    _, secs = timed(lambda: [step() for _ in range(reps)])
    return b * reps / secs


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", type=Path, help="a saved model directory (default: a random model of --profile's shape)")
    p.add_argument("--tasks", type=Path, help="a tasks artifact for the prompts (default: synthetic sums)")
    p.add_argument("--profile", default="default", help="whose r1_zero settings the GRPO step uses")
    p.add_argument("--prompts", type=int, default=256)
    p.add_argument("--batch", type=int, default=64, help="sequences per batch (slots)")
    p.add_argument("--samples", type=int, default=1, help="completions per prompt (r1.generate's n: eval.k)")
    p.add_argument("--max-new-tokens", type=int, default=96)
    p.add_argument("--temperature", type=float, default=0.7)
    p.add_argument("--top-p", type=float, default=0.95)
    p.add_argument("--threads", type=int, default=1, help="torch threads (generation.threads)")
    p.add_argument("--grpo-steps", type=int, default=2)
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    model, tok = load(a.model, a.profile)
    model.eval()
    prompts = prompts_from(a.tasks, a.prompts)
    print(f"model {a.model or 'random ' + a.profile}: {sum(x.numel() for x in model.parameters()):,} params, "
          f"vocab {model.config.vocab_size}; {len(prompts)} prompts x {a.samples} samples, batch {a.batch}, "
          f"max_new_tokens {a.max_new_tokens}, T={a.temperature}, top_p={a.top_p}; {a.threads} thread(s); "
          f"load {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    rows = {}
    rows["plain"] = plain(model, tok, prompts, a, absorbed=False)
    with mock.patch.object(continuous, "supports", lambda m: False):
        rows["previous"] = project(model, tok, prompts, a)
    rows["project"] = project(model, tok, prompts, a)
    grpo_prompts = prompts[:max(a.prompts // 4, 16)]
    rows["grpo-trl"] = grpo(a.model, model, tok, grpo_prompts, a, ours=False)
    rows["grpo-ours"] = grpo(a.model, model, tok, grpo_prompts, a, ours=True)
    mean_len = rows["project"][0] / (len(prompts) * a.samples)
    context = int(sum(len(x) for x in tok(prompts)["input_ids"]) / len(prompts) + mean_len / 2)
    rate = {k: n / s for k, (n, s) in rows.items()}
    rate["ceiling"] = ceiling(model, a, context)
    for k, (n, s) in rows.items():
        print(f"{k:10s} {n:8d} tokens {s:7.2f} s {rate[k]:9.0f} tok/s")
    print(f"{'ceiling':10s} one decode step's matmuls at {a.batch} rows, context {context}: "
          f"{rate['ceiling']:9.0f} tok/s")
    print(f"ratios: project/previous {rate['project'] / rate['previous']:.2f}x   project/plain "
          f"{rate['project'] / rate['plain']:.2f}x   grpo-ours/grpo-trl {rate['grpo-ours'] / rate['grpo-trl']:.2f}x   "
          f"ceiling/project {rate['ceiling'] / rate['project']:.1f}x   (load {os.getloadavg()[0]:.1f} at the end)")


if __name__ == "__main__":
    main()
