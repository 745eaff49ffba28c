"""Continuous batching for the miniature DeepSeek-V3: a decode loop in which a finished row's slot takes the next
prompt at once, so a batch never idles while its longest completion finishes.

    seqs = decode(model, prompt_ids, eos_ids=[eos], max_new_tokens=96, slots=64, temperature=0.7, top_p=0.95,
                  seed=s)   # one list of token ids per prompt (eos included when reached), in input order

Why our own loop: transformers' `generate` keeps every row of a batch until the longest is done (at 256 rows a
forced-length decode runs ~4x faster than one where finished rows idle), and its `generate_batch` (paged attention)
ran ~10x slower than `generate` on this CPU. Same maths as the stock forward (tests/unit/model/test_continuous.py):
the KV cache holds MLA's compressed latents, one row a slot, each with its own positions (a prompt starts at position
0, as HF's left-padded generate places it); attention is the absorbed form (kv_b_proj folded into the query and the
output, as in r1.model.generate.absorbed_mla), for prefill and decode alike; norms, MoE and lm_head are the model's
own modules.

Sampling matches HF's for the settings the project uses: temperature, then top-p (HF's rule: drop the tokens whose
ascending cumulative probability is <= 1 - top_p, keep at least one), top_k off; temperature 0 is greedy. Seed
contract: the uniform that draws token t of sequence i is a hash of (seed, i, t), so a sequence's tokens depend on the
seed, its prompt and its index only, never on which slot it lands in, the slot count or what else is in flight.
A sequence is the same whatever `slots` is, up to float rounding of batched kernels (which may flip a near-tie).
"""

from __future__ import annotations

from typing import Sequence

import torch

# splitmix64 constants as signed int64 (torch has no uint64 arithmetic); products wrap modulo 2**64.
_GOLDEN = -7046029254386353131  # 0x9E3779B97F4A7C15
_MIX1 = -4658895280553007687  # 0xBF58476D1CE4E5B9
_MIX2 = -7723592293110705685  # 0x94D049BB133111EB


def supports(model) -> bool:
    """True for the architecture this loop implements (DeepSeek-V3 attention, no sliding window)."""
    return type(model).__name__ == "DeepseekV3ForCausalLM"


def _shr(x: torch.Tensor, s: int) -> torch.Tensor:
    """Logical right shift of int64 (torch's >> is arithmetic)."""
    return (x >> s) & ((1 << (64 - s)) - 1)


def uniforms(seed: int, seq: torch.Tensor, step: torch.Tensor) -> torch.Tensor:
    """A float64 in [0, 1) for each (sequence, step): splitmix64 of the three, so a draw names its row, not its slot."""
    x = (seq * 1_000_003 + step) * _GOLDEN + (seed & 0x7FFFFFFF) * 0x5851F42D
    x = x + _GOLDEN
    x = (x ^ _shr(x, 30)) * _MIX1
    x = (x ^ _shr(x, 27)) * _MIX2
    x = x ^ _shr(x, 31)
    return _shr(x, 11).double() / float(1 << 53)


def sample(logits: torch.Tensor, u: torch.Tensor, temperature: float, top_p: float, window: int = 64) -> torch.Tensor:
    """One token per row of `logits` [B, V] by inverse CDF at `u` [B] over the kept tokens in descending probability:
    HF's temperature + top-p distribution. HF drops a token when the ascending cumulative probability up to it is
    <= 1 - top_p, i.e. keeps it while the mass of the tokens above it is < top_p: a prefix of the descending order.
    That prefix is looked for in the top `window` tokens first (a full sort costs ~5 ms a step at this vocabulary);
    a row whose prefix is longer is sorted in full. Either way the same descending order: the seed contract holds."""
    if temperature <= 0:
        return logits.argmax(-1)
    probs = (logits.float() / temperature).softmax(-1)
    if top_p >= 1.0:  # every token kept: the vocabulary order will do
        return _pick(probs, None, u, top_p)
    k = min(window, probs.shape[1])
    top, index = probs.topk(k, dim=-1) if k < probs.shape[1] else probs.sort(dim=-1, descending=True)
    short = top.sum(-1) < top_p  # the kept prefix may run past the window
    if k < probs.shape[1] and short.any():
        full, full_index = probs[short].sort(dim=-1, descending=True)
        return _pick(full, full_index, u[short], top_p, short, _pick(top, index, u, top_p))
    return _pick(top, index, u, top_p)


