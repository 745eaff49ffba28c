"""Countdown: reach a target from given numbers with + - * /, each number at most once.

The target is made by combining the numbers at random, so it is always reachable; the lines of that construction are
the worked solution and the expression is the answer. The prompt is shorter than a decontamination n-gram, so two
prompts overlap only when they are the same task (numbers are sorted, so permutations are the same prompt).
"""

PREC = {"+": 1, "-": 1, "*": 2, "/": 2}
ATOM = 3


def combine(a: int, b: int, op: str) -> int | None:
    """a op b when it is a positive integer, else None."""
    if op == "+":
        return a + b
    if op == "-":
        return a - b if a > b else None
    if op == "*":
        return a * b if a > 1 and b > 1 else None  # x * 1 is a wasted step
    return a // b if b > 1 and a % b == 0 else None


def wrap(expr: str, prec: int, need: int) -> str:
    return f"({expr})" if prec < need else expr


def generate(rng, cfg) -> dict:
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
            op = rng.choice([op for op in "+-*/" if combine(a, b, op) is not None])
            c, p = combine(a, b, op), PREC[op]
            expr = f"{wrap(ea, pa, p)} {op} {wrap(eb, pb, p + (op in '-/'))}"  # b - (c + d), b / (c * d)
            lines.append(f"{a} {op} {b} = {c}")
            pool.insert(rng.randrange(len(pool) + 1), (c, expr, p))
        target, expr, _ = pool[0]
        # A target among the numbers is solved by quoting it; keep targets within a small model's reach.
        if target not in numbers and target <= hi * hi:
            break
    prompt = f"Make {target} from {', '.join(map(str, numbers))}, each once."
    return {"prompt": prompt, "solution": "\n".join(lines), "answer": expr, "numbers": numbers, "target": target}
