"""Decontamination: held-out items share no word n-gram with train, and no prompt appears twice.

Words are lower-cased runs of letters or digits (numbers count as words; punctuation and `_` split). A text shorter
than n words has one gram, the whole text, so short prompts collide only with the same short prompt.
It is a filter used while generating: eval candidates are drawn until enough clean ones are found.
"""

from __future__ import annotations

import re
from typing import Callable, Iterable

from r1.build.quality import QualityError

WORD_RE = re.compile(r"[a-z]+|\d+")


class DecontamError(QualityError):
    """Not enough clean items could be drawn: a quality failure of the task pools."""


def words(text: str) -> list[str]:
    return WORD_RE.findall(text.lower())


def ngrams(text: str, n: int) -> set[tuple[str, ...]]:
    toks = words(text)
    if len(toks) < n:
        return {tuple(toks)}
    return {tuple(toks[i:i + n]) for i in range(len(toks) - n + 1)}


class NgramIndex:
    """The n-grams of a set of texts, each mapped to the first text that had it."""

    def __init__(self, n: int, texts: Iterable[str] = ()):
        self.n = n
        self.owner: dict[tuple[str, ...], str] = {}
        for text in texts:
            self.add(text)

    def add(self, text: str) -> None:
        for gram in ngrams(text, self.n):
            self.owner.setdefault(gram, text)

    def shared(self, text: str) -> tuple[tuple[str, ...], str] | None:
        """(a gram of `text` that is in the index, the indexed text that has it), or None."""
        for gram in sorted(ngrams(text, self.n)):
            if gram in self.owner:
                return gram, self.owner[gram]
        return None


def overlaps(eval_texts: Iterable[str], train_texts: Iterable[str], n: int) -> list[dict]:
    """Every eval text that shares an n-gram with a train text (with one such gram and train text)."""
    index = NgramIndex(n, train_texts)
    found = []
    for text in eval_texts:
        hit = index.shared(text)
        if hit:
            found.append({"eval": text, "train": hit[1], "ngram": " ".join(hit[0])})
    return found


def draw(make: Callable[[], dict], want: int, seen: set[str], index: NgramIndex | None = None,
         label: str = "items", max_draws: int | None = None) -> tuple[list[dict], int]:
    """Call `make()` until `want` records are found whose prompt is new (not in `seen`) and, if `index` is given,
    shares no n-gram with it. Accepted prompts are added to `seen`. Returns (records, number of draws)."""
    max_draws = max_draws if max_draws is not None else 100 * want + 1000
    out, draws, dups, hits = [], 0, 0, 0
    while len(out) < want:
        if draws >= max_draws:
            raise DecontamError(
                f"{label}: found only {len(out)} of {want} clean items in {draws} draws ({dups} duplicate prompts, "
                f"{hits} sharing a {index.n if index else '?'}-gram with train). The templates have too little "
                f"variety for this many items: lower n_train/n_eval, raise decontam_ngram, or add variable slots.")
        rec = make()
        draws += 1
        if rec["prompt"] in seen:
            dups += 1
            continue
        if index is not None and index.shared(rec["prompt"]):
            hits += 1
            continue
        seen.add(rec["prompt"])
        out.append(rec)
    return out, draws
