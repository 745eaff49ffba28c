"""Time caps: the one place a stage reads the clock for anything but a progress line.

A cap never decides what an artifact contains. When a stage reaches its cap (`time_caps.<stage>` in params.yaml) it
saves a checkpoint where it can, stops with `CapReached`, and publishes nothing; rerun with a larger cap (or on a
faster machine) and it continues from the checkpoint to the same artifact an uninterrupted run builds. Caps are not
stage params (editing one reruns nothing): they guard against a hung or far too slow run, they are not a budget.

`R1_CLOCK_SCALE=<factor>` makes the caps' clock run that many times faster: a test of the caps, not a setting.
"""

from __future__ import annotations

import os
import time

SCALE_ENV = "R1_CLOCK_SCALE"
# The stages (modules) that honour a cap: the long ones, each resumable from its own checkpoints.
CAPPED = ("base", "r1_zero", "cold_start_sft", "interim", "reasoning_shard", "sft", "reward_models", "final",
          "student_base", "student", "rl_student")


class CapReached(RuntimeError):
    """A stage's time cap was reached at `step` of `total`; `checkpoint` (if any) is where a rerun continues."""

    def __init__(self, cap: "Cap", step: int, total: int | str, checkpoint: str | None = None):
        self.cap, self.step, self.total, self.checkpoint = cap, step, total, checkpoint
        kept = (f"the newest complete checkpoint is kept ({checkpoint}), and a rerun continues from it"
                if checkpoint else "a rerun starts again")
        super().__init__(f"time cap {cap.key} = {cap.minutes:g} min reached at step {step} of {total}; nothing was "
                         f"published; {kept}")


class Cap:
    """`minutes` of (scaled) monotonic time from `started` (default: now); None: no cap."""

    def __init__(self, key: str, minutes: float | None, started: float | None = None):
        self.key, self.minutes = key, minutes
        self.scale = float(os.environ.get(SCALE_ENV) or 1.0)
        self.started = time.monotonic() if started is None else started

    def elapsed_minutes(self) -> float:
        return (time.monotonic() - self.started) * self.scale / 60

    def reached(self) -> bool:
        return self.minutes is not None and self.elapsed_minutes() >= self.minutes

    def check(self, step: int, total: int | str, checkpoint: str | None = None) -> None:
        if self.reached():
            raise CapReached(self, step, total, checkpoint)


NO_CAP = Cap("none", None)
