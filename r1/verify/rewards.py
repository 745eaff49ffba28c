"""Reward functions, selected by name from params (`rewards: {name: weight}` in the GRPO stage config).

Each `REWARDS[name]` has TRL's signature `(completions, **kwargs) -> list[float | None]`: completions are strings or
TRL conversational lists of {"role", "content"}; kwargs are the dataset columns as lists (`kind`, `answer`,
`numbers`, `target`, `tests`, `entry_point`, `reference`, optional `language`). None means "does not apply / could
not be scored" (TRL skips it). `REWARDS[name].details(...)` gives `Score(value, reason)` per row (used by
`r1 verify`). Rewards are picklable callables; code and math-verify work runs in worker processes
(`r1.verify.pool`), never in the caller. Importing this module does not import torch.

  accuracy              1/0 by `kind`: math equivalence, countdown equation, code tests (code: graded 0 / 0.1-0.5 / 1,
                        see r1.verify.code)
  format                1 if the text is `<think>...</think>` then `<answer>...</answer>` and nothing else, else 0
  tag_count             0.25 per think/answer tag present exactly once (open-r1)
  language_consistency  share of chain-of-thought words in the target language's script (R1; `language` column or
                        option target_language, default "en")
  code_speed            for correct code, min(1, reference time / candidate time); 0 if incorrect; None without a
                        `reference` or for other kinds
  repetition_penalty    -(share of repeated word n-grams) * |max_penalty| (open-r1; options ngram_size=3,
                        max_penalty=-1.0)
  length                Kimi-1.5 length reward over the batch: shorter correct answers score higher (open-r1)
  reasoning_steps       min(1, explicit step markers / 3) (open-r1)
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from r1.verify import Score
from r1.verify.answer import extract_answer, format_ok, tag_count, text_of

__all__ = ["REWARDS", "NAMES", "Reward", "Score", "UnknownReward", "extract_answer", "get", "score", "text_of"]


class UnknownReward(KeyError):
    def __str__(self):
        return self.args[0]


def _col(kwargs: dict, name: str, n: int) -> list:
    value = kwargs.get(name)
    if value is None:
        return [None] * n
    value = list(value)
    if len(value) != n:
        raise ValueError(f"column {name!r} has {len(value)} values for {n} completions")
    return value


# ---- the verifiers, as batch functions returning Scores ----------------------------------------------------------
def accuracy(completions: list, **kwargs) -> list[Score]:
    from r1.verify import code, countdown, math

    n = len(completions)
    kinds = _col(kwargs, "kind", n)
    out: list[Score | None] = [None] * n
    by_kind: dict[str, list[int]] = {}
    for i, k in enumerate(kinds):
        by_kind.setdefault(str(k), []).append(i)
    for kind, idx in by_kind.items():
        sub = {key: [v[i] for i in idx] for key, v in kwargs.items() if isinstance(v, (list, tuple)) and len(v) == n}
        comps = [completions[i] for i in idx]
        if kind == "math":
            scores = math.verify_math(sub.get("answer", [None] * len(idx)), [extract_answer(c) for c in comps])
        elif kind == "countdown":
            numbers, targets = sub.get("numbers", [None] * len(idx)), sub.get("target", [None] * len(idx))
            scores = [countdown.check(extract_answer(c), nums, tgt) if nums is not None and tgt is not None
                      else Score(None, "no_numbers_or_target")
                      for c, nums, tgt in zip(comps, numbers, targets)]
        elif kind == "code":
            scores = [s for s, _ in code.verify_code(comps, sub.get("tests", [None] * len(idx)),
                                                     sub.get("entry_point", [None] * len(idx)),
                                                     references=sub.get("reference"), prompts=_prompts(sub))]
        else:
            scores = [Score(None, f"unknown_kind:{kind}")] * len(idx)
        for i, s in zip(idx, scores):
            out[i] = s
    return out


def _prompts(cols: dict) -> list | None:
    """The raw task prompt per row: `prompt` (r1 verify), `question` (the final stage), else TRL's `prompts`."""
    for name in ("prompt", "question", "prompts"):
        if cols.get(name) is not None:
            return list(cols[name])
    return None


