"""bench/bench_generate.py: each path counts the tokens it generated (eos included), every sample of every prompt."""

import argparse
import sys
from pathlib import Path

import torch

from helpers import tiny  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))

import bench_generate  # noqa: E402

from r1.model import continuous  # noqa: E402

SHAPE = dict(hidden_size=32, intermediate_size=48, moe_intermediate_size=16, num_hidden_layers=2,
             first_k_dense_replace=1, num_attention_heads=2, n_routed_experts=4, n_shared_experts=1,
             num_experts_per_tok=2, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=8, qk_rope_head_dim=8,
             v_head_dim=8, max_position_embeddings=128)


def test_project_and_plain_count_every_sample_of_every_prompt():
    tok = tiny.plain_tokenizer()
    model = tiny.deepseek(tok, SHAPE).eval()
    prompts = ["What is 3 plus 4?", "def add", "x"]
    a = argparse.Namespace(samples=3, batch=4, max_new_tokens=6, temperature=1.0, top_p=0.9)
    eos = tok.eos_token_id
    rows = [ids for ids in tok(prompts)["input_ids"] for _ in range(a.samples)]
    seqs = continuous.decode(model, rows, eos_ids=[eos], max_new_tokens=a.max_new_tokens, slots=a.batch,
                             temperature=a.temperature, top_p=a.top_p, seed=1)
    tokens, secs = bench_generate.project(model, tok, prompts, a)
    assert tokens == sum(len(s) for s in seqs) and secs > 0
    with torch.no_grad():
        tokens, _ = bench_generate.plain(model, tok, prompts, a, absorbed=False)
    assert len(prompts) * a.samples <= tokens <= len(prompts) * a.samples * a.max_new_tokens
