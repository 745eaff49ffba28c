"""Verification: the reward registry (`rewards`), `r1 verify` (`cli`), and the rule-based verifiers, one module each: `answer` (reading completions), `math`, `countdown`, `code` (+ `sandbox`,
the isolated runner, and `pool`, the worker processes), `language`. `r1.verify.rewards` turns them into reward functions.

Every verifier returns a `Score`: a value (None when the row cannot be scored) and the reason when it is not full
marks (`no_answer`, `wrong_answer`, `no_code`, `not_python`, `timeout`, `tests_failed`, ...).
"""

from typing import NamedTuple


class Score(NamedTuple):
    value: float | None
    reason: str | None = None