def format_reward(completions: list, **_) -> list[Score]:
    return [Score(1.0, None) if format_ok(c) else Score(0.0, "bad_format") for c in completions]


def tag_count_reward(completions: list, **_) -> list[Score]:
    return [Score(v, None if v == 1.0 else "tags_missing_or_repeated") for v in map(tag_count, completions)]


def language_consistency(completions: list, target_language: str = "en", **kwargs) -> list[Score]:
    from r1.verify.language import consistency

    langs = _col(kwargs, "language", len(completions))
    return [consistency(c, lang or target_language) for c, lang in zip(completions, langs)]


def code_speed(completions: list, **kwargs) -> list[Score]:
    from r1.verify.code import speed

    n = len(completions)
    kinds = _col(kwargs, "kind", n)
    idx = [i for i in range(n) if kinds[i] == "code"]
    out = [Score(None, "not_code_task")] * n
    if idx:
        cols = {c: _col(kwargs, c, n) for c in ("tests", "entry_point", "reference")}
        pick = lambda c: [cols[c][i] for i in idx]  # noqa: E731
        prompts = _prompts({k: _col(kwargs, k, n) if kwargs.get(k) is not None else None
                            for k in ("prompt", "question", "prompts")})
        scores = speed([completions[i] for i in idx], pick("tests"), pick("entry_point"), pick("reference"),
                       [prompts[i] for i in idx] if prompts else None)
        for i, s in zip(idx, scores):
            out[i] = s
    return out


def repetition_penalty(completions: list, ngram_size: int = 3, max_penalty: float = -1.0, **_) -> list[Score]:
    out = []
    for c in completions:
        words = text_of(c).lower().split()
        if len(words) < ngram_size:
            out.append(Score(0.0, None))
            continue
        grams = [tuple(words[i : i + ngram_size]) for i in range(len(words) - ngram_size + 1)]
        value = (1 - len(set(grams)) / len(grams)) * -abs(max_penalty)
        out.append(Score(round(value, 4), "repetitive" if value < 0 else None))
    return out


def length(completions: list, **kwargs) -> list[Score]:
    correct = [s.value == 1.0 for s in accuracy(completions, **kwargs)]
    lens = [len(text_of(c)) for c in completions]
    lo, hi = min(lens, default=0), max(lens, default=0)
    if hi == lo:
        return [Score(0.0, None)] * len(completions)
    out = []
    for ok, n in zip(correct, lens):
        lam = 0.5 - (n - lo) / (hi - lo)
        out.append(Score(round(lam if ok else min(0.0, lam), 4), None if ok else "incorrect"))
    return out


STEP_RE = re.compile(r"(Step \d+:|^\d+\.|\n-|\n\*|First,|Second,|Next,|Finally,)")


def reasoning_steps(completions: list, **_) -> list[Score]:
    return [Score(min(1.0, len(STEP_RE.findall(text_of(c))) / 3), None) for c in completions]


# ---- the registry ---------------------------------------------------------------------------------------------
class Reward:
    """A named reward: call it TRL-style for values, or `.details()` for Scores with reasons. Picklable."""

    def __init__(self, name: str, fn: Callable[..., list[Score]], **options):
        self.__name__ = name  # TRL logs rewards under their function name
        self.fn, self.options = fn, options

    def details(self, completions, **kwargs) -> list[Score]:
        """Scores with reasons; a row that breaks the verifier gets Score(None, "malformed:...") alone."""
        completions = list(completions)
        merged = {**kwargs, **self.options}
        try:
            return self.fn(completions, **merged)
        except Exception:  # noqa: BLE001 - find the bad rows one by one
            return [self._one(completions, merged, i) for i in range(len(completions))]

    def _one(self, completions, merged, i) -> Score:
        n = len(completions)
        row = {k: [v[i]] if isinstance(v, (list, tuple)) and len(v) == n else v for k, v in merged.items()}
        try:
            return self.fn([completions[i]], **row)[0]
        except Exception as e:  # noqa: BLE001
            return Score(None, f"malformed:{type(e).__name__}")

    def __call__(self, completions, **kwargs) -> list[float | None]:
        return [s.value for s in self.details(completions, **kwargs)]

    def __repr__(self):
        return f"Reward({self.__name__!r}{''.join(f', {k}={v!r}' for k, v in self.options.items())})"


