"""The reusable GRPO runner (TRL GRPOTrainer): R1-Zero here; the reasoning-RL and general-RL stages reuse it.

    summary = run_grpo(model_dir, out_dir, cfg.r1_zero, rows, seed=cfg.seed, checkpoint_dir=paths.checkpoints(stage))

`rows` are dicts with a `prompt` (the full prompt text, template applied) plus the columns the rewards read (`kind`,
`answer`, `numbers`, `target`, `tests`, `entry_point`, ...). Rewards come by name from `r1.rewards` with the weights of
`cfg.rewards`; a zero-weight `reflection` probe (r1.schema.reflects) is added so the reflection rate of every step's
completions is logged. Every GRPO setting that matters is set from the stage config (TRL's defaults moved between
versions).

Checkpoints (r1.checkpoints): `checkpoint_dir/<run key>/checkpoint-N`, the key naming this run's settings, seed, start
model and prompts, each checkpoint marked complete only after the Trainer wrote it; a rerun of the same run resumes
from the newest marked one, with the weights loaded as saved; a finished run removes them. Per-step metrics are
appended to `<run key>/metrics.tsv` as training goes (cut back to the resumed step on resume) and copied to
`out_dir/metrics.tsv`; the final model and tokenizer are saved to `out_dir` (the caller's atomic directory). The
seconds since the start of each logged step go to `throughput.tsv` beside it (r1.artifacts.THROUGHPUT, a run sidecar
DVC ignores), so two runs with the same seed write the same metrics.tsv and summary.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import sys
import time
from pathlib import Path

from r1 import checkpoints
from r1.artifacts import THROUGHPUT
from r1.config import GRPOStageConfig, Params, to_dict

METRICS = "metrics.tsv"
REFLECTION_PROBE = "reflection"
# metrics.tsv columns -> TRL log keys ({name}: each reward's mean)
COLUMNS = {
    "reward": "reward",
    "reward_std": "reward_std",
    "completion_length": "completions/mean_length",
    "clipped_ratio": "completions/clipped_ratio",
    "kl": "kl",
    "entropy": "entropy",
    "learning_rate": "learning_rate",
    "frac_reward_zero_std": "frac_reward_zero_std",
}


def log(msg: str) -> None:
    print(f"[grpo] {msg}", file=sys.stderr, flush=True)


def _callbacks(metrics_path: Path, reward_names: list[str], max_minutes: float):
    from transformers import TrainerCallback

    class WallClock(TrainerCallback):
        def __init__(self):
            self.start = time.time()

        def on_step_end(self, args, state, control, **kwargs):
            if time.time() - self.start > max_minutes * 60:
                log(f"wall-clock cap {max_minutes} min reached at step {state.global_step}; stopping")
                control.should_training_stop = True
                control.should_save = True
            return control

    class Metrics(TrainerCallback):
        """One row per logged step: each reward's mean, accuracy, mean completion length, KL, reflection rate."""

        def __init__(self):
            self.start = time.time()
            self.header = ["step", *COLUMNS, "accuracy", "reflection_rate",
                           *[f"reward_{n}" for n in reward_names if n != REFLECTION_PROBE]]

        def on_log(self, args, state, control, logs=None, **kwargs):
            logs = logs or {}
            if "reward" not in logs:
                return
            row = {"step": state.global_step}
            elapsed = round(time.time() - self.start, 1)
            for col, key in COLUMNS.items():
                row[col] = logs.get(key, "")
            for name in reward_names:
                value = logs.get(f"rewards/{name}/mean", "")
                if name == REFLECTION_PROBE:
                    row["reflection_rate"] = value
                else:
                    row[f"reward_{name}"] = value
            row["accuracy"] = logs.get("rewards/accuracy/mean", "")
            new = not metrics_path.exists()
            with open(metrics_path, "a", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=self.header, delimiter="\t", extrasaction="ignore")
                if new:
                    w.writeheader()
                w.writerow({k: _fmt(v) for k, v in row.items()})
            timing_path = metrics_path.with_name(THROUGHPUT)  # the clock: a run sidecar, not the hashed curve
            new = not timing_path.exists()
            with open(timing_path, "a") as fh:
                fh.write(("step\telapsed_s\n" if new else "") + f"{state.global_step}\t{elapsed}\n")
            acc, length, refl = row["accuracy"], row["completion_length"], row.get("reflection_rate", "")
            log(f"step {state.global_step}/{args.max_steps} reward {_fmt(row['reward'])} acc {_fmt(acc)} "
                f"len {_fmt(length)} reflect {_fmt(refl)} kl {_fmt(row['kl'])} {elapsed:.0f}s")

    return [checkpoints.mark_complete_callback(lambda ckpt: log(f"checkpoint {ckpt.name} complete")), WallClock(),
            Metrics()]


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else round(v, 5)
    return v


def _truncate_metrics(metrics_path: Path, step: int) -> None:
    """Keep rows up to `step` (the resumed checkpoint): the rest will be logged again."""
    if not metrics_path.exists():
        return
    lines = metrics_path.read_text().splitlines(keepends=True)
    if not lines:
        return
    keep = [lines[0]] + [ln for ln in lines[1:] if ln.split("\t", 1)[0].isdigit() and int(ln.split("\t", 1)[0]) <= step]
    metrics_path.write_text("".join(keep))


def reflection_probe(completions, **_) -> list[float]:
    """1.0 when a completion re-checks itself (r1.schema.reflects); logged with weight 0."""
    from r1.rewards import text_of
    from r1.schema import reflects

    return [1.0 if reflects(text_of(c)) else 0.0 for c in completions]


reflection_probe.__name__ = REFLECTION_PROBE