def _pick(top, index, u, top_p, rows=None, into=None):
    """Inverse CDF at `u` over `top` [B, K] (probabilities; `index` maps a column to its token, None: the column is
    the token), keeping the prefix whose mass above each token is < top_p; the result lands in `into[rows]` if given."""
    kept = top.masked_fill(top.cumsum(-1) - top >= top_p, 0.0) if top_p < 1.0 else top
    cdf = kept.double().cumsum(-1)
    # the count of cdf entries <= u * total: a flat stretch (a dropped token) is passed over, so only the clamp at the
    # end can land on a zero entry, when rounding puts u * total at or past the total
    pick = torch.searchsorted(cdf, (u * cdf[:, -1]).unsqueeze(1), right=True)[:, 0].clamp_(max=top.shape[1] - 1)
    if (kept.gather(1, pick[:, None]) <= 0).any():  # step back to the last kept entry
        nonzero = torch.arange(top.shape[1], device=top.device)[None].expand_as(kept).masked_fill(kept <= 0, -1)
        pick = torch.minimum(pick, nonzero.max(-1).values.clamp_(min=0))
    token = pick if index is None else index.gather(1, pick[:, None])[:, 0]
    if rows is None:
        return token
    into = into.clone()
    into[rows] = token
    return into


class _Cache:
    """Per-layer latent cache [slots, length, kv_lora_rank + rope]: the key; its first `rank` columns are the value."""

    def __init__(self, layers: int, slots: int, length: int, width: int, dtype, device):
        self.kv = [torch.zeros(slots, length, width, dtype=dtype, device=device) for _ in range(layers)]

    def take(self, keep: torch.Tensor) -> None:
        self.kv = [c.index_select(0, keep) for c in self.kv]

    def copy(self, src: torch.Tensor, dst: torch.Tensor, width: int) -> None:
        """Slots `dst` get the first `width` positions of slots `src` (one prompt's prefill serves its repeats)."""
        for c in self.kv:
            c[dst, :width] = c[src, :width]


