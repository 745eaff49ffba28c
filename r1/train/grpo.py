"""The GRPO runner (TRL GRPOTrainer), shared by the RL stages: `r1_zero`, `interim` and `rl_student` on the train
tasks (`train_on_tasks`), and `final` on its mix of task and general prompts.

    summary = run_grpo(model_dir, out_dir, cfg, rows, rewards, seed=seed, checkpoint_dir=paths.checkpoints(stage))

`rows` are dicts with a `prompt` (the full prompt text, template applied) plus the columns the rewards read (`kind`,
`answer`, `numbers`, `target`, `tests`, `entry_point`, ...). `rewards` maps each name of `cfg.rewards` to its reward
function (TRL's signature; TRL logs it as `rewards/<name>/mean`), weighted by `cfg.rewards`, in that order; a
zero-weight `reflection` probe (r1.tasks.schema.reflects) is added so the reflection rate of every step's completions
is logged. Every GRPO setting that matters is set from the stage config (TRL's defaults moved between versions).

Checkpoints (r1.build.checkpoints): `checkpoint_dir/<run key>/checkpoint-N`, the key naming this run's settings,
seed, start model and prompts, each checkpoint marked complete only after the Trainer wrote it; a rerun of the same
run resumes from the newest marked one, with the weights loaded as saved; a finished run removes them. Per-step
metrics are appended to `<run key>/metrics.tsv` as training goes (cut back to the resumed step on resume) and copied
to `out_dir/metrics.tsv`; the final model and tokenizer are saved to `out_dir` (the caller's atomic directory). The
seconds of each logged step go to the THROUGHPUT run sidecar beside it, so two runs with the same seed write the same
metrics.tsv and summary.
"""

from __future__ import annotations

import csv
import hashlib
import json
import random
import shutil
import time
from pathlib import Path
from typing import Callable

import polars as pl

from r1.build import checkpoints, distributed
from r1.build.artifacts import THROUGHPUT
from r1.build.clock import NO_CAP, Cap
from r1.build.log import logger
from r1.config import GRPOStageConfig, to_dict

METRICS = "metrics.tsv"
REFLECTION_PROBE = "reflection"
log = logger("grpo")


def _truncate_metrics(metrics_path: Path, step: int) -> None:
    """Keep rows up to `step` (the resumed checkpoint): the rest will be logged again."""
    if not metrics_path.exists():
        return
    lines = metrics_path.read_bytes().splitlines(keepends=True)  # bytes: the csv writer's "\r\n" stays as it is
    if not lines:
        return
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split(b"\t", 1)[0].isdigit() and int(ln.split(b"\t", 1)[0]) <= step]
    metrics_path.write_bytes(b"".join(keep))


def reflection_probe(completions, **_) -> list[float]:
    """1.0 when a completion re-checks itself (r1.tasks.schema.reflects); logged with weight 0."""
    from r1.tasks.schema import reflects
    from r1.verify.rewards import text_of

    return [1.0 if reflects(text_of(c)) else 0.0 for c in completions]


reflection_probe.__name__ = REFLECTION_PROBE


def grpo_args(cfg: GRPOStageConfig, output_dir: Path, seed: int, reward_weights: list[float],
              world_size: int | None = None):
    """TRL GRPOConfig with every setting that matters taken from the stage config. `generation_batch_size` is the
    completions of one optimizer step across the launch (`world_size` processes, from the launcher's environment by
    default); each process takes generation_batch_size / (world_size x gradient_accumulation_steps) of them. The
    launch's checks (the split, vLLM's GPU) are made here, where the trainer is built: a ConfigError naming the key."""
    import torch
    from trl import GRPOConfig

    cpu = not torch.cuda.is_available()
    per_device = cfg.check_launch(distributed.world_size() if world_size is None else world_size, cuda=not cpu)
    if per_device % cfg.num_generations and cfg.gradient_accumulation_steps > 1:
        log("note: a group spans several micro-batches")
    return GRPOConfig(
        output_dir=str(output_dir),
        use_cpu=cpu,  # TRL 1.16 needs it on CPU
        bf16=cfg.bf16,
        seed=seed,
        # one optimizer step per generation batch of `generation_batch_size` completions
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        generation_batch_size=cfg.generation_batch_size,
        num_generations=cfg.num_generations,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float < 1 is a ratio of the total steps
        weight_decay=0.0,
        max_grad_norm=1.0,
        beta=cfg.beta,
        loss_type=cfg.loss_type,
        epsilon=cfg.epsilon,
        epsilon_high=cfg.epsilon_high,
        scale_rewards=cfg.scale_rewards,
        num_iterations=cfg.num_iterations,
        multi_objective_aggregation="sum_then_normalize",
        importance_sampling_level="token",
        mask_truncated_completions=False,
        temperature=cfg.temperature,
        top_p=cfg.top_p,
        top_k=0,
        repetition_penalty=1.0,
        max_completion_length=cfg.max_completion_length,
        reward_weights=reward_weights,
        disable_dropout=True,
        use_vllm=cfg.use_vllm,
        vllm_mode=cfg.vllm_mode,
        vllm_gpu_memory_utilization=cfg.vllm_gpu_memory_utilization,
        vllm_tensor_parallel_size=cfg.vllm_tensor_parallel_size,
        max_steps=cfg.max_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        logging_steps=cfg.logging_steps,
        logging_first_step=True,
        report_to=[],
        log_completions=False,
        shuffle_dataset=True,
        dataloader_num_workers=0,
        remove_unused_columns=False,
    )


