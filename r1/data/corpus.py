"""The synthetic pretraining corpus: task prompts in the R1-Zero template, each followed by one sampled trace.

Built from the TRAIN split only. A trace is one of (rates from params `base`):
  reasoned    `<think> worked lines </think> <answer> answer </answer>` (correct)
  direct      `<think> </think> <answer> answer </answer>`: no reasoning, so often beyond a small model
  guess       direct, but wrong: no reasoning and a miscomputed answer (countdown: a miss; code: a bug)
  wrong       reasoned, but one line is miscomputed and the error carries to a wrong answer (countdown: the attempt
              misses the target, is seen to miss, and is answered anyway; code: a bug)
              (guess + wrong: error_rate; GUESS_SHARE of the wrong traces are guesses)
  malformed   the answer outside `<answer>` tags                                            (rate: malformed_rate)
  reflective  math: a line is miscomputed, then "wait, ..." catches and corrects it, or a closing "verify:" by the
              inverse operation. Countdown: one to three attempts that miss, each seen to miss ("19 is not 9") and
              followed by "wait, " and another attempt, up to the hit. Code: a closing "verify:" with a test case
              (rate: reflection_rate)
  worked      a worked example outside the chat template ("Worked example: <task>. Assistant: <reasoned trace>"),
              as textbooks hold them (rate: worked_rate, of all documents; the rates above are shares of the rest)
  drill       arithmetic practice: DRILL_LINES lines `a op b = c` taken from train solutions (rate: drill_rate, of
              all documents); every token is learned, so the facts the traces need are seen many times over
Worked examples teach the skill (copying the numbers, one operation a line); the templated documents carry the habit
(under the R1-Zero template the base mostly answers at once). A base that can reason but rarely does is what R1-Zero
started from: its pass@k is far above its pass@1, and RL turns the gap into reliability.
Errors sit mostly in the direct answers, decided at the first token (`</think>` or a reasoning line), so they
survive low-temperature sampling (a rare slip inside a reasoned trace is sharpened away at T=0.6, a coin flip between
modes is not). So reasoning goes with being right and guessing with being wrong: GRPO has something to select, and
selecting it makes completions longer (the R1-Zero effect in miniature).
Every countdown attempt ends by comparing its value with the target ("9 is 9", "19 is not 9"): a miss is seen before
the answer is written, and the corpus then either answers anyway (wrong) or writes "wait, " and tries again
(reflective). After a seen miss only the retry can be right, so GRPO selects it and reflection grows over RL, as in
R1-Zero: a check easier than the search it checks (comparing two numbers), and a retry worth taking. The math slips
and the closing checks do not pay (the model copies their surface) and RL trains them away (docs/results.md, "Reflection
grows where it pays").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from itertools import permutations

from r1.tasks.families import countdown as countdown_family
from r1.tasks.schema import TEMPLATE_TAIL, r1_zero_prompt

LINE_RE = re.compile(r"^\s*(-?\d+) ([-+*/]) (-?\d+) = (-?\d+)\s*$")
MODES = ("reasoned", "direct", "guess", "wrong", "malformed", "reflective", "worked", "drill")
DRILL_LINES = 8
WORKED_HEAD = "Worked example: "
WORKED_RETRY_SHARE = 0.5  # of the countdown worked examples, those that show misses before the hit
RETRY_MISSES = (1, 1, 1, 2, 2, 3)  # misses before the hit in a reflective countdown trace
GUESS_SHARE = 0.8  # of the wrong traces, the share that are direct guesses


@dataclass(frozen=True)
class Mix:
    """Shares of the trace modes; `reasoned` gets the rest."""

    error_rate: float
    reflection_rate: float
    direct_rate: float
    malformed_rate: float
    worked_rate: float = 0.0
    drill_rate: float = 0.0

    def __post_init__(self):
        if self.error_rate + self.reflection_rate + self.direct_rate + self.malformed_rate > 1.0:
            raise ValueError("error_rate + reflection_rate + direct_rate + malformed_rate exceed 1")

    def sample(self, rng: random.Random) -> str:
        if self.drill_rate and rng.random() < self.drill_rate:
            return "drill"
        if self.worked_rate and rng.random() < self.worked_rate:
            return "worked"
        u = rng.random()
        for mode, rate in (("guess", self.error_rate * GUESS_SHARE), ("wrong", self.error_rate * (1 - GUESS_SHARE)),
                           ("reflective", self.reflection_rate),
                           ("direct", self.direct_rate), ("malformed", self.malformed_rate)):
            if u < rate:
                return mode
            u -= rate
        return "reasoned"


def apply(a: int, op: str, b: int) -> int | None:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    return a // b if b and a % b == 0 else None


def parse_lines(solution: str) -> list[tuple[int, str, int, int]] | None:
    """`a op b = c` lines, or None when any line is something else."""
    out = []
    for line in (solution or "").strip().splitlines():
        m = LINE_RE.match(line)
        if not m:
            return None
        out.append((int(m[1]), m[2], int(m[3]), int(m[4])))
    return out or None


def fmt(a, op, b, c) -> str:
    return f"{a} {op} {b} = {c}"


def wrap(think: str, answer: str) -> str:
    think = f" {think} " if think else " "
    return f" <think>{think}</think> <answer> {answer.strip()} </answer>"


def slip(rng: random.Random, c: int) -> int:
    """A plausible miscomputation of c."""
    while True:
        w = c + rng.choice([-10, -2, -1, -1, 1, 1, 2, 10])
        if w != c and w >= 0:
            return w


# ---- math: a chain of lines, each line's left operand the previous result ------------------------------------------
def _chain(lines, start: int, first_value: int):
    """Recompute lines from index `start` on with `first_value` as line start's result; None if not integral."""
    out = list(lines[:start])
    a, op, b, _ = lines[start]
    out.append((a, op, b, first_value))
    value = first_value
    for a, op, b, c in lines[start + 1:]:
        a2 = value  # math solutions chain: each line starts from the previous result
        c2 = apply(a2, op, b)
        if c2 is None or c2 < 0:
            return None
        out.append((a2, op, b, c2))
        value = c2
    return out


