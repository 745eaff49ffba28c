"""Python function writing with hidden unit tests: templated list functions with a constant `k`.

Each template has function names, prompt phrasings, a one-line reasoning, the function body, and a reference
implementation that computes the expected test values. The function name and `k` vary per task, which keeps runs of
fixed prompt words short (see r1.tasks.decontam). The article's example ("sort the list and put 42 first") is ARTICLE.
"""

from typing import Callable, NamedTuple


class Template(NamedTuple):
    names: tuple[str, ...]
    phrasings: tuple[str, ...]  # what the function does, with {k}
    think: str  # the reasoning, with {k}
    body: str  # the return expression, with {k}
    fn: Callable[[list, int], object]
    k_range: tuple[int, int] = (1, 99)


# Phrasings name `k` within their first few words and stay short, so every n-gram of a prompt holds k or the
# function/argument name (see r1.tasks.decontam).
TEMPLATES = (
    Template(("add_k", "plus", "shift_up", "bump"), ("add {k} to each number", "add {k} to every value"),
             "add {k} to each x", "[x + {k} for x in {xs}]", lambda xs, k: [x + k for x in xs]),
    Template(("sub_k", "minus", "shift_down", "lower"), ("subtract {k} from each number", "take {k} off every value"),
             "subtract {k} from each x", "[x - {k} for x in {xs}]", lambda xs, k: [x - k for x in xs]),
    Template(("times", "scale", "mul_k", "grow"), ("return {k} times each number", "scale every value by {k}"),
             "multiply each x by {k}", "[x * {k} for x in {xs}]", lambda xs, k: [x * k for x in xs], (2, 30)),
    Template(("above", "keep_big", "over_k", "high"), ("keep numbers over {k}", "drop values up to {k}"),
             "keep x if x > {k}", "[x for x in {xs} if x > {k}]", lambda xs, k: [x for x in xs if x > k]),
    Template(("below", "keep_small", "under_k", "small"), ("keep numbers under {k}", "drop values from {k} up"),
             "keep x if x < {k}", "[x for x in {xs} if x < {k}]", lambda xs, k: [x for x in xs if x < k]),
    Template(("drop_k", "remove", "without", "purge"), ("remove every {k}", "drop all {k}s from {xs}"),
             "keep x if x != {k}", "[x for x in {xs} if x != {k}]", lambda xs, k: [x for x in xs if x != k]),
    Template(("count_k", "how_many", "tally", "occurs"), ("count the {k}s in {xs}", "count how often {k} appears"),
             "count the {k}s in {xs}", "{xs}.count({k})", lambda xs, k: xs.count(k)),
    Template(("sort_put", "sorted_k", "order_k", "lead"), ("put {k} first, then {xs} sorted",
                                                           "prepend {k} to sorted {xs}"),
             "sort {xs}, then put {k} first", "[{k}] + sorted({xs})", lambda xs, k: [k] + sorted(xs)),
    Template(("append_k", "push", "add_end", "extend"), ("append {k} at the end", "add {k} after the last item"),
             "put {k} after {xs}", "{xs} + [{k}]", lambda xs, k: xs + [k]),
    Template(("rev_k", "flip", "backwards", "mirror"), ("append {k} to reversed {xs}",
                                                        "reverse, then add {k} at the end"),
             "reverse {xs}, then put {k} last", "{xs}[::-1] + [{k}]", lambda xs, k: xs[::-1] + [k]),
    Template(("sum_k", "total", "add_up", "tot"), ("return the sum plus {k}", "add {k} to the total of {xs}"),
             "sum {xs}, then add {k}", "sum({xs}) + {k}", lambda xs, k: sum(xs) + k),
    Template(("max_k", "largest", "top", "peak"), ("largest of {k} and {xs}", "max of {k} and all of {xs}"),
             "take the max of {xs} and {k}", "max({xs} + [{k}])", lambda xs, k: max(xs + [k])),
    Template(("min_k", "smallest", "low", "floor"), ("smallest of {k} and {xs}", "min of {k} and all of {xs}"),
             "take the min of {xs} and {k}", "min({xs} + [{k}])", lambda xs, k: min(xs + [k])),
    Template(("zero_k", "replace", "blank", "mask"), ("replace each {k} with 0", "turn every {k} into 0"),
             "map {k} to 0, keep the rest", "[0 if x == {k} else x for x in {xs}]",
             lambda xs, k: [0 if x == k else x for x in xs]),
    Template(("count_big", "n_above", "exceed", "n_over"), ("count numbers above {k}", "how many exceed {k}"),
             "count x with x > {k}", "len([x for x in {xs} if x > {k}])", lambda xs, k: len([x for x in xs if x > k])),
    Template(("sort_down", "desc_k", "ranked", "tail"), ("append {k} to {xs} sorted big to small",
                                                         "sort descending, then add {k}"),
             "sort {xs} descending, then put {k} last", "sorted({xs}, reverse=True) + [{k}]",
             lambda xs, k: sorted(xs, reverse=True) + [k]),
    Template(("has_k", "contains", "find", "member"), ("return True if {k} is in {xs}", "check whether {k} is in {xs}"),
             "check if {k} is in {xs}", "{k} in {xs}", lambda xs, k: k in xs),
    Template(("index_k", "where", "position", "locate"), ("index of {k} in {xs}, or -1",
                                                          "position of {k} in {xs}, -1 if absent"),
             "find {k} in {xs}, else -1", "{xs}.index({k}) if {k} in {xs} else -1",
             lambda xs, k: xs.index(k) if k in xs else -1),
)
ARGS = ("xs", "nums", "vals", "items", "lst", "data", "ns", "arr")  # the list argument's name varies too
SORT_42 = TEMPLATES[7]
ARTICLE_PROMPT = ("Write Python code that takes a list of numbers, returns them sorted, and adds 42 at the beginning. "
                  "Call it sort42(xs).")


def make(template: Template, name: str, arg: str, k: int, prompt: str, rng) -> dict:
    reference = f"def {name}({arg}):\n    return {template.body.format(k=k, xs=arg)}\n"
    while True:  # five tests with varied expected values, so a constant answer cannot pass them
        inputs = [[rng.randint(0, 2 * k + 5) for _ in range(rng.randint(1, 5))] for _ in range(5)]
        for xs in inputs:
            if rng.random() < 0.5:  # tests about k should see k
                xs.insert(rng.randrange(len(xs) + 1), k)
        expected = [template.fn(list(xs), k) for xs in inputs]
        if len({repr(e) for e in expected}) >= 2:
            break
    tests = [f"assert {name}({xs!r}) == {e!r}" for xs, e in zip(inputs, expected)]
    return {"prompt": prompt, "solution": template.think.format(k=k, xs=arg), "answer": reference,
            "reference": reference, "tests": "\n".join(tests) + "\n", "entry_point": name}


def generate(rng, cfg) -> dict:
    template = rng.choice(TEMPLATES)
    name, arg = rng.choice(template.names), rng.choice(ARGS)
    k = rng.randint(*template.k_range)
    prompt = f"Write {name}({arg}): {rng.choice(template.phrasings).format(k=k, xs=arg)}."
    return make(template, name, arg, k, prompt, rng)


def article(rng) -> dict:
    """The article's example: sort the list and put 42 first."""
    return make(SORT_42, "sort42", "xs", 42, ARTICLE_PROMPT, rng)
