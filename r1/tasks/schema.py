"""Record schemas shared by every stage, and the R1-Zero prompt template.

A task record: `id`, `kind` (math | countdown | code), `prompt`, and by kind: `answer` (math; LaTeX allowed),
`numbers` + `target` (countdown), `tests` + `entry_point` (+ optional `reference`) (code). Every record also has
`split` (train | eval), `origin` ("synthetic", or the label of the file it was imported from, r1.tasks.imports) and
`solution` (a correct worked reasoning, the text that belongs inside <think>; None for imported code, which has none).
A completion row is a task record plus `completion` (the model's full text).
"""

from __future__ import annotations

import re

import polars as pl

from r1.tasks import FAMILIES  # noqa: F401 - the families a record's `kind` names


TASK_SCHEMA = {
    "id": pl.Utf8,
    "kind": pl.Utf8,
    "split": pl.Utf8,
    "prompt": pl.Utf8,
    "solution": pl.Utf8,
    "answer": pl.Utf8,
    "numbers": pl.List(pl.Int64),
    "target": pl.Int64,
    "tests": pl.Utf8,
    "entry_point": pl.Utf8,
    "reference": pl.Utf8,
    "origin": pl.Utf8,
}
SYNTHETIC = "synthetic"  # the `origin` of generated records

R1_ZERO_TEMPLATE = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. The assistant "
    "first thinks about the reasoning process in the mind and then provides the user with the answer. The reasoning "
    "process and answer are enclosed within <think> </think> and <answer> </answer> tags, respectively, i.e., "
    "<think> reasoning process here </think> <answer> answer here </answer>. User: {prompt}. Assistant:"
)


# The template around the user's prompt; the tokenizer learns each as one token (r1.model.modeling), and the tail marks
# where a completion starts (the pretraining loss mask).
TEMPLATE_HEAD, TEMPLATE_TAIL = R1_ZERO_TEMPLATE.split("{prompt}")


def r1_zero_prompt(prompt: str) -> str:
    return R1_ZERO_TEMPLATE.format(prompt=prompt)


# A completion "reflects" when its reasoning re-checks itself: a checking step or a "wait" that catches an error.
# The base corpus holds these at a low rate; eval measures their rate; R1-Zero should raise it.
REFLECTION_RE = re.compile(r"\b(?:wait|let me check|re-?check|verify)\b|\bcheck:", re.IGNORECASE)


def reflects(text: str) -> bool:
    return bool(REFLECTION_RE.search(text or ""))
