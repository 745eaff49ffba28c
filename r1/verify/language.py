"""Language consistency (R1's reasoning-RL reward): the share of the chain of thought's words written in the target
language's script. Words are runs of letters; a CJK character counts as one word. Digits and symbols are ignored."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from r1.verify import Score
from r1.verify.answer import reasoning_of

WORD_RE = re.compile(r"[^\W\d_]+")
SCRIPTS = {  # language -> Unicode script name prefixes that count as that language
    "en": ("LATIN",), "fr": ("LATIN",), "de": ("LATIN",), "es": ("LATIN",), "zh": ("CJK",), "ja": ("CJK", "HIRAGANA", "KATAKANA"),
    "ko": ("HANGUL",), "ru": ("CYRILLIC",), "ar": ("ARABIC",), "el": ("GREEK",), "he": ("HEBREW",), "hi": ("DEVANAGARI",),
}  # fmt: skip
CJK_LIKE = ("CJK", "HIRAGANA", "KATAKANA")


@lru_cache(maxsize=65536)
def script(ch: str) -> str:
    return unicodedata.name(ch, "UNKNOWN").split(" ")[0]


def words(text: str) -> list[str]:
    """Script of each word; a run mixing CJK and other letters is split into single CJK characters."""
    out = []
    for w in WORD_RE.findall(text):
        scripts = [script(c) for c in w]
        if any(s in CJK_LIKE for s in scripts):
            out.extend(scripts)
        else:
            out.append(max(set(scripts), key=scripts.count))
    return out


def consistency(completion, language: str = "en") -> Score:
    lang = (language or "en").lower().split("-")[0]
    if lang not in SCRIPTS:
        return Score(None, f"unknown_language:{lang}")
    ws = words(reasoning_of(completion))
    if not ws:
        return Score(0.0, "no_reasoning")
    share = sum(w in SCRIPTS[lang] for w in ws) / len(ws)
    return Score(round(share, 4), None if share == 1.0 else "mixed_language")
