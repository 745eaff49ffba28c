"""Sampling completions: one interface, two backends.

`hf` (default): on the project's DeepSeek-V3, r1.model.continuous: `batch_size` slots decode together and a finished
row's slot takes the next sequence at once (no batch waits for its longest completion); token t of sequence
(prompt i, sample j) is drawn from a hash of (seed, i * n + j, t), so it does not depend on batching. Any other
architecture (an imported base): batched `model.generate`, prompts sorted by length so a batch holds similar lengths
(less padding), left-padded, all `n` samples of a prompt drawn in one call (`num_return_sequences`), `batch_size`
sequences in total. `vllm`: a thin GPU-only wrapper, imported only when chosen; it is not exercised
on this CPU machine.

Completions are decoded without the prompt and stop at eos. `<think>`/`<answer>` are ordinary added tokens, so
`skip_special_tokens` only removes eos/pad/bos.
"""

from __future__ import annotations

import contextlib
import functools
import sys
import time
from pathlib import Path
from typing import Sequence

import torch
from tqdm import tqdm

from r1.model import continuous
from r1.model.modeling import as_model_prompts, load_model_and_tokenizer, load_tokenizer


def generate(model: str | Path | tuple, prompts: Sequence[str], n: int = 1, temperature: float = 1.0,
             top_p: float = 1.0, max_new_tokens: int = 128, batch_size: int = 64, backend: str = "hf", seed: int = 0,
             device: str = "auto", threads: int = 0, return_num_tokens: bool = False, desc: str = "generate"):
    """`n` completions per prompt: `list[list[str]]` in prompt order (and, with `return_num_tokens`, a matching
    `list[list[int]]` of generated token counts, eos excluded). `model` is a saved model directory or a
    `(model, tokenizer)` pair (hf only). `temperature` 0 means greedy. `batch_size` counts sequences (prompts x n).
    `threads` > 0 sets torch's CPU threads for the call (restored after); 0 leaves them alone. Prompts are given as
    the model reads them (r1.model.modeling.as_model_prompts: an imported instruct model's chat template)."""
    if n < 1:
        raise ValueError(f"n: must be at least 1, got {n}")
    prompts = list(prompts)
    if backend == "hf":
        if isinstance(model, (str, Path)):
            model = load_model_and_tokenizer(model, device=device)
        prompts = as_model_prompts(model[1], prompts)
        with cpu_threads(threads):
            texts, counts = _hf_generate(*model, prompts, n, temperature, top_p, max_new_tokens, batch_size, seed,
                                         desc)
    elif backend == "vllm":
        texts, counts = _vllm_generate(model, prompts, n, temperature, top_p, max_new_tokens, seed)
    else:
        raise ValueError(f"generation.backend: {backend!r} is not one of ['hf', 'vllm']")
    return (texts, counts) if return_num_tokens else texts


