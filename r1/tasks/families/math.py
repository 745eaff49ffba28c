"""Arithmetic word problems with a numeric answer: a starting amount, then one to `math_max_ops` changes.

Prompts are short and dense in variable slots (names, items, numbers) so that no run of fixed words is long enough
to make every held-out item share a word n-gram with train (see r1.tasks.decontam).
"""

NAMES = ("Ann", "Ben", "Cal", "Dan", "Eve", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kim", "Leo", "Max", "Nia", "Oli",
         "Pam", "Ray", "Sam", "Tia", "Uma", "Vic", "Wes", "Zoe", "Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gil")
ITEMS = ("apples", "pens", "books", "coins", "cards", "eggs", "shells", "stamps", "marbles", "cookies", "rocks",
         "toys", "beads", "cups", "socks", "kites", "hats", "plums", "nuts", "bells")

START = ("{n} has {a} {item}.", "{n} had {a} {item}.", "There are {a} {item} in {n}'s box.")
START_MUL = ("{n} has {a} bags of {b} {item}.", "{n} buys {a} packs of {b} {item}.", "{n} has {a} rows of {b} {item}.")
ADD = ("{n} buys {b} more.", "{n} finds {b} more.", "{n} gets {b} more.", "{o} gives {n} {b} more.",
       "{n} adds {b}.", "{o} brings {b} more.")
SUB = ("{n} gives {b} to {o}.", "{n} loses {b}.", "{n} sells {b}.", "{o} takes {b}.", "{n} uses {b}.")
QUESTION = ("How many {item} now?", "How many does {n} have now?", "How many {item} does {n} have?")
# Each sentence's last words hold a number, the name and the item, so the prompt's final n-gram varies too.
SHARE = ("{d} kids share {n}'s {item}. How many each?", "{d} friends split {n}'s {item}. How many each?")


def generate(rng, cfg) -> dict:
    hi = cfg.math_max_operand
    n, o = rng.sample(NAMES, 2)
    slots = {"n": n, "o": o, "item": rng.choice(ITEMS)}
    ops_left = rng.randint(1, cfg.math_max_ops)
    lines = []
    if rng.random() < 0.3:  # a product as the starting amount
        a, b = rng.randint(2, min(hi, 9)), rng.randint(2, hi)
        sentences = [rng.choice(START_MUL).format(a=a, b=b, **slots)]
        value = a * b
        lines.append(f"{a} * {b} = {value}")
        ops_left -= 1
    else:
        value = rng.randint(2, hi)
        sentences = [rng.choice(START).format(a=value, **slots)]
    question = rng.choice(QUESTION).format(**slots)
    while ops_left > 0:
        divisors = [d for d in range(2, min(hi, value) + 1) if value % d == 0]
        op = rng.choice("++--/" if ops_left == 1 and divisors else "++--")
        if op == "-" and value < 2:
            op = "+"
        if op == "+":
            b = rng.randint(1, hi)
            sentences.append(rng.choice(ADD).format(b=b, **slots))
            lines.append(f"{value} + {b} = {value + b}")
            value += b
        elif op == "-":
            b = rng.randint(1, min(hi, value - 1))
            sentences.append(rng.choice(SUB).format(b=b, **slots))
            lines.append(f"{value} - {b} = {value - b}")
            value -= b
        else:
            d = rng.choice(divisors)
            question = rng.choice(SHARE).format(d=d, **slots)
            lines.append(f"{value} / {d} = {value // d}")
            value //= d
        ops_left -= 1
    prompt = " ".join(sentences + [question])
    return {"prompt": prompt, "solution": "\n".join(lines), "answer": str(value)}
