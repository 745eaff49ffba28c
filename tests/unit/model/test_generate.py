"""r1.model.generate: sample counts, no prompt in the output, left padding, eos stop, greedy/seed, absorbed MLA, vllm."""

import sys
from pathlib import Path

import pytest
import torch

from helpers import tiny  # noqa: E402

from r1.model.generate import _length, absorbed_mla, generate  # noqa: E402
from r1.model.modeling import load_model_and_tokenizer  # noqa: E402

PROMPTS = ["What is 3 plus 4?", "def add", "A conversation between User and Assistant. User: What is 12 plus 30?"]


@pytest.fixture(scope="module")
def lm():
    tok = tiny.plain_tokenizer()
    return tiny.llama(tok), tok


def _one_at_a_time(model, tok, prompt, max_new_tokens):
    """Reference: greedy on a single unpadded prompt, decoded from the new tokens only."""
    ids = torch.tensor([tok(prompt)["input_ids"]])
    with torch.inference_mode():
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), do_sample=False,
                             max_new_tokens=max_new_tokens, eos_token_id=tok.eos_token_id,
                             pad_token_id=tok.pad_token_id)
    return out[0, ids.shape[1]:].tolist()


def test_n_samples_per_prompt_in_prompt_order(lm):
    texts, counts = generate(lm, PROMPTS, n=5, temperature=1.0, max_new_tokens=6, batch_size=4,
                             return_num_tokens=True)
    assert [len(t) for t in texts] == [5, 5, 5]
    assert [len(c) for c in counts] == [5, 5, 5]
    assert all(0 < c <= 6 for group in counts for c in group)
    for prompt, group in zip(PROMPTS, texts):
        assert all(isinstance(t, str) and not t.startswith(prompt) for t in group)


def test_left_padded_batch_matches_one_prompt_at_a_time(lm):
    model, tok = lm
    batched = generate(lm, PROMPTS, n=1, temperature=0, max_new_tokens=12, batch_size=8)
    for prompt, [text] in zip(PROMPTS, batched):
        ref = _one_at_a_time(model, tok, prompt, 12)
        assert text == tok.decode(ref[:_length(ref, tok.eos_token_id)], skip_special_tokens=True,
                                  clean_up_tokenization_spaces=False)
        assert prompt not in text


def test_stops_at_eos_and_counts_tokens_before_it(lm):
    model, tok = lm
    free = _one_at_a_time(model, tok, PROMPTS[0], 12)
    assert len(free) >= 5
    stop_id = free[4]
    stop_tok = tiny.plain_tokenizer()
    stop_tok.eos_token = stop_tok.convert_ids_to_tokens(stop_id)  # make a token the model emits be eos
    texts, counts = generate((model, stop_tok), PROMPTS[:1], n=1, temperature=0, max_new_tokens=12,
                             return_num_tokens=True)
    first = free.index(stop_id)
    assert counts == [[first]]
    assert texts == [[tok.decode(free[:first], skip_special_tokens=True, clean_up_tokenization_spaces=False)]]


def test_greedy_copies_and_sampling_is_seeded(lm):
    greedy = generate(lm, PROMPTS[:2], n=3, temperature=0, max_new_tokens=8)
    assert all(len(set(group)) == 1 for group in greedy)
    a = generate(lm, PROMPTS, n=4, temperature=1.0, max_new_tokens=8, seed=7, batch_size=3)
    b = generate(lm, PROMPTS, n=4, temperature=1.0, max_new_tokens=8, seed=7, batch_size=3)
    c = generate(lm, PROMPTS, n=4, temperature=1.0, max_new_tokens=8, seed=8, batch_size=3)
    assert a == b != c


def test_more_samples_than_batch_size(lm):
    texts = generate(lm, PROMPTS[:2], n=5, temperature=1.0, max_new_tokens=4, batch_size=2)
    assert [len(t) for t in texts] == [5, 5]


def test_empty_prompt_list_and_empty_prompt(lm):
    assert generate(lm, [], n=3, max_new_tokens=4) == []
    with pytest.raises(ValueError, match=r"prompts \[1\] encode to no tokens"):
        generate(lm, ["hi", ""], n=1, max_new_tokens=4)


def test_loads_a_saved_model_dir(lm, tmp_path):
    model, tok = lm
    model.save_pretrained(tmp_path)
    tok.save_pretrained(tmp_path)
    texts = generate(tmp_path, PROMPTS[:1], n=2, temperature=0, max_new_tokens=5, device="cpu")
    assert texts == generate(lm, PROMPTS[:1], n=2, temperature=0, max_new_tokens=5)
    loaded, _ = load_model_and_tokenizer(tmp_path, dtype=torch.bfloat16, device="cpu")
    assert loaded.dtype == torch.bfloat16 and loaded.device.type == "cpu" and not loaded.training
    with pytest.raises(FileNotFoundError, match="config.json"):
        load_model_and_tokenizer(tmp_path / "missing")


def test_absorbed_mla_decode_matches_stock_deepseek():
    tok = tiny.plain_tokenizer()
    shape = dict(hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=2,
                 first_k_dense_replace=1, num_attention_heads=4, n_routed_experts=4, n_shared_experts=1,
                 num_experts_per_tok=2, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=16,
                 qk_rope_head_dim=8, v_head_dim=16, max_position_embeddings=256)
    model = tiny.deepseek(tok, shape)
    rows = [tok(p)["input_ids"] for p in PROMPTS]
    width = max(map(len, rows))
    ids = torch.tensor([[tok.pad_token_id] * (width - len(r)) + r for r in rows])
    mask = (torch.arange(width)[None] >= torch.tensor([width - len(r) for r in rows])[:, None]).long()
    kwargs = dict(input_ids=ids, attention_mask=mask, do_sample=False, max_new_tokens=15, eos_token_id=None,
                  pad_token_id=tok.pad_token_id, output_scores=True, return_dict_in_generate=True)
    with torch.inference_mode():
        stock = model.generate(**kwargs)
        with absorbed_mla(model):
            fast = model.generate(**kwargs)
    assert torch.equal(stock.sequences, fast.sequences)
    assert max((a - b).abs().max().item() for a, b in zip(stock.scores, fast.scores)) < 1e-4
    assert "forward" not in vars(model.model.layers[0].self_attn)  # patch removed


def test_vllm_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "vllm", None)  # import fails even where vllm is installed
    with pytest.raises(RuntimeError, match="vllm.*generation.backend: hf"):
        generate(tmp_path, ["x"], n=2, backend="vllm")


def test_vllm_needs_a_directory_and_unknown_backend(lm):
    with pytest.raises(TypeError, match="directory"):
        generate(lm, ["x"], backend="vllm")
    with pytest.raises(ValueError, match="backend"):
        generate(lm, ["x"], backend="tgi")


def test_threads_set_for_the_call_and_restored(lm):
    model, tok = lm
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    seen = []
    stock = model.generate
    model.generate = lambda *a, **k: seen.append(torch.get_num_threads()) or stock(*a, **k)
    try:
        generate(lm, PROMPTS[:1], n=1, max_new_tokens=2, threads=1)
        assert seen == [1] and torch.get_num_threads() == 2
        generate(lm, PROMPTS[:1], n=1, max_new_tokens=2, threads=0)
        assert seen == [1, 2]
    finally:
        del model.generate
        torch.set_num_threads(before)