def math_trace(rec: dict, mode: str, rng: random.Random) -> str:
    answer = str(rec["answer"])
    lines = parse_lines(rec["solution"])
    if lines is None:  # not line-structured: no corruption possible
        return generic_trace(rec["solution"], answer, mode, rng)
    text = "\n".join(fmt(*ln) for ln in lines)
    if mode == "reasoned":
        return wrap(text, answer)
    if mode == "direct":
        return wrap("", answer)
    if mode == "guess":
        return wrap("", str(slip(rng, int(answer)))) if answer.lstrip("-").isdigit() else wrap("", answer + "0")
    if mode == "malformed":
        return malformed(text, answer, rng)
    i = rng.randrange(len(lines))
    bad = None
    for _ in range(10):
        bad = _chain(lines, i, slip(rng, lines[i][3]))
        if bad is not None:
            break
        i = len(lines) - 1  # the last line never needs to propagate
    if mode == "wrong":
        return wrap("\n".join(fmt(*ln) for ln in bad), str(bad[-1][3]))
    # reflective: half catch a slip with "wait", half close with a check by the inverse operation
    if rng.random() < 0.5:
        a, op, b, c = lines[i]
        steps = [fmt(*ln) for ln in lines[:i]] + [fmt(a, op, b, bad[i][3]), f"wait, {fmt(a, op, b, c)}"]
        steps += [fmt(*ln) for ln in lines[i + 1:]]
        return wrap("\n".join(steps), answer)
    a, op, b, c = lines[-1]
    inverse = {"+": (c, "-", b, a), "-": (c, "+", b, a), "*": (c, "/", b, a), "/": (c, "*", b, a)}[op]
    return wrap(text + f"\nverify: {fmt(*inverse)}", answer)


