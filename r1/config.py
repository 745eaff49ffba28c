"""Typed, validated configuration.

`params.yaml` is the default profile. A profile overlay `configs/<name>.yaml` is deep-merged over it. The merged
mapping is validated against one dataclass per stage before any work starts: a missing key, an unknown (misspelt)
key or a wrong type is an error that names the key. Pure Python on purpose: Snakemake validates at parse time.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

ROOT = Path(__file__).resolve().parent.parent
PARAMS_FILE = "params.yaml"
PROFILES_DIR = "configs"


class ConfigError(ValueError):
    """A params problem; the message names the key."""


# --------------------------------------------------------------------------------------------------------------------
# Stage configs. Each field is a params key; `help` says what it is and what constrains it.


@dataclass(frozen=True)
class TasksConfig:
    """`tasks`: verifiable task pools (parquet), split into train and held-out eval."""

    n_train: dict[str, int] = field(metadata={"help": "train items per family (math, countdown, code)"})
    n_eval: dict[str, int] = field(metadata={"help": "held-out items per family"})
    decontam_ngram: int = field(metadata={"help": "no eval item shares a word n-gram of this size with train"})
    math_max_operand: int = field(metadata={"help": "largest operand in arithmetic word problems"})
    math_max_ops: int = field(metadata={"help": "most operations in an arithmetic problem"})
    countdown_numbers: int = field(metadata={"help": "how many numbers a countdown task gives"})
    countdown_max_number: int = field(metadata={"help": "largest number in a countdown task"})

    def __post_init__(self):
        for key in ("n_train", "n_eval"):
            unknown = set(getattr(self, key)) - set(FAMILIES)
            if unknown:
                raise ConfigError(f"{key}: unknown families {sorted(unknown)}; known: {list(FAMILIES)}")


FAMILIES = ("math", "countdown", "code")


@dataclass(frozen=True)
class ModelShape:
    """A miniature DeepSeek-V3: MLA attention, first layers dense, MoE after."""

    hidden_size: int
    intermediate_size: int = field(metadata={"help": "dense MLP width"})
    moe_intermediate_size: int = field(metadata={"help": "each expert's MLP width"})
    num_hidden_layers: int
    first_k_dense_replace: int = field(metadata={"help": "how many first layers are dense (no MoE)"})
    num_attention_heads: int
    n_routed_experts: int
    n_shared_experts: int
    num_experts_per_tok: int
    q_lora_rank: int | None
    kv_lora_rank: int
    qk_nope_head_dim: int
    qk_rope_head_dim: int
    v_head_dim: int
    max_position_embeddings: int

    def __post_init__(self):
        if self.first_k_dense_replace > self.num_hidden_layers:
            raise ConfigError("first_k_dense_replace: larger than num_hidden_layers")
        if self.num_experts_per_tok > self.n_routed_experts:
            raise ConfigError("num_experts_per_tok: larger than n_routed_experts")


@dataclass(frozen=True)
class BaseConfig:
    """`base`: tokenizer + a miniature DeepSeek-V3 pretrained from scratch, or an imported checkpoint."""

    source: Literal["scratch", "hf_dir", "gguf"] = field(metadata={"help": "scratch | hf_dir | gguf"})
    import_path: str | None = field(metadata={"help": "HF directory or GGUF file (source hf_dir/gguf); "
                                                      "'pkg:<module>/<file>' finds it inside an installed package"})
    vocab_size: int
    model: ModelShape
    corpus_examples: int = field(metadata={"help": "synthetic pretraining documents"})
    reflection_rate: float = field(metadata={"help": "share of corpus traces with a check or a corrected error"})
    error_rate: float = field(metadata={"help": "share of corpus traces that end in a wrong answer"})
    seq_len: int
    batch_size: int
    learning_rate: float
    warmup_steps: int
    max_steps: int
    max_minutes: float = field(metadata={"help": "wall-clock cap on pretraining; stops early, saving the model"})
    bf16: bool

    def __post_init__(self):
        if self.source != "scratch" and not self.import_path:
            raise ConfigError(f"import_path: required when base.source is {self.source!r}")
        for key in ("reflection_rate", "error_rate"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"{key}: must lie in [0, 1]")


@dataclass(frozen=True)
class GRPOStageConfig:
    """A GRPO stage (`r1_zero`, and later the reasoning and general RL stages). TRL's defaults moved between
    versions, so every setting that matters is a params key."""

    rewards: dict[str, float] = field(metadata={"help": "reward name -> weight; names from r1.rewards registry"})
    num_generations: int = field(metadata={"help": "group size G"})
    generation_batch_size: int = field(metadata={"help": "completions per step; must be divisible by G"})
    gradient_accumulation_steps: int
    learning_rate: float
    lr_scheduler_type: str
    warmup_ratio: float
    beta: float = field(metadata={"help": "KL coefficient"})
    loss_type: Literal["grpo", "bnpo", "dr_grpo", "dapo"]
    epsilon: float = field(metadata={"help": "clip range (low)"})
    epsilon_high: float = field(metadata={"help": "clip range (high)"})
    scale_rewards: Literal["group", "batch", "none"]
    num_iterations: int
    temperature: float
    top_p: float
    max_prompt_length: int
    max_completion_length: int
    max_steps: int
    max_minutes: float = field(metadata={"help": "wall-clock cap; stops early, saving the model"})
    save_steps: int
    logging_steps: int
    bf16: bool

    def __post_init__(self):
        if self.generation_batch_size % self.num_generations:
            raise ConfigError(
                f"generation_batch_size: {self.generation_batch_size} is not divisible by num_generations "
                f"{self.num_generations} (GRPO needs whole groups)")
        if self.num_generations < 2:
            raise ConfigError("num_generations: GRPO needs at least 2 generations per prompt")
        if not self.rewards:
            raise ConfigError("rewards: at least one reward is needed")


@dataclass(frozen=True)
class EvalConfig:
    """`eval`: pass@1 over k samples at T=0.6, top-p 0.95; cons@k; pass@k; lengths; format and reflection rates."""

    models: list[str] = field(metadata={"help": "model artifacts to evaluate, in report order"})
    k: int
    temperature: float
    top_p: float
    max_new_tokens: int
    batch_size: int
    max_items_per_family: int | None = field(metadata={"help": "cap on eval items per family (None: all)"})

    def __post_init__(self):
        if self.k < 1:
            raise ConfigError("k: must be at least 1")


@dataclass(frozen=True)
class GenerationConfig:
    backend: Literal["hf", "vllm"] = field(metadata={"help": "hf: batched transformers generate; vllm: GPU only"})
    device: Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class Params:
    """The whole params.yaml."""

    profile: str = field(metadata={"help": "name of the overlay in configs/ that this config came from"})
    seed: int
    generation: GenerationConfig
    tasks: TasksConfig
    base: BaseConfig
    r1_zero: GRPOStageConfig
    eval: EvalConfig

    def __post_init__(self):
        for i, name in enumerate(self.eval.models):
            if name not in MODEL_STAGES:
                raise ConfigError(f"eval.models[{i}]: unknown model {name!r}; known: {list(MODEL_STAGES)}")


MODEL_STAGES = ("base", "r1_zero")

# --------------------------------------------------------------------------------------------------------------------
# Loading and validation.


def deep_merge(base: dict, overlay: dict, path: str = "") -> dict:
    """Overlay values win; mappings merge key by key. An overlay key absent from the base is an error."""
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        where = f"{path}{key}"
        if key not in merged:
            raise ConfigError(f"{where}: unknown key in overlay{_suggest(key, merged)}")
        if isinstance(value, dict) and isinstance(merged[key], dict):
            merged[key] = deep_merge(merged[key], value, where + ".")
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def load_raw(profile: str | None = None, root: Path | str | None = None) -> dict:
    """params.yaml merged with configs/<profile>.yaml (profile None: the one params.yaml names)."""
    root = Path(root) if root else ROOT
    raw = _read_yaml(root / PARAMS_FILE)
    profile = profile or raw.get("profile", "default")
    overlay_path = root / PROFILES_DIR / f"{profile}.yaml"
    if not overlay_path.exists():
        known = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml"))
        raise ConfigError(f"profile: no overlay {overlay_path.relative_to(root)}; known profiles: {known}")
    merged = deep_merge(raw, _read_yaml(overlay_path))
    merged["profile"] = profile
    return merged


def load(profile: str | None = None, root: Path | str | None = None) -> Params:
    return validate(load_raw(profile, root))


def validate(raw: dict) -> Params:
    return _build(Params, raw, "")


def section_dict(raw: dict, section: str) -> dict:
    """The raw mapping of one section, for saving beside an artifact."""
    return raw[section]


def to_dict(obj: Any) -> Any:
    return dataclasses.asdict(obj) if dataclasses.is_dataclass(obj) else obj


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def _suggest(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _build(cls, raw: Any, path: str):
    if not isinstance(raw, dict):
        raise ConfigError(f"{path.rstrip('.') or 'params'}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for key in raw:
        if key not in fields:
            raise ConfigError(f"{path}{key}: unknown key{_suggest(key, fields)}")
    values = {}
    for name in fields:
        if name not in raw:
            raise ConfigError(f"{path}{name}: missing key")
        values[name] = _coerce(hints[name], raw[name], f"{path}{name}")
    try:
        return cls(**values)
    except ConfigError as err:
        raise ConfigError(f"{path}{err}") from None


def _coerce(tp, value, path):
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, path + ".")
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, path)
            except ConfigError as err:
                errors.append(str(err))
        raise ConfigError(errors[0] if errors else f"{path}: must not be null")
    if origin is Literal:
        if value not in args:
            raise ConfigError(f"{path}: {value!r} is not one of {list(args)}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise ConfigError(f"{path}: expected a list, got {_tname(value)}")
        return [_coerce(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: expected a mapping, got {_tname(value)}")
        return {_coerce(args[0], k, f"{path}.{k}"): _coerce(args[1], v, f"{path}.{k}") for k, v in value.items()}
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{path}: expected a number, got {_tname(value)}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{path}: expected an integer, got {_tname(value)}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: expected true or false, got {_tname(value)}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{path}: expected a string, got {_tname(value)}")
        return value
    raise TypeError(f"{path}: unsupported config type {tp}")


def _tname(value) -> str:
    return "null" if value is None else f"{type(value).__name__} {value!r}"
