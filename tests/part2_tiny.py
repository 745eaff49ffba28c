"""Tiny stand-ins for part 2's tests: a real tokenizer (r1.modeling's BPE with tags and template tokens) trained on a
few hundred lines, a random miniature LM saved like a model artifact, task frames and a scratch workdir layout."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl

from r1.schema import TASK_SCHEMA, r1_zero_prompt


def tasks(n: int = 24, seed: int = 0) -> pl.DataFrame:
    """Train-split task records of all three kinds, with worked solutions and answers."""
    rng = random.Random(seed)
    recs = []
    for i in range(n):
        kind = ("math", "countdown", "code")[i % 3]
        a, b = rng.randint(2, 20), rng.randint(2, 20)
        if kind == "math":
            rec = dict(prompt=f"Ann has {a} pens and gets {b} more. How many now?", solution=f"{a} + {b} = {a + b}",
                       answer=str(a + b))
        elif kind == "countdown":
            c = rng.randint(2, 9)
            rec = dict(prompt=f"Make {a + b + c} from {a}, {b}, {c}, each once.",
                       solution=f"{a} + {b} = {a + b}\n{a + b} + {c} = {a + b + c}", answer=f"{a} + {b} + {c}",
                       numbers=sorted([a, b, c]), target=a + b + c)
        else:
            src = f"def add_{i}(x):\n    return x + {a}\n"
            rec = dict(prompt=f"Write add_{i}(x): add {a} to x.", solution=f"return x plus {a}", answer=src,
                       tests=f"assert add_{i}(1) == {1 + a}\n", entry_point=f"add_{i}", reference=src)
        recs.append(dict(id=f"{kind}-train-{i:05d}", kind=kind, split="train", **rec))
    return pl.DataFrame(recs, schema=TASK_SCHEMA)


def texts(df: pl.DataFrame) -> list[str]:
    out = []
    for r in df.iter_rows(named=True):
        out.append(r1_zero_prompt(r["prompt"]) + f" <think> {r['solution']} </think> <answer> {r['answer']} </answer>")
        out.append(f"|special_token| First, {r['solution']}. So the result is {r['answer']}. |special_token| "
                   f"The answer is <answer> {r['answer']} </answer>")
    out += ["Paris is the capital of France.", "I am a small reasoning model.", "Bonjour means hello."] * 5
    return out


def tokenizer(df: pl.DataFrame | None = None, vocab_size: int = 400):
    from r1.modeling import train_tokenizer

    return train_tokenizer(texts(tasks() if df is None else df), vocab_size)


def model(tok, hidden: int = 32, layers: int = 2, seed: int = 0):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=512,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None,
                      tie_word_embeddings=True)
    m = LlamaForCausalLM(cfg)
    m.generation_config.eos_token_id = tok.eos_token_id
    m.generation_config.pad_token_id = tok.pad_token_id
    m.generation_config.bos_token_id = None
    return m


def save_model(path: Path, tok=None, **kw) -> Path:
    from r1.modeling import save_model_and_tokenizer

    tok = tok or tokenizer()
    path.mkdir(parents=True, exist_ok=True)
    save_model_and_tokenizer(model(tok, **kw), tok, path)
    return path
