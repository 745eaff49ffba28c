"""Reading a completion: its text, its chain of thought, its final answer, and its format.

Two formats exist. R1-Zero's `<think> reasoning </think> <answer> answer </answer>`, and the readable cold-start
format `|special_token|<reasoning>|special_token|<summary>` whose summary may hold `<answer>` tags or `\\boxed{}`.
"""

from __future__ import annotations

import re

SPECIAL = "|special_token|"
ANSWER_RE = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
THINK_RE = re.compile(r"<think>(.*?)</think>", re.DOTALL)
FORMAT_RE = re.compile(r"^\s*<think>(?:(?!</?think>|</?answer>).)*</think>\s*<answer>(?:(?!</?think>|</?answer>).)*</answer>\s*$", re.DOTALL)
FENCE_RE = re.compile(r"```[ \t]*([\w+#.-]*)[^\n]*\n(.*?)```", re.DOTALL)


def text_of(completion) -> str:
    """A completion as text: a plain string, or TRL's conversational list of {"role", "content"} messages."""
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        return str(completion.get("content") or "")
    if isinstance(completion, (list, tuple)):
        return "".join(text_of(m) for m in completion if not isinstance(m, dict) or m.get("role", "assistant") == "assistant")
    raise TypeError(f"completion must be a string or a list of messages, got {type(completion).__name__}")


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}` (or `\\fbox{...}`), braces balanced; None when there is none."""
    start = max(text.rfind("\\boxed"), text.rfind("\\fbox"))
    if start < 0:
        return None
    i = text.find("{", start)
    if i < 0:
        rest = text[start + len("\\boxed") :].strip()  # `\boxed 5`
        return rest.split()[0].rstrip("$.") if rest else None
    depth = 0
    for j in range(i, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j].strip()
    return None


def split_cold_start(text: str) -> tuple[str, str] | None:
    """(reasoning, summary) of a cold-start completion, or None when the text is not in that format."""
    parts = text.split(SPECIAL)
    if len(parts) < 3:
        return None
    return parts[1], SPECIAL.join(parts[2:])


def answer_block(text: str) -> str | None:
    """The raw final answer region: the last `<answer>` body, else the cold-start summary; None if neither."""
    cold = split_cold_start(text)
    if cold is not None:
        text = cold[1]
    found = ANSWER_RE.findall(text)
    if found:
        return found[-1].strip()
    return text.strip() if cold is not None else None


def extract_answer(text) -> str | None:
    """The final answer of a completion, or None.

    Order: the cold-start summary if the text is in that format (then its `<answer>` body or `\\boxed{}` or the
    whole summary); else the last `<answer>...</answer>` body; else the last `\\boxed{}`. A `\\boxed{}` inside the
    chosen region wins over the rest of it (`<answer>The result is \\boxed{5}.</answer>` gives `5`).
    """
    text = text_of(text)
    block = answer_block(text)
    if block is None:
        return last_boxed(text)
    boxed = last_boxed(block)
    return boxed if boxed is not None else block or None


def reasoning_of(text) -> str:
    """The chain of thought: the `<think>` body, the cold-start reasoning, or the text before `<answer>`."""
    text = text_of(text)
    cold = split_cold_start(text)
    if cold is not None:
        return cold[0]
    m = THINK_RE.search(text)
    if m:
        return m.group(1)
    return text.split("<answer>")[0]


def format_ok(text) -> bool:
    """R1-Zero's shape: one `<think>...</think>` then one `<answer>...</answer>`, nothing else around them."""
    return bool(FORMAT_RE.match(text_of(text)))


def tag_count(text) -> float:
    """open-r1's tag-count reward: 0.25 for each of the four tags present exactly once."""
    text = text_of(text)
    return sum(0.25 for tag in ("<think>", "</think>", "<answer>", "</answer>") if text.count(tag) == 1)


def code_of(text) -> tuple[str | None, str | None]:
    """(source, fence language) of the code answer: the last fenced block of the answer region, else of the whole
    text, else the bare answer region. (None, None) when there is nothing."""
    text = text_of(text)
    block = answer_block(text)
    for region in (block, text):
        if region:
            fences = FENCE_RE.findall(region)
            if fences:
                lang, src = fences[-1]
                return src, lang.lower() or None
    return (block, None) if block else (None, None)