class _Model:
    """The forward of DeepseekV3ForCausalLM over slots that each hold one sequence at its own positions."""

    def __init__(self, model):
        self.model, self.cfg = model, model.config
        inner = model.model
        self.embed, self.layers, self.norm, self.rotary = inner.embed_tokens, inner.layers, inner.norm, inner.rotary_emb
        self.head = model.lm_head
        from transformers.models.deepseek_v3 import modeling_deepseek_v3 as ds

        self.rotate = ds.apply_rotary_pos_emb_interleave if self.cfg.rope_interleave else ds.apply_rotary_pos_emb
        att = self.layers[0].self_attn
        self.heads, self.nope, self.rope = att.num_heads, att.qk_nope_head_dim, att.qk_rope_head_dim
        self.rank, self.v = att.kv_lora_rank, att.v_head_dim
        # kv_b_proj split per head once: [H, nope, rank] for the query, [H, v, rank] for the output
        self.w_q, self.w_o = [], []
        for layer in self.layers:
            w = layer.self_attn.kv_b_proj.weight.view(self.heads, self.nope + self.v, self.rank)
            self.w_q.append(w[:, :self.nope])
            self.w_o.append(w[:, self.nope:])

    def forward(self, cache: _Cache, tokens: torch.Tensor, rows: torch.Tensor | None, start: torch.Tensor,
                last: torch.Tensor, span: int) -> torch.Tensor:
        """Logits [B, V] at column `last` [B] of `tokens` [B, S], the rows' tokens from position `start` [B]. `rows`
        are the cache slots (None: all slots, in order); keys are read up to `span` positions."""
        batch, seq = tokens.shape
        positions = start[:, None] + torch.arange(seq, device=tokens.device)
        hidden = self.embed(tokens)
        cos, sin = self.rotary(hidden, positions)
        keys = torch.arange(span, device=tokens.device)
        mask = (keys[None, None, :] > positions[:, :, None]).unsqueeze(2)  # [B, S, 1, T]: future or unwritten
        for i, layer in enumerate(self.layers):
            hidden = hidden + self._attention(layer.self_attn, i, cache, layer.input_layernorm(hidden), rows,
                                              positions, cos, sin, mask, span)
            hidden = hidden + layer.mlp(layer.post_attention_layernorm(hidden))
        hidden = hidden[torch.arange(batch, device=tokens.device), last]
        return self.head(self.norm(hidden))

    def _attention(self, att, i, cache, x, rows, positions, cos, sin, mask, span):
        batch, seq = x.shape[:2]
        q = att.q_proj(x) if att.q_lora_rank is None else att.q_b_proj(att.q_a_layernorm(att.q_a_proj(x)))
        q_pass, q_rot = q.view(batch, seq, self.heads, self.nope + self.rope).transpose(1, 2).split(
            [self.nope, self.rope], dim=-1)  # [B, H, S, .]
        latent, k_rot = att.kv_a_proj_with_mqa(x).split([self.rank, self.rope], dim=-1)
        latent = att.kv_a_layernorm(latent)
        q_rot, k_rot = self.rotate(q_rot, k_rot.unsqueeze(1), cos, sin)  # [B, H, S, rope], [B, 1, S, rope]
        new = torch.cat([latent, k_rot[:, 0]], dim=-1)  # [B, S, rank + rope]
        kv = cache.kv[i]
        if rows is None:  # decode over every slot: write in place, read a slice
            if seq == 1:
                kv[torch.arange(batch, device=x.device), positions[:, 0]] = new[:, 0]
            else:
                kv[torch.arange(batch, device=x.device)[:, None], positions] = new
            key = kv[:, :span]
        else:
            kv[rows[:, None], positions] = new
            key = kv[rows, :span]
        q_latent = torch.einsum("bhsd,hdr->bshr", q_pass, self.w_q[i])
        query = torch.cat([q_latent, q_rot.transpose(1, 2)], dim=-1)  # [B, S, H, rank + rope]
        scores = torch.einsum("bshc,btc->bsht", query, key).float() * att.scaling
        scores = scores.masked_fill(mask, float("-inf"))
        out = torch.einsum("bsht,btr->bshr", scores.softmax(-1).to(key.dtype), key[..., :self.rank])
        out = torch.einsum("bshr,hvr->bshv", out, self.w_o[i])
        return att.o_proj(out.reshape(batch, seq, self.heads * self.v))


