"""The SFT runner (TRL `SFTTrainer`), shared by the SFT stages `cold_start_sft`, `sft` and `student`.

    metrics = fine_tune(init, [dataset_dir, ...], out_dir, cfg.sft, seed=..., checkpoint_dir=..., threads=...,
                        non_reasoning=non_reasoning_dir)

`train(init, examples, out_dir, cfg, ...)` fine-tunes the model in `init` on prompt-completion pairs (loss on the
completion only), every TRL setting from the stage's params section. Prompts get the R1-Zero template, the same
prompt eval uses. A time cap (r1.build.clock) stops training with a checkpoint and CapReached. Checkpoints go to
`checkpoint_dir/<key>/` (r1.build.checkpoints), keyed by the params and the inputs, each marked complete only after
it is fully written; a rerun resumes from the newest complete one, with the weights loaded as saved. The model
directory holds curve.tsv (step, loss) and metrics.json, which two runs with the same seed write alike, resumed or
not; the seconds of
each logged step go to the THROUGHPUT run sidecar, and the training time is returned for the stage's run.json.
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from r1.build import checkpoints, distributed
from r1.build.artifacts import THROUGHPUT, write_json, write_throughput
from r1.build.clock import NO_CAP, Cap
from r1.build.log import logger
from r1.config import SFTStageConfig, to_dict
from r1.tasks.schema import r1_zero_prompt

log = logger("sft")


def examples_frame(*frames: pl.DataFrame, seed: int) -> pl.DataFrame:
    """Prompt-completion pairs from datasets with raw `prompt` and `completion` columns, templated and shuffled."""
    parts = [f.select("prompt", "completion") for f in frames if len(f)]
    if not parts:
        raise ValueError("no SFT examples: every input dataset is empty")
    df = pl.concat(parts).with_columns(pl.col("prompt").map_elements(r1_zero_prompt, return_dtype=pl.Utf8))
    return df.sample(fraction=1.0, shuffle=True, seed=seed)


def cap_share(extra: pl.DataFrame, main_rows: int, share: float, seed: int) -> pl.DataFrame:
    """`extra` sampled down (with the seed) so it is at most `share` of `main_rows` + its own rows; R1 mixed ~200k
    non-reasoning into ~600k reasoning examples. Long non-reasoning texts otherwise take most of the loss. With no
    main rows there is no mix to keep a share of (a tiny profile's empty reasoning set): `extra` is kept whole."""
    if main_rows == 0:
        return extra
    limit = int(share / (1.0 - share) * main_rows)
    return extra.sample(n=limit, seed=seed) if len(extra) > limit else extra


def train(init: Path | str | tuple, examples: pl.DataFrame, out_dir: Path, cfg: SFTStageConfig, seed: int, *,
          checkpoint_dir: Path | None = None, work: Path | None = None, threads: int = 1,
          callbacks: list | None = None, cap: Cap = NO_CAP) -> dict:
    """Fine-tune `init` (a model directory or a (model, tokenizer) pair) on `examples` (`prompt`, `completion`) and
    save model + tokenizer + curve.tsv + metrics.json (+ the THROUGHPUT sidecar) into `out_dir`. Checkpoints go to
    `work`, by default `checkpoint_dir/<run key>`. Returns the metrics of metrics.json plus `seconds` (training time:
    a run-specific figure, kept out of metrics.json)."""
    import torch
    from datasets import Dataset
    from trl import SFTConfig, SFTTrainer

    from r1.model.modeling import as_model_prompts, load_model_and_tokenizer, save_trained, set_threads
    from r1.train.callbacks import LossCurve, MarkComplete, TimeCap

    started = time.time()
    set_threads(threads)
    model, tok = load_model_and_tokenizer(init) if isinstance(init, (str, Path)) else init
    if work is None:
        if checkpoint_dir is None:
            raise ValueError("train: a checkpoint_dir (or a work directory) is needed")
        key = checkpoints.run_key({"sft": to_dict(cfg)}, seed, init if isinstance(init, (str, Path)) else None,
                                  str(examples.hash_rows().sum()))
        work = checkpoints.run_dir(checkpoint_dir, key)
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    resume = checkpoints.last_complete(work)
    cpu = not torch.cuda.is_available()
    args = SFTConfig(
        output_dir=str(work),
        num_train_epochs=cfg.num_train_epochs,
        max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler_type,
        warmup_steps=cfg.warmup_ratio,  # transformers 5: a float in [0, 1) is a ratio of the total steps
        weight_decay=cfg.weight_decay,
        max_grad_norm=cfg.max_grad_norm,
        max_length=cfg.max_length,
        packing=cfg.packing,
        completion_only_loss=cfg.completion_only_loss,
        assistant_only_loss=False,
        dataset_text_field="text",
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        bf16=cfg.bf16,
        use_cpu=cpu,  # TRL 1.16 on a CPU-only machine needs it said
        seed=seed,
        data_seed=seed,
        report_to="none",
        dataloader_num_workers=0,
        shuffle_dataset=False,  # examples_frame shuffled with the stage seed
        eos_token=tok.eos_token,  # appended to every completion: the model learns to stop
        disable_tqdm=True,
    )
    dataset = Dataset.from_dict({"prompt": as_model_prompts(tok, examples["prompt"].to_list()),
                                 "completion": examples["completion"].to_list()})
    timecap = TimeCap(cap, log, every=cfg.logging_steps)
    times: list = []  # (step, loss, time) logged by this call: the throughput sidecar
    tok.padding_side = "right"  # training pads on the right; generation (left) is restored on save
    trainer = SFTTrainer(model=model, args=args, train_dataset=dataset, processing_class=tok,
                         callbacks=[timecap, MarkComplete(), LossCurve(times, log), *(callbacks or [])])
    checkpoints.restore_weights(trainer, resume)
    log(f"{len(dataset)} examples, {trainer.args.max_steps if cfg.max_steps > 0 else 'epochs'} "
        f"({cfg.num_train_epochs} epochs), resume from {resume.name if resume else 'scratch'}")
    trainer.train(resume_from_checkpoint=str(resume) if resume else None)
    timecap.raise_if_stopped(trainer.state.max_steps, work)
    distributed.report_params(trainer, log)  # several processes: each rank's weights, for the record
    # The curve from the Trainer's log history, which a resumed run restores from its checkpoint: the same rows as
    # an uninterrupted run (a cap stops only at a logging step, so no window is split).
    curve = [(int(e["step"]), float(e["loss"])) for e in trainer.state.log_history if "loss" in e and "step" in e]
    tok.padding_side = "left"
    model = trainer.model
    model.generation_config.eos_token_id = tok.eos_token_id
    model.generation_config.pad_token_id = tok.pad_token_id
    save_trained(trainer, tok, out_dir)
    with open(out_dir / "curve.tsv", "w") as fh:
        fh.write("step\tloss\n")
        for step, loss in curve:
            fh.write(f"{step}\t{loss:.5f}\n")
    write_throughput(out_dir / THROUGHPUT, ["seconds"], [(step, f"{t - started:.1f}") for step, _, t in times])
    metrics = {
        "examples": len(dataset),
        "steps": int(trainer.state.global_step),
        "epochs": round(float(trainer.state.epoch or 0.0), 3),
        "train_loss": round(sum(loss for _, loss in curve) / len(curve), 5) if curve else None,
        "final_loss": round(curve[-1][1], 5) if curve else None,
        "first_loss": round(curve[0][1], 5) if curve else None,
    }
    write_json(out_dir / "metrics.json", metrics)
    metrics["seconds"] = round(time.time() - started, 1)
    # Checkpoints exist to resume a killed run; a finished one must not leave them for the next run to continue from
    # (a rerun with the same inputs has to give the same model).
    checkpoints.remove_finished(work)  # finished: a rerun of the same run trains afresh
    log(f"done: {metrics}")
    return metrics


def read_set(path: Path) -> pl.DataFrame:
    """A dataset artifact's rows (its own stage gated them; an empty one is allowed if another set has rows)."""
    df = pl.read_parquet(Path(path) / "train.parquet")
    log(f"{len(df)} rows from {path}")
    return df


def fine_tune(init: Path, sets: list[Path], out: Path, cfg: SFTStageConfig, *, seed: int, checkpoint_dir: Path,
              threads: int, non_reasoning: Path | None = None, cap: Cap = NO_CAP) -> dict:
    """The SFT stages' body: the model in `init` fine-tuned on the dataset artifacts `sets` (plus `non_reasoning`,
    capped at `cfg.non_reasoning_share` of the mix), saved into `out`. Returns `train`'s metrics (with `seconds`)."""
    frames = [read_set(path) for path in sets]
    if non_reasoning is not None:
        extra = read_set(non_reasoning)
        capped = cap_share(extra, sum(len(f) for f in frames), cfg.non_reasoning_share, seed)
        log(f"non-reasoning: {len(capped)} of {len(extra)} (share cap {cfg.non_reasoning_share})")
        frames.append(capped)
    examples = examples_frame(*frames, seed=seed)
    log(f"{len(examples)} examples; init {init}")
    return train(init, examples, out, cfg, seed, checkpoint_dir=checkpoint_dir, threads=threads, cap=cap)