def malformed(think: str, answer: str, rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f" <think> {think} </think> {answer}" if think else f" {answer}"
    return f" <think> {think}\nthe answer is {answer} </think>"


def generic_trace(think: str, answer: str, mode: str, rng: random.Random) -> str:
    if mode in ("direct", "guess"):
        return wrap("", answer)
    if mode == "malformed":
        return malformed(think, answer, rng)
    return wrap(think, answer)


# ---- countdown: attempts at combining the numbers ----------------------------------------------------------------
def attempts(numbers: list[int], in_order: bool = False, ops: str = "+-*/"):
    """Every way to fold the numbers left to right with the operations `ops` (positive integers only), in every
    order or only in the given one: (value, lines, expression)."""
    out = []
    for perm in [tuple(numbers)] if in_order else sorted(set(permutations(numbers))):
        def rec(value, expr, prec, rest, lines):
            if not rest:
                out.append((value, lines, expr))
                return
            b, rest2 = rest[0], rest[1:]
            for op in ops:
                if op in "-/" and value < b:
                    continue  # keep left >= right, as the worked solutions do
                c = apply(value, op, b)
                if c is None or c <= 0 or (op in "*/" and b == 1):
                    continue
                expr2 = f"{countdown_family.wrap(expr, prec)} {op} {b}"  # parenthesised as the worked answers are
                rec(c, expr2, countdown_family.PREC[op], rest2, lines + [fmt(value, op, b, c)])
        rec(perm[0], str(perm[0]), countdown_family.ATOM, list(perm[1:]), [])
    return out


def folds_in_order(rec: dict) -> bool:
    """Does the worked solution combine the numbers left to right in the listed order?"""
    lines = parse_lines(rec.get("solution"))
    numbers = list(rec["numbers"])
    return bool(lines) and len(lines) == len(numbers) - 1 and lines[0][0] == numbers[0] and all(
        b == n for (_, _, b, _), n in zip(lines, numbers[1:]))


def compared(value: int, target: int) -> str:
    """The line that closes every countdown attempt: its value against the target ("14 is 14", "13 is not 14")."""
    return f"{value} is {target}" if value == target else f"{value} is not {target}"


def countdown_trace(rec: dict, mode: str, rng: random.Random) -> str:
    numbers, target, answer = list(rec["numbers"]), int(rec["target"]), str(rec["answer"])
    # every attempt ends by comparing its value with the target, so a miss is seen before the answer is written
    think = f"{rec['solution']}\n{compared(target, target)}"
    if mode == "reasoned":
        return wrap(think, answer)
    if mode == "direct":
        return wrap("", answer)
    if mode == "malformed":
        return malformed(think, answer, rng)
    # misses fold the numbers as listed (when they are listed in a working order) with other operations, else any
    ops = countdown_family.allowed_ops(rec["prompt"])
    misses = [a for a in attempts(numbers, in_order=folds_in_order(rec), ops=ops) if a[0] != target]
    if not misses:  # every fold hits the target: nothing to miss, so check the answer instead
        if mode in ("wrong", "guess"):
            return wrap(think if mode == "wrong" else "", f"{answer} + 1")
        return wrap(f"{think}\nverify: {answer} = {target}", answer)
    value, lines, expr = rng.choice(misses)
    if mode == "guess":
        return wrap("", expr)
    if mode == "wrong":  # the miss is seen and answered anyway
        return wrap("\n".join(lines + [compared(value, target)]), expr)
    # reflective: one to three attempts that miss, each seen to miss and followed by "wait, " and another, up to the
    # hit; after a miss this is the only way to be right, so a retry pays whenever it can hit
    tries = rng.sample(misses, min(len(misses), rng.choice(RETRY_MISSES)))
    steps = []
    for i, (value, lines, _) in enumerate(tries + [(target, rec["solution"].splitlines(), answer)]):
        first, *rest = lines
        steps += [f"wait, {first}" if i else first, *rest, compared(value, target)]
    return wrap("\n".join(steps), answer)


# ---- code: a one-line plan and a function -------------------------------------------------------------------------
BUGS = ((" > ", " >= "), (" < ", " <= "), (" + ", " - "), (" - ", " + "), ("[::-1]", ""),
        ("reverse=True", "reverse=False"), (" != ", " == "), (" in ", " not in "), ("max(", "min("), ("min(", "max("),
        ("sorted(", "list("))


def bug(code: str, rng: random.Random) -> str:
    options = [(a, b) for a, b in BUGS if a in code]
    if options and rng.random() < 0.7:
        a, b = rng.choice(options)
        return code.replace(a, b, 1)
    nums = list(re.finditer(r"(?<![\w.])\d+(?![\w.])", code))
    if nums:
        m = rng.choice(nums)
        v = int(m[0])
        return code[:m.start()] + str(v + rng.choice([-1, 1]) if v > 0 else v + 1) + code[m.end():]
    return code.replace("return ", "return 0 and ", 1)


def code_trace(rec: dict, mode: str, rng: random.Random) -> str:
    code = (rec.get("reference") or rec["answer"]).rstrip("\n")
    think = rec["solution"] or ""
    if mode == "reasoned":
        return wrap(think, code)
    if mode == "direct":
        return wrap("", code)
    if mode == "malformed":
        return malformed(think, code, rng)
    if mode == "wrong":
        return wrap(think, bug(code, rng))
    if mode == "guess":
        return wrap("", bug(code, rng))
    # reflective: check the plan against a test case
    first = (rec.get("tests") or "").strip().splitlines()
    check = first[0].removeprefix("assert ").strip() if first else f"{rec.get('entry_point')} is defined"
    return wrap(f"{think}\nverify: {check}", code)


TRACES = {"math": math_trace, "countdown": countdown_trace, "code": code_trace}


def trace(rec: dict, mode: str, rng: random.Random) -> str:
    return TRACES[rec["kind"]](rec, mode, rng)


def document(rec: dict, mode: str, rng: random.Random) -> str:
    """One pretraining document: the R1-Zero prompt and a trace, or a worked example (eos is appended by the
    tokenizer step). Both end their prompt with the template's tail, so the loss mask finds the completion."""
    if mode == "worked":
        # countdown is solved by trying: textbooks show attempts that miss, each seen to miss, then the hit
        shown = "reflective" if rec["kind"] == "countdown" and rng.random() < WORKED_RETRY_SHARE else "reasoned"
        return WORKED_HEAD + rec["prompt"] + TEMPLATE_TAIL + trace(rec, shown, rng)
    return r1_zero_prompt(rec["prompt"]) + trace(rec, mode, rng)


def worked(rec: dict) -> bool:
    """Does the record carry what a trace is written from? Imported code without a canonical solution does not (it
    is for RL and eval only)."""
    if rec["kind"] == "code":
        return bool(rec.get("reference") or rec.get("answer"))
    return bool(rec.get("solution")) and rec.get("answer") is not None


def build(records: list[dict], n: int, mix: Mix, seed: int, kind_shares: dict[str, float] | None = None) -> list[dict]:
    """n documents sampled from train `records` that have a worked solution (`worked`): [{'text', 'mode', 'kind',
    'id'}]. Eval records are refused.
    `kind_shares` (kind -> weight) sets each family's share of the documents; None samples records uniformly."""
    eval_ids = [r["id"] for r in records if r.get("split") not in (None, "train")]
    if eval_ids:
        raise ValueError(f"corpus: refusing non-train records (e.g. {eval_ids[0]!r}); pass the train split only")
    records = [r for r in records if worked(r)]
    if not records:
        raise ValueError("corpus: no train records with a worked solution")
    rng = random.Random(seed)
    by_kind: dict[str, list[dict]] = {}
    for rec in records:
        by_kind.setdefault(rec["kind"], []).append(rec)
    if kind_shares:
        kinds = [k for k in sorted(by_kind) if kind_shares.get(k, 0) > 0]
        if not kinds:
            raise ValueError(f"corpus: kind_shares {kind_shares} select none of the kinds {sorted(by_kind)}")
        weights = [kind_shares[k] for k in kinds]
    facts = [line for r in records if r["kind"] != "code" for line in (r.get("solution") or "").splitlines()
             if LINE_RE.match(line)] if mix.drill_rate else []
    docs = []
    for _ in range(n):
        mode = mix.sample(rng)
        if mode == "drill" and facts:
            text = "\n".join(rng.choice(facts) for _ in range(DRILL_LINES))
            docs.append({"text": text, "mode": mode, "kind": "drill", "id": None})
            continue
        if mode == "drill":  # no arithmetic lines to drill on: a worked example instead
            mode = "worked"
        if kind_shares:
            pool = by_kind[rng.choices(kinds, weights)[0]]
            rec = pool[rng.randrange(len(pool))]
        else:
            rec = records[rng.randrange(len(records))]
        docs.append({"text": document(rec, mode, rng), "mode": mode, "kind": rec["kind"], "id": rec["id"]})
    return docs