@torch.inference_mode()
def _hf_generate(model, tokenizer, prompts, n, temperature, top_p, max_new_tokens, batch_size, seed, desc):
    eos = tokenizer.eos_token_id
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else eos
    if eos is None:
        raise ValueError("tokenizer has no eos token: generation could not stop")
    greedy = temperature <= 0
    draws = 1 if greedy else n  # greedy samples are identical: draw once, copy
    reps = min(draws, batch_size)  # samples per prompt per call; n > batch_size takes several calls
    per_batch = max(1, batch_size // reps)
    sampling = {"do_sample": False} if greedy else {"do_sample": True, "temperature": temperature, "top_p": top_p,
                                                       "top_k": 0}  # top_k 0: off (HF otherwise defaults to 50)
    encoded = tokenizer(prompts)["input_ids"] if prompts else []
    empty = [i for i, ids in enumerate(encoded) if not ids]
    if empty:
        raise ValueError(f"prompts {empty[:5]} encode to no tokens (the tokenizer adds no BOS): "
                         "nothing to condition on")
    if continuous.supports(model):
        texts, counts = _continuous(model, tokenizer, encoded, draws, temperature, top_p, max_new_tokens,
                                    batch_size, seed, desc, eos)
        return ([t * n for t in texts], [c * n for c in counts]) if greedy else (texts, counts)
    order = sorted(range(len(prompts)), key=lambda i: -len(encoded[i]))  # longest first: an OOM shows at once
    texts: list[list[str]] = [[] for _ in prompts]
    counts: list[list[int]] = [[] for _ in prompts]
    torch.manual_seed(seed)
    start, n_tokens = time.perf_counter(), 0
    bar = tqdm(total=len(prompts) * n, desc=desc, unit="seq", file=sys.stderr, dynamic_ncols=True)
    for lo in range(0, len(order), per_batch):
        idx = order[lo:lo + per_batch]
        input_ids, mask = _left_pad([encoded[i] for i in idx], pad, model.device)
        for done in range(0, draws, reps):
            k = min(reps, draws - done)
            with absorbed_mla(model):
                out = model.generate(input_ids=input_ids, attention_mask=mask, max_new_tokens=max_new_tokens,
                                     num_return_sequences=k, eos_token_id=eos, pad_token_id=pad, **sampling)
            new = out[:, input_ids.shape[1]:].tolist()  # rows: prompt 0 x k, prompt 1 x k, ...
            lengths = [_length(row, eos) for row in new]
            decoded = tokenizer.batch_decode([row[:m] for row, m in zip(new, lengths)], skip_special_tokens=True,
                                             clean_up_tokenization_spaces=False)
            for j, i in enumerate(idx):
                texts[i].extend(decoded[j * k:(j + 1) * k])
                counts[i].extend(lengths[j * k:(j + 1) * k])
            n_tokens += sum(lengths)
            bar.update(len(idx) * k * (n // draws))
            bar.set_postfix(tok_s=f"{n_tokens / (time.perf_counter() - start):.0f}")
    bar.close()
    if greedy and n > 1:
        texts = [t * n for t in texts]
        counts = [c * n for c in counts]
    return texts, counts


def _continuous(model, tokenizer, encoded, draws, temperature, top_p, max_new_tokens, batch_size, seed, desc, eos):
    """`draws` completions of each encoded prompt through the continuous-batching loop; eos stripped."""
    rows = [ids for ids in encoded for _ in range(draws)]  # sequence i * draws + j: prompt i, sample j
    start = time.perf_counter()
    bar = tqdm(total=len(rows), desc=desc, unit="seq", file=sys.stderr, dynamic_ncols=True)
    seqs = continuous.decode(model, rows, eos_ids=[eos], max_new_tokens=max_new_tokens, slots=batch_size,
                             temperature=temperature, top_p=top_p, seed=seed, on_done=bar.update)
    lengths = [len(s) - 1 if s and s[-1] == eos else len(s) for s in seqs]
    bar.set_postfix(tok_s=f"{sum(lengths) / (time.perf_counter() - start):.0f}")
    bar.close()
    decoded = tokenizer.batch_decode([s[:m] for s, m in zip(seqs, lengths)], skip_special_tokens=True,
                                     clean_up_tokenization_spaces=False)
    texts = [decoded[i * draws:(i + 1) * draws] for i in range(len(encoded))]
    counts = [lengths[i * draws:(i + 1) * draws] for i in range(len(encoded))]
    return texts, counts


@contextlib.contextmanager
def cpu_threads(n: int):
    """torch's intra-op CPU threads set to `n` for the block (0: unchanged). Tiny models barely gain from a second
    thread, and OpenMP threads that wait on a busy core make every step several times slower."""
    before = torch.get_num_threads()
    if n > 0:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _left_pad(rows: list[list[int]], pad: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for b, row in enumerate(rows):
        if row:
            ids[b, width - len(row):] = torch.tensor(row)
            mask[b, width - len(row):] = 1
    return ids.to(device), mask.to(device)


def _length(row: list[int], eos: int) -> int:
    """Generated tokens before the first eos (the rest is padding)."""
    return row.index(eos) if eos in row else len(row)


# ---------------------------------------------------------------------------------------------------------------------
# vLLM (GPU only). Thin on purpose and untested here: no GPU and no vllm on this machine.


def _vllm_generate(model, prompts, n, temperature, top_p, max_new_tokens, seed):
    if not isinstance(model, (str, Path)):
        raise TypeError("backend vllm loads the model itself: pass a saved model directory, not (model, tokenizer)")
    try:
        import vllm
    except ImportError:
        raise RuntimeError("generation.backend 'vllm' needs the vllm package and a CUDA GPU "
                           "(pip install -e '.[gpu]'); on CPU set generation.backend: hf") from None
    llm = _vllm_llm(str(model), seed)
    prompts = as_model_prompts(load_tokenizer(model), prompts)  # vLLM's prompts as the model reads them, like hf's
    params = vllm.SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed)
    outputs = llm.generate(prompts, params)
    return ([[c.text for c in o.outputs] for o in outputs], [[len(c.token_ids) for c in o.outputs] for o in outputs])


@functools.lru_cache(maxsize=1)
def _vllm_llm(model_dir: str, seed: int):
    import vllm

    return vllm.LLM(model=model_dir, seed=seed)


# ---------------------------------------------------------------------------------------------------------------------
# Faster MLA decoding. transformers caches DeepSeek's compressed KV latents and re-expands the whole cache through
# kv_b_proj at every step (cost grows with length; most of a decode step here). DeepSeek's own inference absorbs
# kv_b_proj into the query and the output instead, so a step attends over the latents directly. Same maths, checked
# against the stock forward in tests/unit/model/test_generate.py; prefill (several tokens) keeps the stock path.


@contextlib.contextmanager
def absorbed_mla(model):
    """Patch every DeepseekV3 attention of `model` for one-token decode steps, for the duration of the block."""
    patched = [m for m in model.modules() if type(m).__name__ == "DeepseekV3Attention"]
    for module in patched:
        module.forward = functools.partial(_absorbed_forward, module, module.forward)
    try:
        yield
    finally:
        for module in patched:
            del module.forward  # back to the class's forward


def _absorbed_forward(self, stock, hidden_states, position_embeddings=None, attention_mask=None, cache=None,
                      **kwargs):
    cache = cache if cache is not None else kwargs.pop("past_key_values", None)
    batch, seq = hidden_states.shape[:2]
    if seq != 1 or cache is None or self.training:
        return stock(hidden_states, position_embeddings=position_embeddings, attention_mask=attention_mask,
                     cache=cache, **kwargs)
    from transformers.models.deepseek_v3 import modeling_deepseek_v3 as ds

    heads, nope, rope, rank = self.num_heads, self.qk_nope_head_dim, self.qk_rope_head_dim, self.kv_lora_rank
    q = self.q_proj(hidden_states) if self.q_lora_rank is None else \
        self.q_b_proj(self.q_a_layernorm(self.q_a_proj(hidden_states)))
    q_pass, q_rot = q.view(batch, 1, heads, nope + rope).transpose(1, 2).split([nope, rope], dim=-1)
    latent, k_rot = self.kv_a_proj_with_mqa(hidden_states).split([rank, rope], dim=-1)
    latent = self.kv_a_layernorm(latent).view(batch, 1, 1, rank)
    k_rot = k_rot.view(batch, 1, 1, rope)
    rotate = ds.apply_rotary_pos_emb_interleave if self.config.rope_interleave else ds.apply_rotary_pos_emb
    q_rot, k_rot = rotate(q_rot, k_rot, *position_embeddings)
    latent, k_rot = cache.update(latent, k_rot, self.layer_idx, kwargs=kwargs)  # [B, 1, L, rank], [B, 1, L, rope]
    w = self.kv_b_proj.weight.view(heads, nope + self.v_head_dim, rank)
    q_latent = torch.einsum("bhd,hdr->bhr", q_pass[:, :, 0], w[:, :nope])
    # heads play the role of query positions: one [B, H, rank+rope] x [B, rank+rope, L] product, no expansion
    query = torch.cat([q_latent, q_rot[:, :, 0]], dim=-1).unsqueeze(1)  # [B, 1, H, rank+rope]
    key = torch.cat([latent, k_rot], dim=-1)  # [B, 1, L, rank+rope]
    scores = (query @ key.transpose(-1, -2)).float() * self.scaling  # [B, 1, H, L]
    if attention_mask is not None:
        mask = attention_mask[..., -1:, : key.shape[-2]]  # [B, 1, 1, L]
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask
    out = scores.softmax(dim=-1).to(latent.dtype) @ latent  # [B, 1, H, rank]
    out = torch.einsum("bhr,hvr->bhv", out[:, 0], w[:, nope:])  # [B, H, v]
    return self.o_proj(out.reshape(batch, 1, heads * self.v_head_dim)), None
