"""Countdown: the answer is an arithmetic equation over the given numbers that hits the target.

Model text is never `eval`ed: the expression is parsed with `ast`, only numbers, + - * / and parentheses are allowed,
each given number is used at most once, and the arithmetic is exact (`Fraction`).
"""

from __future__ import annotations

import ast
import operator
import re
from collections import Counter
from fractions import Fraction

from r1.verify import Score

OPS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}
MAX_LEN = 200


class Rejected(ValueError):
    pass


def _eval(node) -> Fraction:
    if isinstance(node, ast.Expression):
        return _eval(node.body)
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return Fraction(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in OPS:
        left, right = _eval(node.left), _eval(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise Rejected("division_by_zero")
        return OPS[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        return -_eval(node.operand)
    raise Rejected("disallowed_syntax")


def _literals(tree) -> list[int]:
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)]


def check(answer: str | None, numbers, target) -> Score:
    if answer is None or not answer.strip():
        return Score(0.0, "no_answer")
    expr = answer.strip().strip("$").replace("\\times", "*").replace("\\cdot", "*").replace("×", "*").replace("÷", "/")
    expr = expr.replace("\\div", "/")
    if "=" in expr:  # "3 + 5 * 2 = 13": the left side is the equation, the right must be the target if given
        expr, _, rhs = expr.partition("=")
        if rhs.strip() and re.fullmatch(r"\s*-?\d+\s*", rhs) is None:
            return Score(0.0, "disallowed_syntax")
    if len(expr) > MAX_LEN:
        return Score(0.0, "too_long")
    try:
        tree = ast.parse(expr.strip(), mode="eval")
        value = _eval(tree)
    except Rejected as e:
        return Score(0.0, str(e))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return Score(0.0, "unparsable")
    if Counter(_literals(tree)) - Counter(int(n) for n in numbers):
        return Score(0.0, "wrong_numbers")
    return Score(1.0, None) if value == int(target) else Score(0.0, "wrong_answer")
