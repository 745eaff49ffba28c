"""Math answers: equivalent answers score equal (`\\frac{1}{2}` = `0.5` = `1/2`; `\\boxed{}` taken; units, `$`,
thousands separators and whitespace ignored).

A fast path decides plain numbers (integers, decimals, fractions, `\\frac`, percent) in the caller's process; anything
else goes to math-verify in worker processes (it times out with `signal.alarm`, so it cannot run in threads).
"""

from __future__ import annotations

import re
from fractions import Fraction

from r1.verify import Score

UNIT_WORDS = re.compile(r"\\(?:text|mathrm|textbf|mbox|operatorname)\s*\{[^{}]*\}")
# a number, then optionally a unit word of 2+ letters ("5 cm", "5cm"; not "5x", which is algebra)
NUMBER_RE = re.compile(r"^([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[-+]?\d+)?)\s*(?:[a-zA-Z]{2,}[a-zA-Z .²³/]*)?$")
FRAC_RE = re.compile(r"^([-+]?)\\[dt]?frac\{([-+]?\d+)\}\{([-+]?\d+)\}$")
SLASH_RE = re.compile(r"^([-+]?\d+)\s*/\s*([-+]?\d+)$")
REL_TOL = 1e-6  # math-verify's default float rounding is 6 digits


def normalize(s: str) -> str:
    s = s.strip().strip("$").strip()
    for wrapper in ("\\boxed", "\\fbox"):
        if s.startswith(wrapper + "{") and s.endswith("}"):
            s = s[len(wrapper) + 1 : -1].strip()
    s = UNIT_WORDS.sub("", s)
    s = s.replace("\\left", "").replace("\\right", "").replace("\\!", "").replace("\\,", "").replace("\\ ", "")
    s = s.replace("^\\circ", "").replace("^{\\circ}", "").replace("\\%", "%").replace("\\$", "")
    s = re.sub(r"(?<=\d),(?=\d{3}\b)", "", s)  # 1,000 -> 1000
    s = re.sub(r"^[a-zA-Z]\s*=\s*", "", s)  # x = 5 -> 5
    return s.strip().rstrip(".").strip()


def as_number(s: str) -> Fraction | None:
    """A plain number (with an optional unit word or %), or None when it takes more than the fast path."""
    s = normalize(s)
    percent = s.endswith("%")
    if percent:
        s = s[:-1].strip()
    value = None
    if m := FRAC_RE.match(s):
        value = Fraction(int(m[2]), int(m[3])) * (-1 if m[1] == "-" else 1) if int(m[3]) else None
    elif m := SLASH_RE.match(s):
        value = Fraction(int(m[1]), int(m[2])) if int(m[2]) else None
    elif m := NUMBER_RE.match(s):
        try:
            value = Fraction(m[1])
        except (ValueError, ZeroDivisionError):
            value = None
    # 50% against 0.5 is ambiguous; math-verify and graders take the number as written
    return value


def numbers_equal(a: Fraction, b: Fraction) -> bool:
    return a == b or abs(a - b) <= REL_TOL * max(abs(a), abs(b))


def fast_verify(gold: str, pred: str) -> bool | None:
    """True/False when both sides are plain numbers, else None (undecided)."""
    a, b = as_number(gold), as_number(pred)
    if a is None or b is None:
        return None
    return numbers_equal(a, b)


# ---- worker side: runs in a verifier worker process, never in threads ------------------------------------------------
def _parse(s: str):
    from math_verify import parse

    s = s.strip()
    parsed = parse(s if s.startswith("$") or "\\boxed" in s else f"${s}$", parsing_timeout=2)
    return parsed or parse(s, parsing_timeout=2)


def mv_batch(pairs: list[tuple[str, str]]) -> list[bool | None]:
    """math-verify on (gold, pred) pairs; None when a side fails to parse."""
    from math_verify import verify

    out = []
    for gold, pred in pairs:
        try:
            g, p = _parse(normalize(gold)), _parse(normalize(pred))
            out.append(bool(verify(g, p, timeout_seconds=2)) if g and p else None)
        except Exception:  # noqa: BLE001 - one bad answer must not stop the batch
            out.append(None)
    return out


def verify_math(golds: list, preds: list[str | None]) -> list[Score]:
    """Score predictions (already extracted answers, or None) against gold answers."""
    from r1.verify.pool import pool

    scores: list[Score | None] = [None] * len(preds)
    todo = []
    for i, (gold, pred) in enumerate(zip(golds, preds)):
        if gold is None or str(gold).strip() == "":
            scores[i] = Score(None, "no_gold_answer")
        elif pred is None or not pred.strip():
            scores[i] = Score(0.0, "no_answer")
        elif (ok := fast_verify(str(gold), pred)) is not None:
            scores[i] = Score(1.0, None) if ok else Score(0.0, "wrong_answer")
        else:
            todo.append(i)
    if todo:
        results = pool("math").map("r1.verify.math:mv_batch", [(str(golds[i]), preds[i]) for i in todo], chunk=16)
        for i, r in zip(todo, results):
            if isinstance(r, Exception):
                scores[i] = Score(None, "verifier_error")
            elif r is None:
                scores[i] = Score(0.0, "unparsable")
            else:
                scores[i] = Score(1.0, None) if r else Score(0.0, "wrong_answer")
    return scores
