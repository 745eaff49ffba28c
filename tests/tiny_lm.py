"""Tiny random language models + tokenizers for generation/eval tests and speed checks (no downloads)."""

from __future__ import annotations

import random

import torch
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from r1.schema import R1_ZERO_TEMPLATE

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


def tokenizer(vocab_size: int = 300) -> PreTrainedTokenizerFast:
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
