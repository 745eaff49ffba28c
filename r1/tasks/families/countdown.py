"""Countdown: reach a target from given numbers with + - * /, each number at most once.

The target is made by combining the numbers at random, so it is always reachable; the lines of that construction are
the worked solution and the expression is the answer. The prompt is shorter than a decontamination n-gram, so two
prompts overlap only when they are the same task.

The operations are `tasks.countdown_ops` (all four in the classic game; a prompt with fewer names them).
Two variants (`tasks.countdown_in_order`): numbers sorted, target built by combining them in any structure (the
classic game); or numbers listed in an order that reaches the target folding left to right, ((a op b) op c): the
search is then over operations only, within a small model's reach. Either way any correct equation scores (the
verifier does not ask for the order).
"""

import re
from itertools import product

PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
ATOM = 3


def prompt_of(target: int, numbers: list[int], ops: str) -> str:
    """The task statement; it names the operations when they are not all four ("with +, - and *")."""
    allowed = ""
    if set(ops) != set("+-*/"):
        allowed = " with " + (ops if len(ops) == 1 else ", ".join(ops[:-1]) + " and " + ops[-1])
    return f"Make {target} from {', '.join(map(str, numbers))}{allowed}, each once."


def allowed_ops(prompt: str) -> str:
    """The operations a prompt allows (all four when it names none)."""
    m = re.search(r" with ([-+*/](?:(?:, | and )[-+*/])*), each once\.$", prompt)
    return "".join(re.findall(r"[-+*/]", m[1])) if m else "+-*/"


def combine(a: int, b: int, op: str) -> int | None:
    """a op b when it is a positive integer, else None."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b if a > b else None
    if op == "*":
        return a * b if a > 1 and b > 1 else None  # x * 1 is a wasted step
    return a // b if b > 1 and a % b == 0 else None


def wrap(expr: str, prec: int) -> str:
    """Every combined operand in parentheses: the answer is then the last line with the earlier lines substituted in,
    a copy a small model can make (minimal parentheses would ask it to weigh precedence)."""
    return f"({expr})" if prec != ATOM else expr


def generate(rng, cfg) -> dict:
    if cfg.countdown_in_order:
        return generate_in_order(rng, cfg)
    k, hi = cfg.countdown_numbers, cfg.countdown_max_number
    while True:
        numbers = sorted(rng.randint(1, hi) for _ in range(k))
        pool = [(n, str(n), ATOM) for n in numbers]  # (value, expression, precedence)
        rng.shuffle(pool)
        lines = []
        while len(pool) > 1:
            (a, ea, pa), (b, eb, pb) = pool.pop(), pool.pop()
            if a < b:
                (a, ea, pa), (b, eb, pb) = (b, eb, pb), (a, ea, pa)
            choices = [op for op in cfg.countdown_ops if combine(a, b, op) is not None]
            if not choices:  # these two cannot combine with the allowed operations: draw again
                pool = []
                break
            op = rng.choice(choices)
            c, p = combine(a, b, op), PREC[op]
            expr = f"{wrap(ea, pa)} {op} {wrap(eb, pb)}"
            lines.append(f"{a} {op} {b} = {c}")
            pool.insert(rng.randrange(len(pool) + 1), (c, expr, p))
        if not pool:
            continue
        target, expr, _ = pool[0]
        # A target among the numbers is solved by quoting it; keep targets within a small model's reach.
        if target not in numbers and target <= hi * hi:
            break
    prompt = prompt_of(target, numbers, cfg.countdown_ops)
    return {"prompt": prompt, "solution": "\n".join(lines), "answer": expr, "numbers": numbers, "target": target}


def generate_in_order(rng, cfg) -> dict:
    """Numbers in the order that works: ((n1 op n2) op n3) ..., every intermediate a positive integer. The sequence of
    operations is drawn first, uniformly, then numbers it works for, so no one pattern is a safe guess."""
    k, hi = cfg.countdown_numbers, cfg.countdown_max_number
    sequences = list(product(cfg.countdown_ops, repeat=k - 1))
    seq = rng.choice(sequences)
    while True:
        numbers = [rng.randint(1, hi) for _ in range(k)]
        fold = _fold(numbers, seq)
        if fold is not None and fold[0] not in numbers and fold[0] <= hi * hi:
            break
    target, expr, lines = fold
    prompt = prompt_of(target, numbers, cfg.countdown_ops)
    return {"prompt": prompt, "solution": "\n".join(lines), "answer": expr, "numbers": numbers, "target": target}


def _fold(numbers: list[int], ops) -> tuple[int, str, list[str]] | None:
    value, expr, prec, lines = numbers[0], str(numbers[0]), ATOM, []
    for op, b in zip(ops, numbers[1:]):
        c = combine(value, b, op)
        if c is None:
            return None
        lines.append(f"{value} {op} {b} = {c}")
        expr, prec, value = f"{wrap(expr, prec)} {op} {b}", PREC[op], c
    return value, expr, lines



def solve(numbers: list[int], target: int, ops: str = "+-*/") -> tuple[str, list[str]] | None:
    """An expression reaching `target` from `numbers` (each at most once) in at least one step, every intermediate a
    positive integer (the classic rules, as `combine`), and its `a op b = c` lines; None when there is none.
    The values each subset of the numbers reaches are built from those of its two parts, smaller subsets first, so
    the answer uses the fewest numbers it can. Imported tasks (r1.tasks.imports) get a worked solution this way, and
    an unreachable target is found out before training on it."""
    k = len(numbers)
    reach: list[dict[int, tuple[str, int, tuple[str, ...]]]] = [{} for _ in range(1 << k)]  # value -> expr, prec, lines
    for i, n in enumerate(numbers):
        reach[1 << i][int(n)] = (str(int(n)), ATOM, ())
    for mask in sorted(range(1, 1 << k), key=lambda m: (bin(m).count("1"), m)):
        if not mask & (mask - 1):
            continue  # one number: quoting it is no step
        out = reach[mask]
        part = (mask - 1) & mask
        while part:  # every ordered split (part, rest) of the subset
            rest = mask ^ part
            for a, (ea, pa, la) in reach[part].items():
                for b, (eb, pb, lb) in reach[rest].items():
                    for op in ops:
                        c = None if op in "+*" and part > rest else combine(a, b, op)  # commutative: once
                        if c is not None and c not in out:
                            expr = f"{wrap(ea, pa)} {op} {wrap(eb, pb)}"
                            out[c] = (expr, PREC[op], (*la, *lb, f"{a} {op} {b} = {c}"))
            part = (part - 1) & mask
        if target in out:
            expr, _, lines = out[target]
            return expr, list(lines)
    return None