@torch.inference_mode()
def decode(model, prompts: Sequence[Sequence[int]], *, eos_ids: Sequence[int], max_new_tokens: int, slots: int,
           temperature: float = 1.0, top_p: float = 1.0, seed: int = 0, seq_ids: Sequence[int] | None = None,
           refill: float = 0.125, on_done=None) -> list[list[int]]:
    """Completion token ids for each prompt (token id lists, non-empty), eos included when one was drawn; at most
    `max_new_tokens` each. `slots` rows decode together; a finished row's slot takes the next prompt once at least
    `refill` of the slots are free (a prefill is a forward pass of its own, so refills are batched); a prompt repeated
    within a refill (a GRPO group, k eval samples) is prefilled once and its latents copied. `seq_ids` name
    the sequences for the seed contract (default: their index); `on_done(k)` is called with the number finished."""
    if not prompts:
        return []
    if max_new_tokens < 1:
        return [[] for _ in prompts]
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token")
    device = model.device
    net = _Model(model)
    ids = list(range(len(prompts))) if seq_ids is None else list(seq_ids)
    slots = max(1, min(slots, len(prompts)))
    length = max(len(p) for p in prompts) + max_new_tokens
    cache = _Cache(len(net.layers), slots, length, net.rank + net.rope, model.dtype, device)
    eos = torch.tensor(sorted(set(eos_ids)), dtype=torch.long, device=device)
    queue = list(range(len(prompts)))[::-1]  # pop() takes prompts in input order
    out: list[list[int] | None] = [None] * len(prompts)
    # slot state: which prompt, next write position, tokens drawn so far, the tokens themselves
    owner = torch.full((slots,), -1, dtype=torch.long)
    pos = torch.zeros(slots, dtype=torch.long, device=device)
    drawn = torch.zeros(slots, dtype=torch.long, device=device)
    seqid = torch.zeros(slots, dtype=torch.long, device=device)
    buf = torch.zeros(slots, max_new_tokens, dtype=torch.long, device=device)
    last = torch.zeros(slots, dtype=torch.long, device=device)
    min_free = max(1, int(slots * refill))

    def draw(logits, rows):
        u = uniforms(seed, seqid[rows], drawn[rows])
        tok = sample(logits, u, temperature, top_p)
        buf[rows, drawn[rows]] = tok
        drawn[rows] += 1
        last[rows] = tok
        return tok

    def retire(rows_done):
        for s in rows_done.tolist():
            n = int(drawn[s])
            out[int(owner[s])] = buf[s, :n].tolist()
            owner[s] = -1
            drawn[s] = 0
        if on_done:
            on_done(len(rows_done))

    def finished(tok, rows):
        return torch.isin(tok, eos) | (drawn[rows] >= max_new_tokens)

    while True:
        free = (owner < 0).nonzero()[:, 0]
        if queue and (len(free) >= min_free or len(free) == slots):
            take = free[:len(queue)]
            new = [queue.pop() for _ in range(len(take))]
            # a prompt repeated in the refill (a GRPO group, k eval samples) is prefilled once; its latents copied
            index: dict[tuple, int] = {}  # prompt -> its row in the prefill
            firsts, which = [], []  # the refill row that carries each distinct prompt; each row's prefill row
            for r, p in enumerate(new):
                key = tuple(prompts[p])
                if key not in index:
                    index[key] = len(firsts)
                    firsts.append(r)
                which.append(index[key])
            unique = [prompts[new[r]] for r in firsts]
            width = max(len(p) for p in unique)
            tokens = torch.zeros(len(unique), width, dtype=torch.long)
            for r, p in enumerate(unique):
                tokens[r, :len(p)] = torch.as_tensor(p)
            lens = torch.tensor([len(p) for p in unique], device=device)
            owner[take] = torch.tensor(new)
            seqid[take] = torch.tensor([ids[p] for p in new], device=device)
            drawn[take] = 0
            take_d = take.to(device)
            which_d = torch.tensor(which, device=device)
            src = take_d[firsts]
            logits = net.forward(cache, tokens.to(device), src, torch.zeros_like(lens), lens - 1, width)
            if len(unique) < len(new):
                cache.copy(src[which_d], take_d, width)
                logits, lens = logits[which_d], lens[which_d]
            tok = draw(logits, take_d)
            pos[take_d] = lens
            done = finished(tok, take_d)
            if done.any():
                retire(take[done.cpu()])
        active = owner >= 0
        n_active = int(active.sum())
        if n_active == 0:
            if not queue:
                break
            continue
        if not queue and slots - n_active >= min_free:  # the tail: drop idle slots rather than compute them
            keep = active.nonzero()[:, 0]
            keep_d = keep.to(device)
            cache.take(keep_d)
            owner, pos, drawn, seqid, buf, last = (owner[keep], pos[keep_d], drawn[keep_d], seqid[keep_d],
                                                   buf[keep_d], last[keep_d])
            slots = len(keep)
            active = owner >= 0
        # every slot steps (idle ones write at position 0 of their own row, which a refill overwrites)
        step_pos = torch.where(active.to(device), pos, 0)
        span = int(step_pos.max()) + 1
        logits = net.forward(cache, last[:, None], None, step_pos, torch.zeros_like(pos), span)
        rows = torch.arange(slots, device=device)
        idle = ~active.to(device)
        saved = drawn.clone()
        tok = draw(logits, rows)
        drawn[idle] = saved[idle]  # idle slots drew nothing
        pos += active.to(device).long()
        done = finished(tok, rows) & active.to(device)
        if done.any():
            retire(done.nonzero()[:, 0].cpu())
    return out  # type: ignore[return-value]
