"""r1.model.continuous: greedy decoding equals stock `generate` token for token, whatever the slot count; sampling
follows HF's temperature + top-p distribution; a sequence's sample does not depend on its slot; GRPO rollouts come
back in TRL's format."""

import pytest
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopPLogitsWarper

from helpers import tiny  # noqa: E402

from r1.model import continuous  # noqa: E402
from r1.model.generate import generate  # noqa: E402

SHAPE = dict(hidden_size=64, intermediate_size=96, moe_intermediate_size=32, num_hidden_layers=2,
             first_k_dense_replace=1, num_attention_heads=4, n_routed_experts=4, n_shared_experts=1,
             num_experts_per_tok=2, q_lora_rank=None, kv_lora_rank=16, qk_nope_head_dim=16, qk_rope_head_dim=8,
             v_head_dim=16, max_position_embeddings=256)
PROMPTS = ["What is 3 plus 4?", "def add", "A conversation between User and Assistant. User: What is 12 plus 30?",
           "x", "What is 12 plus 30? <think>"]


@pytest.fixture(scope="module")
def ds():
    tok = tiny.plain_tokenizer()
    return tiny.deepseek(tok, SHAPE), tok


def _stock_greedy(model, ids, max_new_tokens, eos):
    with torch.inference_mode():
        out = model.generate(input_ids=torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                             do_sample=False, max_new_tokens=max_new_tokens, eos_token_id=eos, pad_token_id=0)
    new = out[0, len(ids):].tolist()
    return new[:new.index(eos) + 1] if eos in new else new


@pytest.fixture(scope="module")
def stock(ds):
    """Stock greedy completions of PROMPTS, 16 tokens, no eos: computed once for the tests below."""
    model, tok = ds
    return [_stock_greedy(model, tok(p)["input_ids"], 16, None) for p in PROMPTS]


@pytest.mark.parametrize("slots", [1, 2, 5])
def test_greedy_equals_stock_generate_for_any_slot_count(ds, stock, slots):
    model, tok = ds
    rows = [tok(p)["input_ids"] for p in PROMPTS]
    assert continuous.decode(model, rows, eos_ids=[-1], max_new_tokens=16, slots=slots, temperature=0) == stock


def test_stops_at_eos_and_refills_the_slot(ds, stock):
    model, tok = ds
    rows = [tok(p)["input_ids"] for p in PROMPTS] * 2
    eos = stock[0][3]  # a token the first prompt draws early: its row ends there, the others go on
    want = [s[:s.index(eos) + 1] if eos in s else s for s in stock] * 2
    got = continuous.decode(model, rows, eos_ids=[eos], max_new_tokens=16, slots=2, temperature=0)
    assert got == want
    assert got[0][-1] == eos and len(got[0]) <= 4
    assert any(len(g) == 16 for g in got)


def test_a_sequence_does_not_depend_on_its_slot_or_neighbours(ds):
    model, tok = ds
    rows = [tok(p)["input_ids"] for p in PROMPTS] * 2
    kw = dict(eos_ids=[tok.eos_token_id], max_new_tokens=8, temperature=1.0, top_p=0.9, seed=7)
    one = continuous.decode(model, rows, slots=1, **kw)
    many = continuous.decode(model, rows, slots=4, **kw)
    assert one == many
    # the same sequence id alone gets the same tokens; another seed or id gets other ones
    assert continuous.decode(model, [rows[5]], seq_ids=[5], slots=1, **kw) == [one[5]]
    assert continuous.decode(model, rows, slots=4, **{**kw, "seed": 8}) != one
    assert one[0] != one[5]  # same prompt, other sample


def test_a_repeated_prompt_is_prefilled_once_and_samples_as_if_alone(ds, monkeypatch):
    """A GRPO group or k eval samples repeat a prompt: one prefill row serves every repeat in the refill, and each
    repeat still draws the sequence it draws alone."""
    model, tok = ds
    a, b = (tok(p)["input_ids"] for p in PROMPTS[2:4])
    rows = [a] * 3 + [b] * 3
    kw = dict(eos_ids=[tok.eos_token_id], max_new_tokens=8, temperature=1.0, top_p=0.9, seed=5)
    alone = continuous.decode(model, rows, slots=1, **kw)  # one prompt per refill: nothing to share
    prefills, forward = [], continuous._Model.forward

    def spy(self, cache, tokens, *args):
        if tokens.shape[1] > 1 or args[0] is not None:
            prefills.append(tokens.shape[0])
        return forward(self, cache, tokens, *args)

    monkeypatch.setattr(continuous._Model, "forward", spy)
    shared = continuous.decode(model, rows, slots=6, **kw)
    assert prefills == [2]
    assert shared == alone
    assert shared[0] != shared[1]  # the repeats are separate samples


def test_pick_never_lands_on_a_dropped_token():
    """Inverse CDF: a zero-probability entry (top-p dropped, or underflow) is never drawn, even where rounding puts
    u * total at the very end of the CDF."""
    top = torch.tensor([[0.5, 0.0, 0.3, 0.2, 0.0, 0.0]] * 5)
    u = torch.tensor([0.0, 0.5, 0.79, 0.999999, 1.0], dtype=torch.float64)  # 1.0: what rounding can reach
    assert continuous._pick(top, None, u, 1.0).tolist() == [0, 2, 2, 3, 3]
    index = torch.tensor([[9, 8, 7, 6, 5, 4]] * 5)
    assert continuous._pick(top, index, u, 0.75).tolist() == [9, 9, 7, 7, 7]  # top-p keeps 9 (0.5) and 7 (0.3)


