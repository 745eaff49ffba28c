"""Tiny stand-ins for tests, made on the spot (no downloads): tokenizers, random language models saved like model
artifacts, task records and frames."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from r1 import config
from r1.build.clock import Cap
from r1.config import ModelShape
from r1.tasks import families
from r1.tasks.schema import R1_ZERO_TEMPLATE, TASK_SCHEMA, r1_zero_prompt

TAGS = ["<think>", "</think>", "<answer>", "</answer>"]


def corpus(n: int = 200, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    lines = [R1_ZERO_TEMPLATE] * 5
    for _ in range(n):
        a, b = rng.randint(1, 99), rng.randint(1, 99)
        lines.append(f"What is {a} plus {b}? <think> {a} + {b} = {a + b}. wait, check: yes </think> "
                     f"<answer> {a + b} </answer>")
        lines.append(f"def add(a, b):\n    return a + b  # numbers {a} {b}")
    return lines


def plain_tokenizer(vocab_size: int = 300) -> PreTrainedTokenizerFast:
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<pad>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(corpus(), trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="</s>", pad_token="<pad>")
    fast.add_tokens(TAGS)  # ordinary added tokens, as the base stage makes them
    return fast


def llama(tok, seed: int = 0, hidden: int = 32, layers: int = 2):
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(seed)
    cfg = LlamaConfig(vocab_size=len(tok), hidden_size=hidden, intermediate_size=2 * hidden, num_hidden_layers=layers,
                      num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
                      eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id, bos_token_id=None)
    return LlamaForCausalLM(cfg).eval()


def deepseek(tok, shape: dict, seed: int = 0):
    """A random miniature DeepSeek-V3 with the shape from params.yaml `base.model`."""
    from transformers import DeepseekV3Config, DeepseekV3ForCausalLM

    torch.manual_seed(seed)
    cfg = DeepseekV3Config(vocab_size=len(tok), eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
                           bos_token_id=None, num_key_value_heads=shape["num_attention_heads"], n_group=1, topk_group=1,
                           **shape)
    return DeepseekV3ForCausalLM(cfg).eval()


# Part-2 stand-ins: r1.model.modeling's tokenizer on task texts, a random LM saved like an artifact.


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
    from r1.model.modeling import train_tokenizer

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
    from r1.model.modeling import save_model_and_tokenizer

    tok = tok or tokenizer()
    path.mkdir(parents=True, exist_ok=True)
    save_model_and_tokenizer(model(tok, **kw), tok, path)
    return path


# Task records and prompts.

TEXTS = [r1_zero_prompt(f"Ann has {a} pens. Ben gives her {b} more. How many now?")
         + f" <think> {a} + {b} = {a + b} </think> <answer> {a + b} </answer>" for a in range(15) for b in range(15)]

TINY = ModelShape(hidden_size=32, intermediate_size=64, moe_intermediate_size=16, num_hidden_layers=2,
                  first_k_dense_replace=1, num_attention_heads=2, n_routed_experts=4, n_shared_experts=1,
                  num_experts_per_tok=2, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=8,
                  v_head_dim=8, max_position_embeddings=128)


def records(split: str, n: int, seed: int) -> list[dict]:
    """`n` task records per family from the ci profile's generators."""
    cfg = config.load("ci").tasks
    rng = random.Random(f"{seed}:{split}")
    out = []
    for kind in ("math", "countdown", "code"):
        for i in range(n):
            rec = families.generate(kind, rng, cfg)
            rec.update(id=f"{kind}-{split}-{i}", split=split)
            out.append(rec)
    return out


def corrupt(train, evals):
    """A duplicated id, a blank prompt, a math item without answer, and an eval prompt copied from train."""
    train = train.with_columns(
        pl.when(pl.int_range(pl.len()) == 1).then(pl.lit("math-train-00000")).otherwise(pl.col("id")).alias("id"),
        pl.when(pl.int_range(pl.len()) == 2).then(pl.lit("  ")).otherwise(pl.col("prompt")).alias("prompt"),
        pl.when(pl.int_range(pl.len()) == 3).then(None).otherwise(pl.col("answer")).alias("answer"),
    )
    leaked = evals.with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit(train["prompt"][5] + " Quickly.")).otherwise(
            pl.col("prompt")).alias("prompt"))
    return train, leaked


def write_tasks(root: Path) -> None:
    """data/tasks under `root`: train and eval parquet of `records`."""
    rows = records("train", 30, 5) + records("eval", 5, 6)
    df = pl.DataFrame([{k: r.get(k) for k in TASK_SCHEMA} for r in rows], schema=TASK_SCHEMA)
    out = root / "data" / "tasks"
    out.mkdir(parents=True)
    df.filter(pl.col("split") == "train").write_parquet(out / "train.parquet")
    df.filter(pl.col("split") == "eval").write_parquet(out / "eval.parquet")


class CapAt(Cap):
    """A time cap reached at its n-th look: what a slow machine does to a stage, without the wait."""

    def __init__(self, n: int):
        super().__init__("time_caps.minutes.test", 1.0)
        self.n, self.looks = n, 0

    def reached(self) -> bool:
        self.looks += 1
        return self.looks >= self.n
