"""The Trainer callbacks the runners share: the time cap, the checkpoint completion marker, and the loggers that
write a run's curve while it trains (GRPO's metrics.tsv, SFT's loss curve).

The curves hold no clock: the seconds of each logged step go to the THROUGHPUT run sidecar (r1.build.artifacts), so
two runs with the same seed write the same hashed files.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path
from typing import Callable

from transformers import TrainerCallback

from r1.build import checkpoints, distributed
from r1.build.artifacts import THROUGHPUT
from r1.build.clock import Cap, CapReached

Log = Callable[[str], None]


class TimeCap(TrainerCallback):
    """Stop training when the stage's time cap is reached, saving a checkpoint at that step; the runner then raises
    `CapReached` (r1.build.clock) instead of publishing what was learnt: a cap fails a run, it never shortens one."""

    def __init__(self, cap: Cap, log: Log | None = None, every: int = 1):
        self.cap, self.log, self.every = cap, log, every  # stop only at multiples of `every` (the logging steps)
        self.stopped_at: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        # Every rank tests the same steps, and the stop is agreed (any rank's cap stops all): ranks that stopped at
        # different steps would wait for each other forever (r1.build.distributed).
        if (self.stopped_at is None and state.global_step < state.max_steps and state.global_step % self.every == 0
                and distributed.any_rank(self.cap.reached())):
            self.stopped_at = state.global_step
            if self.log:
                self.log(f"time cap {self.cap.key} = {self.cap.minutes:g} min reached at step {state.global_step} "
                         f"of {state.max_steps}; saving a checkpoint and stopping")
            control.should_training_stop = True
            control.should_save = True
        return control

    def raise_if_stopped(self, total: int, work: Path) -> None:
        """After `trainer.train()`: CapReached naming the checkpoint a rerun continues from, if the cap stopped it."""
        if self.stopped_at is not None:
            ckpt = checkpoints.last_complete(work, remove_incomplete=False)
            raise CapReached(self.cap, self.stopped_at, total, str(ckpt) if ckpt else None)


class MarkComplete(TrainerCallback):
    """Mark each checkpoint complete (r1.build.checkpoints) once the Trainer has written all of it: on_save runs
    after the save, so a run killed mid-save leaves an unmarked checkpoint that is never resumed. With several
    processes the main one marks it, once every rank has saved its part."""

    def __init__(self, log: Log | None = None):
        self.log = log

    def on_save(self, args, state, control, **kwargs):
        ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        distributed.barrier()  # every rank has written its part (its RNG state) before the checkpoint counts
        if state.is_world_process_zero and ckpt.is_dir():
            checkpoints.mark_complete(ckpt)
            if self.log:
                self.log(f"checkpoint {ckpt.name} complete")


# GRPO metrics.tsv columns -> TRL log keys (each reward's mean is `rewards/<name>/mean`)
GRPO_COLUMNS = {
    "reward": "reward",
    "reward_std": "reward_std",
    "completion_length": "completions/mean_length",
    "clipped_ratio": "completions/clipped_ratio",
    "kl": "kl",
    "entropy": "entropy",
    "learning_rate": "learning_rate",
    "frac_reward_zero_std": "frac_reward_zero_std",
}


def _fmt(v):
    if isinstance(v, float):
        return "" if math.isnan(v) else round(v, 5)
    return v


class GRPOMetrics(TrainerCallback):
    """GRPO: one row per logged step appended to `path` (metrics.tsv): TRL's reward statistics, accuracy, each
    reward's mean as `reward_<name>` and the zero-weight `probe` reward's mean as `reflection_rate`; the seconds since
    the callback was built go to the THROUGHPUT sidecar beside it."""

    def __init__(self, path: Path, reward_names: list[str], probe: str, log: Log):
        self.path, self.reward_names, self.probe, self.log = Path(path), list(reward_names), probe, log
        self.start, self.rate = time.time(), TokenRate()
        self.header = ["step", *GRPO_COLUMNS, "accuracy", "reflection_rate",
                       *[f"reward_{n}" for n in self.reward_names if n != probe]]

    def on_train_begin(self, args, state, control, **kwargs):
        self.rate.begin(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        if "reward" not in logs or not state.is_world_process_zero:  # one writer: the main process
            return
        row = {"step": state.global_step}
        elapsed = round(time.time() - self.start, 1)
        for col, key in GRPO_COLUMNS.items():
            row[col] = logs.get(key, "")
        for name in self.reward_names:
            value = logs.get(f"rewards/{name}/mean", "")
            if name == self.probe:
                row["reflection_rate"] = value
            else:
                row[f"reward_{name}"] = value
        row["accuracy"] = logs.get("rewards/accuracy/mean", "")
        new = not self.path.exists()
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=self.header, delimiter="\t", extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: _fmt(v) for k, v in row.items()})
        timing_path = self.path.with_name(THROUGHPUT)  # the clock: a run sidecar, not the hashed curve
        new = not timing_path.exists()
        with open(timing_path, "a") as fh:
            fh.write(("step\telapsed_s\n" if new else "") + f"{state.global_step}\t{elapsed}\n")
        acc, length, refl = row["accuracy"], row["completion_length"], row.get("reflection_rate", "")
        self.log(f"step {state.global_step}/{args.max_steps} reward {_fmt(row['reward'])} acc {_fmt(acc)} "
                 f"len {_fmt(length)} reflect {_fmt(refl)} kl {_fmt(row['kl'])}{_rate(self.rate(logs))} "
                 f"{elapsed:.0f}s")


class TokenRate:
    """Tokens per second between two logged steps, from the Trainer's running `num_tokens` count (the progress a
    slow model shows: seconds per step alone do not say whether the batches got longer)."""

    def __init__(self):
        self.last: tuple[float, float] | None = None

    def begin(self, state) -> None:
        """At the start of training: a fresh run counts from zero tokens now; a resumed one from its next log (its
        running count may or may not include the tokens before the checkpoint)."""
        self.last = (0.0, time.time()) if state.global_step == 0 else None

    def __call__(self, logs: dict) -> float | None:
        tokens = logs.get("num_tokens")
        if tokens is None:
            return None
        tokens, now, last = float(tokens), time.time(), self.last
        self.last = (tokens, now)
        if last is None or now <= last[1]:
            return None
        return (tokens - last[0]) / (now - last[1])


def _rate(rate: float | None) -> str:
    return f" {rate:,.0f} tok/s" if rate is not None else ""


class LossCurve(TrainerCallback):
    """SFT: (step, loss, time) of each logged step appended to `curve`, which the runner writes out at the end; with
    `log`, a progress line per logged step (step, loss, tokens/s, seconds)."""

    def __init__(self, curve: list, log: Log | None = None):
        self.curve, self.log, self.rate = curve, log, TokenRate()
        self.start = time.time()

    def on_train_begin(self, args, state, control, **kwargs):
        self.rate.begin(state)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.curve.append((state.global_step, float(logs["loss"]), time.time()))
            rate = self.rate(logs)
            if self.log and state.is_world_process_zero:
                self.log(f"step {state.global_step}/{state.max_steps} loss {float(logs['loss']):.4f}{_rate(rate)} "
                         f"{time.time() - self.start:.0f}s")