def grpo_args(cfg: GRPOStageConfig, output_dir: Path, seed: int, reward_weights: list[float]):
    """TRL GRPOConfig with every setting that matters taken from the stage config."""
    import torch
    from trl import GRPOConfig

    cpu = not torch.cuda.is_available()
    per_device = cfg.generation_batch_size // cfg.gradient_accumulation_steps
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
        use_vllm=False,
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


def _limit_prompts(rows: list[dict], tokenizer, max_prompt_length: int) -> list[dict]:
    """TRL 1.16 has no max_prompt_length: drop (never cut) prompts over the limit."""
    lengths = [len(ids) for ids in tokenizer([r["prompt"] for r in rows], add_special_tokens=False)["input_ids"]]
    kept = [r for r, n in zip(rows, lengths) if n <= max_prompt_length]
    if len(kept) < len(rows):
        log(f"dropped {len(rows) - len(kept)} prompts longer than max_prompt_length={max_prompt_length} tokens")
    if not kept:
        raise ValueError(f"max_prompt_length: every prompt is longer than {max_prompt_length} tokens")
    return kept


def run_grpo(model_dir: Path | str, out_dir: Path | str, cfg: GRPOStageConfig, rows: list[dict], *, seed: int,
             checkpoint_dir: Path | str, reward_options: dict[str, dict] | None = None,
             callbacks: list | None = None, threads: int = 1) -> dict:
    """GRPO from the model in `model_dir` on `rows`; saves model + tokenizer + metrics.tsv into `out_dir`.

    Resumes from the newest complete checkpoint in `checkpoint_dir`. Returns a summary (steps, resumed checkpoint,
    first and last logged metrics; no timing, so two runs with the same seed give the same summary)."""
    import torch
    from datasets import Dataset
    from trl import GRPOTrainer

    from r1 import modeling
    from r1.rewards import get

    start = time.time()
    modeling.set_threads(threads)
    out_dir = Path(out_dir)
    model, tok = modeling.load_model_and_tokenizer(model_dir)
    rows = _limit_prompts(rows, tok, cfg.max_prompt_length)
    dataset = Dataset.from_list(rows)

    names = list(cfg.rewards)
    reward_options = reward_options or {}
    funcs = [get(n, **reward_options.get(n, {})) for n in names]
    weights = [float(cfg.rewards[n]) for n in names]
    if REFLECTION_PROBE not in names:
        funcs.append(reflection_probe)
        weights.append(0.0)
        names.append(REFLECTION_PROBE)

    key = checkpoints.run_key({"grpo": to_dict(cfg), "reward_options": reward_options}, seed, model_dir,
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
    trainer = GRPOTrainer(
        model=model, reward_funcs=funcs, args=args, train_dataset=dataset, processing_class=tok,
        callbacks=_callbacks(metrics_path, names, cfg.max_minutes) + list(callbacks or []))
    log(f"{type(model).__name__} {modeling.n_params(model):,} params; {len(rows)} prompts; "
        f"{cfg.generation_batch_size} completions/step (G={cfg.num_generations}); up to {cfg.max_steps} steps or "
        f"{cfg.max_minutes} min; rewards {dict(zip(names, weights))}")
    checkpoints.restore_weights(trainer, resume)
    torch.manual_seed(seed)
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    steps = trainer.state.global_step

    trainer.model.save_pretrained(str(out_dir))
    tok.save_pretrained(str(out_dir))
    if metrics_path.exists():
        shutil.copy2(metrics_path, out_dir / METRICS)
    else:
        (out_dir / METRICS).write_text("step\n")
    if metrics_path.with_name(THROUGHPUT).exists():
        shutil.copy2(metrics_path.with_name(THROUGHPUT), out_dir / THROUGHPUT)
    # No minutes here: the summary goes into the (hashed) manifest; the wall time is in the run sidecar.
    summary = {"steps": steps, "resumed_from": resume.name if resume else None,
               **summarize_metrics(out_dir / METRICS)}
    shutil.rmtree(work, ignore_errors=True)  # finished: a rerun of the same run must train afresh, not continue
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
# GRPO stages over the train tasks (r1_zero, interim, rl_student): one shape, different start models and settings.

REWARD_COLUMNS = ("id", "kind", "answer", "numbers", "target", "tests", "entry_point", "reference")


def rl_rows(records: list[dict]) -> list[dict]:
    """Dataset rows: the prompt in the R1-Zero template plus the columns the rewards read."""
    from r1.schema import r1_zero_prompt

    return [{"prompt": r1_zero_prompt(r["prompt"]), **{k: r.get(k) for k in REWARD_COLUMNS}} for r in records]


def task_stage(cfg: Params, stage: str, section: str, start_dir: Path, out_path: Path, start_stage: str) -> dict:
    """GRPO from `start_dir` on the train tasks with the settings of `cfg.<section>`, into `out_path` (atomically;
    checkpoints in cache/<stage>, resumed when a run was killed). Exits naming the stage to run when the start model
    is missing. Returns the run's summary."""
    from r1 import paths
    from r1.artifacts import atomic_dir, write_manifest
    from r1.base import load_train_records

    start = time.time()
    if not (Path(start_dir) / "config.json").exists():
        sys.exit(f"r1.{stage}: {start_dir} missing: run the `{start_stage}` stage first")
    rows = rl_rows(load_train_records())
    with atomic_dir(out_path) as out:
        summary = run_grpo(start_dir, out, getattr(cfg, section), rows, seed=cfg.seed,
                           checkpoint_dir=paths.checkpoints(stage), threads=cfg.compute.train_threads)
        write_manifest(out, stage, cfg, ["seed", section, "compute"], [Path(start_dir), paths.TASKS], time.time() - start,
                       extra={"summary": summary})
    log(f"{stage}: wrote {out_path} in {time.time() - start:.0f}s: {summary}")
    return summary
