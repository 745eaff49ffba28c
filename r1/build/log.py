"""Progress lines on stderr, `[who] message`: what every stage and runner prints while it works."""

from __future__ import annotations

import functools
import sys


def say(who: str, msg: str) -> None:
    print(f"[{who}] {msg}", file=sys.stderr, flush=True)


def logger(who: str):
    """`log = logger("grpo")`, then `log("step 3/200 ...")`."""
    return functools.partial(say, who)
