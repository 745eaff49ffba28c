"""The reward models of the general-RL stage: training one (TRL's RewardTrainer) and using it as a GRPO reward.

R1's general RL used two reward models: **helpfulness**, judged on the final summary only (so the reasoning is not
pushed around by a preference model), and **harmlessness**, judged on the whole response, reasoning included (so
harm cannot hide in the CoT); r1.verify.rewards.PREFERENCE_REWARDS names them and what each judges. Each is a
sequence classifier (one score) on the base's backbone, trained on preference pairs (r1.data.preferences); a held-out
share of the pairs measures accuracy (chosen scored above rejected).

GRPO uses them through `reward_function(name, root)`: a model reward from `root/<name>` for a preference reward, else
the rule reward of that name (r1.verify.rewards), each in TRL's signature `(completions, **columns) -> list[float |
None]` and masked to its own rows: model rewards judge general rows, rule rewards reasoning-task rows, the other rows
get None.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path
from typing import Callable

import polars as pl

from r1.build import distributed
from r1.build.clock import NO_CAP, Cap
from r1.build.log import logger
from r1.config import RewardModelsConfig
from r1.data.preferences import summary_of
from r1.tasks import FAMILIES
from r1.verify.answer import text_of
from r1.verify.rewards import PREFERENCE_REWARDS

log = logger("reward_models")


# ---------------------------------------------------------------------------------------------------------------------
# What a reward model reads.


def rm_text(prompt: str, response: str) -> str:
    return f"User: {prompt}\nAssistant: {response}"


def judged_part(name: str, response: str) -> str:
    return summary_of(response) if PREFERENCE_REWARDS[name] == "summary" else text_of(response)


# ---------------------------------------------------------------------------------------------------------------------
# Training.


def load_classifier(init: Path | str):
    """A one-score sequence classifier on `init`'s backbone (a causal LM directory), with its tokenizer."""
    import torch
    from transformers import AutoModelForSequenceClassification

    from r1.model.modeling import load_tokenizer

    tok = load_tokenizer(init)
    model = AutoModelForSequenceClassification.from_pretrained(str(init), num_labels=1, dtype=torch.float32)
    model.config.pad_token_id = tok.pad_token_id
    return model, tok


@functools.lru_cache(maxsize=4)
def _load_scorer(model_dir: str):
    import torch
    from transformers import AutoModelForSequenceClassification

    from r1.model.modeling import load_tokenizer

    tok = load_tokenizer(model_dir)
    tok.padding_side = "right"
    model = AutoModelForSequenceClassification.from_pretrained(model_dir, dtype=torch.float32).eval()
    return model, tok


def score_texts(model_dir: str | Path | tuple, texts: list[str], batch_size: int = 32,
                max_length: int = 256) -> list[float]:
    import torch

    model, tok = _load_scorer(str(model_dir)) if isinstance(model_dir, (str, Path)) else model_dir
    side, tok.padding_side = tok.padding_side, "right"  # the classifier pools the last non-pad token
    out: list[float] = []
    with torch.inference_mode():
        for lo in range(0, len(texts), batch_size):
            enc = tok([t + tok.eos_token for t in texts[lo:lo + batch_size]], return_tensors="pt", padding=True,
                      truncation=True, max_length=max_length)
            out.extend(model(**enc).logits.squeeze(-1).float().tolist())
    tok.padding_side = side
    return out


def pair_accuracy(scorer, pairs: pl.DataFrame, name: str, max_length: int) -> float:
    if pairs.is_empty():
        return float("nan")
    chosen = score_texts(scorer, [rm_text(p, judged_part(name, c)) for p, c in zip(pairs["prompt"], pairs["chosen"])],
                         max_length=max_length)
    rejected = score_texts(scorer, [rm_text(p, judged_part(name, r))
                                    for p, r in zip(pairs["prompt"], pairs["rejected"])], max_length=max_length)
    return sum(c > r for c, r in zip(chosen, rejected)) / len(pairs)