# Read-only: a stage that needs other reward functions (the general-RL stage's masked and model rewards) passes them to
# the GRPO runner itself, so what a name means never depends on what ran before.
REWARDS: Mapping[str, Reward] = MappingProxyType({
    name: Reward(name, fn)
    for name, fn in [
        ("accuracy", accuracy),
        ("format", format_reward),
        ("tag_count", tag_count_reward),
        ("language_consistency", language_consistency),
        ("code_speed", code_speed),
        ("repetition_penalty", repetition_penalty),
        ("length", length),
        ("reasoning_steps", reasoning_steps),
    ]
})
NAMES = tuple(REWARDS)
# Rewards computed by a trained reward model (r1.train.reward_model), not a rule: name -> the part of a response it
# judges (R1: helpfulness on the final summary only, harmlessness on the whole response).
PREFERENCE_REWARDS = {"helpfulness": "summary", "harmlessness": "whole"}


RULE_KINDS = ("math", "countdown", "code")  # the kinds `accuracy` verifies (r1.tasks.FAMILIES)
_ACCURACY_COLUMNS = ("kind", "answer", "numbers", "target", "tests", "entry_point", "reference", "prompt", "question",
                     "prompts")
_last_accuracy: list = [None, None]  # (key, values) of the last batch: TRL calls every reward on the same batch


def accuracy_values(completions, **kwargs) -> list[float | None]:
    """REWARDS["accuracy"] values, remembered for the last batch (so gating rewards on it costs one verification)."""
    key = hash(repr(([text_of(c) for c in completions], [kwargs.get(c) for c in _ACCURACY_COLUMNS])))
    if _last_accuracy[0] != key:
        _last_accuracy[:] = [key, REWARDS["accuracy"](completions, **kwargs)]
    return list(_last_accuracy[1])


class Gated:
    """A reward function that returns None on every rule-verified row (kind math/countdown/code) whose accuracy is
    None. TRL drops a completion from the group baseline (advantage 0) only when *every* reward function returned None
    for it: one format reward left standing would make an unscored row look like a partial pass. Picklable."""

    def __init__(self, fn: Callable):
        self.fn, self.__name__ = fn, getattr(fn, "__name__", type(fn).__name__)

    def __call__(self, completions, **kwargs) -> list[float | None]:
        completions = list(completions)
        if self.fn is REWARDS["accuracy"]:  # its values are the gate: computed once for the batch
            return accuracy_values(completions, **kwargs)
        values = list(self.fn(completions, **kwargs))
        kinds = _col(kwargs, "kind", len(completions))
        if not any(k in RULE_KINDS for k in kinds):
            return values
        acc = accuracy_values(completions, **kwargs)
        return [None if k in RULE_KINDS and a is None else v for v, a, k in zip(values, acc, kinds)]

    def __repr__(self):
        return f"Gated({self.fn!r})"


def gated(functions: list[Callable]) -> list[Callable]:
    """Every reward function of a GRPO run wrapped in Gated (see there)."""
    return [f if isinstance(f, Gated) else Gated(f) for f in functions]


def get(name: str, **options) -> Reward:
    """The reward called `name` (with options, e.g. get("repetition_penalty", ngram_size=4)); raises UnknownReward."""
    if name not in REWARDS:
        raise UnknownReward(f"unknown reward {name!r}; known: {', '.join(NAMES)}")
    return Reward(name, REWARDS[name].fn, **options) if options else REWARDS[name]


def score(names, completions, **kwargs) -> dict[str, list[Score]]:
    """Every named reward's Scores for the same rows."""
    return {name: get(name).details(completions, **kwargs) for name in names}