def as_model_rows(rows: list[dict], tokenizer) -> list[dict]:
    """Rows whose `prompt` is given as the model reads it (r1.model.modeling.as_model_prompts). When that changes
    the text, the task's own prompt stays in `question` (where the rewards look first), so a verifier never parses
    the chat template."""
    from r1.model.modeling import as_model_prompts, prompt_format

    if prompt_format(tokenizer) == "text":
        return rows
    given = as_model_prompts(tokenizer, [r["prompt"] for r in rows])
    return [{**r, "question": r.get("question", r["prompt"]), "prompt": p} for r, p in zip(rows, given)]


def _limit_prompts(rows: list[dict], tokenizer, max_prompt_length: int) -> list[dict]:
    """TRL 1.16 has no max_prompt_length: drop (never cut) prompts over the limit."""
    lengths = [len(ids) for ids in tokenizer([r["prompt"] for r in rows], add_special_tokens=False)["input_ids"]]
    kept = [r for r, n in zip(rows, lengths) if n <= max_prompt_length]
    if len(kept) < len(rows):
        log(f"dropped {len(rows) - len(kept)} prompts longer than max_prompt_length={max_prompt_length} tokens")
    if not kept:
        raise ValueError(f"max_prompt_length: every prompt is longer than {max_prompt_length} tokens")
    return kept


def run_grpo(model_dir: Path | str, out_dir: Path | str, cfg: GRPOStageConfig, rows: list[dict],
             rewards: dict[str, Callable], *, seed: int, checkpoint_dir: Path | str, callbacks: list | None = None,
             threads: int = 1, cap: Cap = NO_CAP) -> dict:
    """GRPO from the model in `model_dir` on `rows` with the reward functions `rewards` (name -> function, one for
    each name of `cfg.rewards`); saves model + tokenizer + metrics.tsv into `out_dir`.

    Resumes from the newest complete checkpoint in `checkpoint_dir`. Returns a summary (steps, resumed checkpoint,
    first and last logged metrics; no timing, so two runs with the same seed give the same summary)."""
    import torch
    from datasets import Dataset

    from r1.model.modeling import load_model_and_tokenizer, n_params, save_trained, set_threads
    from r1.train.callbacks import GRPOMetrics, MarkComplete, TimeCap
    from r1.train.rollouts import rollout_trainer
    from r1.verify.rewards import gated

    if set(rewards) != set(cfg.rewards):
        raise ValueError(f"rewards: functions for {sorted(rewards)}, weights for {sorted(cfg.rewards)}")
    start = time.time()
    set_threads(threads)
    out_dir = Path(out_dir)
    model, tok = load_model_and_tokenizer(model_dir)
    rows = as_model_rows(rows, tok)
    rows = _limit_prompts(rows, tok, cfg.max_prompt_length)
    dataset = Dataset.from_list(rows)

    names = list(cfg.rewards)
    funcs = [rewards[n] for n in names]
    weights = [float(cfg.rewards[n]) for n in names]
    if REFLECTION_PROBE not in names:
        funcs.append(reflection_probe)
        weights.append(0.0)
        names.append(REFLECTION_PROBE)
    funcs = gated(funcs)  # an unscored task row (accuracy None) gets None from every function: no learning signal

    # "reward_options" (always empty) stays in the key's settings so that a run keeps its key across versions
    key = checkpoints.run_key({"grpo": to_dict(cfg), "reward_options": {}}, seed, model_dir,
                              hashlib.md5(json.dumps(rows, sort_keys=True, default=str).encode()).hexdigest())
    work = checkpoints.run_dir(checkpoint_dir, key)
    metrics_path = work / METRICS
    resume = checkpoints.last_complete(work)
    if resume is not None:
        log(f"resuming from {resume}")
        for path in (metrics_path, metrics_path.with_name(THROUGHPUT)):
            _truncate_metrics(path, checkpoints.step_of(resume))
    else:
        for path in (metrics_path, metrics_path.with_name(THROUGHPUT)):
            path.unlink(missing_ok=True)

    args = grpo_args(cfg, work, seed, weights)
    timecap = TimeCap(cap, log, every=cfg.logging_steps)
    own = [MarkComplete(log), timecap, GRPOMetrics(metrics_path, names, REFLECTION_PROBE, log)]
    trainer_class = rollout_trainer()  # GRPOTrainer, rollouts by continuous batching (r1.train.rollouts)
    trainer = trainer_class(model=model, reward_funcs=funcs, args=args, train_dataset=dataset, processing_class=tok,
                            callbacks=own + list(callbacks or []))
    log(f"{type(model).__name__} {n_params(model):,} params; {len(rows)} prompts; "
        f"{cfg.generation_batch_size} completions/step (G={cfg.num_generations}); {cfg.max_steps} steps; "
        f"rewards {dict(zip(names, weights))}")
    checkpoints.restore_weights(trainer, resume)
    torch.manual_seed(seed)
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    timecap.raise_if_stopped(cfg.max_steps, work)
    steps = trainer.state.global_step
    distributed.report_params(trainer, log)  # several processes: each rank's weights, for the record

    save_trained(trainer, tok, out_dir)
    if metrics_path.exists():
        shutil.copy2(metrics_path, out_dir / METRICS)
    else:
        (out_dir / METRICS).write_text("step\n")
    if metrics_path.with_name(THROUGHPUT).exists():
        shutil.copy2(metrics_path.with_name(THROUGHPUT), out_dir / THROUGHPUT)
    # No minutes here: the summary goes into the (hashed) manifest; the wall time is in the run sidecar.
    summary = {"steps": steps, **summarize_metrics(out_dir / METRICS)}
    checkpoints.remove_finished(work)  # finished: a rerun of the same run trains afresh
    log(f"done: {steps} steps in {(time.time() - start) / 60:.2f} min")
    return summary