def train_one(name: str, init: Path, pairs: pl.DataFrame, out_dir: Path, cfg: RewardModelsConfig, seed: int,
              work_dir: Path, cap: Cap = NO_CAP) -> dict:
    """Train one reward model on `pairs` (the part it judges) from `init`'s backbone, save it into `out_dir`, return
    its metrics (with the training `seconds`, which the stage moves to its run sidecar). `work_dir` is the Trainer's
    output directory; it saves no checkpoints (minutes of training: a rerun retrains)."""
    import torch
    from datasets import Dataset
    from trl import RewardConfig, RewardTrainer

    from r1.model.modeling import save_trained
    from r1.train.callbacks import TimeCap

    started = time.time()
    n_held = max(1, int(len(pairs) * cfg.heldout_share))
    shuffled = pairs.sample(fraction=1.0, shuffle=True, seed=seed)
    held, train = shuffled.head(n_held), shuffled.slice(n_held)
    model, tok = load_classifier(init)
    tok.padding_side = "right"
    data = Dataset.from_dict({
        "chosen": [rm_text(p, judged_part(name, c)) for p, c in zip(train["prompt"], train["chosen"])],
        "rejected": [rm_text(p, judged_part(name, r)) for p, r in zip(train["prompt"], train["rejected"])],
    })
    before = pair_accuracy((model.eval(), tok), held, name, cfg.max_length)

    args = RewardConfig(
        output_dir=str(work_dir),
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio
        weight_decay=cfg.weight_decay,
        max_length=cfg.max_length,
        center_rewards_coefficient=cfg.center_rewards_coefficient,
        logging_steps=cfg.logging_steps,
        save_strategy="no",  # minutes of training: a rerun retrains
        bf16=cfg.bf16,
        use_cpu=not torch.cuda.is_available(),
        seed=seed,
        data_seed=seed,
        report_to="none",
        disable_tqdm=True,
        eos_token=tok.eos_token,
    )
    timecap = TimeCap(cap, log)  # no checkpoints here (minutes of training): a stopped run starts over
    trainer = RewardTrainer(model=model, args=args, train_dataset=data, processing_class=tok, callbacks=[timecap])
    result = trainer.train()
    timecap.raise_if_stopped(trainer.state.max_steps, work_dir)
    distributed.report_params(trainer, log)  # several processes: each rank's weights, for the record
    model = trainer.model.eval()
    after = pair_accuracy((model, tok), held, name, cfg.max_length)
    tok.padding_side = "left"
    out_dir.mkdir(parents=True, exist_ok=True)
    save_trained(trainer, tok, out_dir)
    metrics = {"pairs": len(pairs), "train_pairs": len(train), "heldout_pairs": len(held),
               "judges": PREFERENCE_REWARDS[name],
               "heldout_accuracy_before": round(before, 4), "heldout_accuracy": round(after, 4),
               "steps": int(trainer.state.global_step), "train_loss": round(float(result.training_loss), 5),
               "seconds": round(time.time() - started, 1)}
    log(f"{name}: {metrics}")
    return metrics


# ---------------------------------------------------------------------------------------------------------------------
# Rewards for GRPO.


class ModelReward:
    """A reward model as a TRL reward function. Reads the raw user prompt from the `question` column (else
    `prompt`); rows whose `kind` is a reasoning task get None (rule rewards judge those). Loads lazily; picklable."""

    def __init__(self, name: str, model_dir: Path | str, batch_size: int = 32, max_length: int = 256,
                 active: Callable[..., bool] | None = None):
        if name not in PREFERENCE_REWARDS:
            raise KeyError(f"unknown model reward {name!r}; known: {list(PREFERENCE_REWARDS)}")
        self.__name__ = name  # TRL logs a reward under its function's name
        self.name, self.model_dir, self.batch_size, self.max_length = name, str(model_dir), batch_size, max_length
        self.active = active

    def __call__(self, completions, prompts=None, question=None, kind=None, trainer_state=None,
                 **_) -> list[float | None]:
        n = len(completions)
        asked = list(question) if question is not None else [text_of(p) for p in (prompts or [""] * n)]
        kinds = list(kind) if kind is not None else [None] * n
        rows = [i for i in range(n) if kinds[i] not in FAMILIES]
        out: list[float | None] = [None] * n
        if not rows or (self.active is not None and not self.active(trainer_state)):
            return out
        texts = [rm_text(asked[i], judged_part(self.name, completions[i])) for i in rows]
        for i, s in zip(rows, score_texts(self.model_dir, texts, self.batch_size, self.max_length)):
            out[i] = s
        return out

    def __repr__(self):
        return f"ModelReward({self.name!r}, {self.model_dir!r})"


class RuleOnReasoning:
    """A rule reward from r1.verify.rewards, applied to reasoning-task rows only (general rows get None)."""

    def __init__(self, name: str):
        from r1.verify import rewards

        self.fn = rewards.get(name)
        self.__name__ = name

    def __call__(self, completions, kind=None, **columns) -> list[float | None]:
        kinds = list(kind) if kind is not None else [None] * len(completions)
        rows = [i for i, k in enumerate(kinds) if k in FAMILIES]
        out: list[float | None] = [None] * len(completions)
        if rows:
            sub = {c: [v[i] for i in rows] for c, v in columns.items()
                   if isinstance(v, (list, tuple)) and len(v) == len(completions)}
            for i, s in zip(rows, self.fn([completions[i] for i in rows], kind=[kinds[i] for i in rows], **sub)):
                out[i] = s
        return out


class PreferenceSchedule:
    """Whether preference rewards count yet: from `start` (a fraction of `max_steps`) of training on, by the step
    alone, so the switch falls at the same step on any machine. R1 used them only in the last 400 of 1,700 steps.
    Reads TRL's `trainer_state` (passed to every reward function)."""

    def __init__(self, start: float, max_steps: int):
        self.start, self.max_steps = start, max_steps

    def progress(self, trainer_state=None) -> float:
        step = getattr(trainer_state, "global_step", 0) or 0
        return step / max(self.max_steps, 1)

    def __call__(self, trainer_state=None) -> bool:
        return self.progress(trainer_state) >= self.start


def reward_function(name: str, root: Path | str, active: Callable[..., bool] | None = None):
    """A model reward from `root/<name>` (a `reward_models` artifact; general rows only, when `active`) for a
    preference reward, else the rule reward `name` (reasoning rows only); UnknownReward for any other name."""
    from r1.verify import rewards

    if name in PREFERENCE_REWARDS:
        path = Path(root) / name
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"reward {name!r}: no reward model in {path}; build `reward_models` first")
        return ModelReward(name, path, active=active)
    rewards.get(name)  # raises UnknownReward naming the known ones
    return RuleOnReasoning(name)