def _hf_probs(logits, temperature, top_p):
    scores = TopPLogitsWarper(top_p)(None, TemperatureLogitsWarper(temperature)(None, logits.clone()))
    return scores.softmax(-1)


@pytest.mark.parametrize("top_p", [1.0, 0.9, 0.999])  # 0.999 keeps more than the 64-token window: the full sort
def test_sampling_matches_hf_top_p_distribution(top_p):
    torch.manual_seed(0)
    vocab, n = 200, 20000
    logits = torch.randn(1, vocab) * 2
    want = _hf_probs(logits, 0.7, top_p)[0]
    u = continuous.uniforms(3, torch.arange(n), torch.zeros(n, dtype=torch.long))
    got = continuous.sample(logits.expand(n, vocab), u, 0.7, top_p)
    freq = torch.bincount(got, minlength=vocab).double() / n
    assert set(got.unique().tolist()) <= set(want.nonzero()[:, 0].tolist())  # never a token top-p drops
    assert 0.5 * (freq - want.double()).abs().sum() < 0.03  # total variation
    assert (want > 0).sum() > 64 if top_p == 0.999 else True


def test_uniforms_are_uniform_and_a_function_of_their_arguments():
    seq, step = torch.arange(5000).repeat(4), torch.arange(4).repeat_interleave(5000)
    u = continuous.uniforms(1, seq, step)
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean().item() - 0.5) < 0.01
    assert torch.equal(u, continuous.uniforms(1, seq, step))
    assert not torch.equal(u, continuous.uniforms(2, seq, step))
    assert len(set(u.tolist())) == len(u)


def test_first_tokens_follow_the_stock_distribution(ds):
    """Our draws and HF's `generate` draws both sit within sampling noise of the exact top-p distribution (a model
    sharpened so that 1,000 draws resolve it: ~60 tokens kept)."""
    import copy

    model, tok = copy.deepcopy(ds[0]), ds[1]
    with torch.no_grad():
        model.lm_head.weight.mul_(15)
    ids = tok(PROMPTS[0])["input_ids"]
    with torch.inference_mode():
        exact = _hf_probs(model(torch.tensor([ids])).logits[:, -1], 1.0, 0.9)[0].double()
    n, eos = 1000, tok.eos_token_id
    ours = continuous.decode(model, [ids] * n, eos_ids=[eos], max_new_tokens=1, slots=64, temperature=1.0,
                             top_p=0.9, seed=3)
    torch.manual_seed(3)
    with torch.inference_mode():
        batch = torch.tensor([ids] * n)
        stock = model.generate(input_ids=batch, attention_mask=torch.ones_like(batch),
                               do_sample=True, top_k=0, top_p=0.9, temperature=1.0, max_new_tokens=1,
                               eos_token_id=eos, pad_token_id=tok.pad_token_id)[:, len(ids)]
    for draws in (torch.tensor([s[0] for s in ours]), stock):
        freq = torch.bincount(draws, minlength=len(exact)).double() / n
        assert 0.5 * (freq - exact).abs().sum() < 0.12  # total variation; ~0.07 is the noise of 1,000 draws
    assert 10 < (exact > 0).sum() < 64


def test_generate_routes_deepseek_through_the_loop(ds, monkeypatch):
    model, tok = ds
    calls = []
    real = continuous.decode
    monkeypatch.setattr(continuous, "decode", lambda *a, **k: calls.append(k) or real(*a, **k))
    texts, counts = generate((model, tok), PROMPTS[:2], n=3, temperature=0.8, top_p=0.9, max_new_tokens=5,
                             batch_size=4, seed=2, return_num_tokens=True)
    assert calls[0]["slots"] == 4 and calls[0]["seed"] == 2 and calls[0]["top_p"] == 0.9
    assert [len(t) for t in texts] == [3, 3] and all(0 <= c <= 5 for row in counts for c in row)
    again = generate((model, tok), PROMPTS[:2], n=3, temperature=0.8, top_p=0.9, max_new_tokens=5, batch_size=2,
                     seed=2)
    assert again == texts  # another batch size, the same samples


def test_grpo_rollouts_come_back_as_trl_returns_them(ds, tmp_path):
    from datasets import Dataset
    from trl import GRPOConfig

    from r1.train.rollouts import rollout_trainer

    model, tok = ds
    args = GRPOConfig(output_dir=str(tmp_path), use_cpu=True, per_device_train_batch_size=4, num_generations=4,
                      generation_batch_size=4, max_completion_length=8, temperature=0.9, top_p=1.0, top_k=0,
                      max_steps=1, report_to=[], save_strategy="no", logging_steps=1)
    trainer = rollout_trainer()(model=model, reward_funcs=[lambda completions, **_: [1.0] * len(completions)],
                                args=args, processing_class=tok, train_dataset=Dataset.from_list(
                                    [{"prompt": p} for p in PROMPTS]))
    eos = tok.eos_token_id
    rows = [tok(PROMPTS[0])["input_ids"]] * 4
    calls = []
    real = continuous.decode
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(continuous, "decode", lambda *a, **k: calls.append(k) or real(*a, **k))
        ids, logps = trainer._generate_single_turn(rows, None, {}, 4)
    assert calls and calls[0]["max_new_tokens"] == 8 and calls[0]["temperature"] == 0.9
    assert eos in calls[0]["eos_ids"]
    assert logps is None and len(ids) == 4
    assert all(len(c) <= 8 and (eos not in c[:-1]) for c in ids)
    trainer.top_k = 5  # a setting the loop does not implement: TRL's own generate
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(continuous, "decode", lambda *a, **k: pytest.fail("continuous used with top_k"))
        ids, _ = trainer._generate_single_turn(rows, None, {}, 4)
    assert len(ids) == 4
