"""Task families. Each module's `generate(rng, cfg)` returns one task's fields; `generate(kind, rng, cfg)` here
turns them into a full record (every TASK_SCHEMA column except `id` and `split`, which r1.tasks.pools sets).

Worked solutions are short lines, one operation per line (`a op b = c`), so a corpus builder can corrupt one line
and add a "wait" correction after it.
"""

from r1.tasks.families import code, countdown, math
from r1.tasks.schema import TASK_SCHEMA

GENERATORS = {"math": math.generate, "countdown": countdown.generate, "code": code.generate}


def record(**fields) -> dict:
    """A full task record: every TASK_SCHEMA column, None where the family has no value."""
    unknown = set(fields) - set(TASK_SCHEMA)
    if unknown:
        raise KeyError(f"not task columns: {sorted(unknown)}")
    return {name: fields.get(name) for name in TASK_SCHEMA}


def generate(kind: str, rng, cfg) -> dict:
    return record(kind=kind, **GENERATORS[kind](rng, cfg))