def read_metrics(path: Path | str) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh, delimiter="\t"))


def summarize_metrics(path: Path | str, window: int = 10) -> dict:
    """Means of the first and last `window` logged steps for the key columns."""
    rows = read_metrics(path)
    out = {}
    for col in ("accuracy", "completion_length", "reflection_rate", "reward", "kl"):
        vals = [float(r[col]) for r in rows if r.get(col) not in (None, "")]
        if vals:
            out[f"{col}_first"] = round(sum(vals[:window]) / len(vals[:window]), 4)
            out[f"{col}_last"] = round(sum(vals[-window:]) / len(vals[-window:]), 4)
    return out


# --------------------------------------------------------------------------------------------------------------------
# Prompt rows.

REWARD_COLUMNS = ("id", "kind", "answer", "numbers", "target", "tests", "entry_point", "reference")


def rl_rows(records: list[dict]) -> list[dict]:
    """Dataset rows: the prompt in the R1-Zero template plus the columns the rewards read."""
    from r1.tasks.schema import r1_zero_prompt

    return [{"prompt": r1_zero_prompt(r["prompt"]), **{k: r.get(k) for k in REWARD_COLUMNS}} for r in records]


def mix_rows(records: list[dict], general: pl.DataFrame, n_reasoning: int, n_general: int, seed: int) -> list[dict]:
    """The general-RL prompt mix: reasoning task rows (templated prompt + reward columns + `question`, the raw
    prompt) and general rows (`kind` "general"), shuffled with the seed. Every row has the same keys."""
    from r1.tasks.schema import r1_zero_prompt

    rng = random.Random(f"{seed}:final")
    reasoning = rng.sample(records, min(n_reasoning, len(records)))
    rows = [{**row, "question": rec["prompt"]} for row, rec in zip(rl_rows(reasoning), reasoning)]
    prompts = general["prompt"].unique(maintain_order=True).to_list()
    for i, q in enumerate(rng.sample(prompts, min(n_general, len(prompts)))):
        rows.append({"prompt": r1_zero_prompt(q), **{k: None for k in REWARD_COLUMNS}, "id": f"general-{i:05d}",
                     "kind": "general", "question": q})
    rng.shuffle(rows)
    return rows


def train_on_tasks(start: Path, tasks: Path, out: Path, cfg: GRPOStageConfig, rewards: dict[str, Callable], *,
                   seed: int, checkpoint_dir: Path, threads: int, cap: Cap = NO_CAP) -> dict:
    """The GRPO stages on the train tasks (`r1_zero`, `interim`, `rl_student`): GRPO from the model in `start` on the
    train split of the `tasks` artifact, with `cfg`'s settings and `rewards`, into `out`. Returns the summary."""
    from r1.tasks.pools import load_train_records

    return run_grpo(start, out, cfg, rl_rows(load_train_records(tasks)), rewards, seed=seed,
                    checkpoint_dir=checkpoint_dir, threads=threads, cap=cap)
