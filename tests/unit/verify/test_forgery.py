"""Forging a verdict from inside the candidate's process (r1.verify.sandbox docstring, "What a candidate can forge").

Every attack here reaches the harness from the candidate's own process: frames, gc, the verdict fd, an early exit,
patched modules or builtins, objects with a custom __eq__. On value tests (judged in the caller) each must fail; on
harness tests (asserts run in the sandbox) the ones the docstring lists as forgeable must pass, so the documented
limits stay true.
"""

import pytest

from r1.verify import code

VALUE_TESTS = ("import math\nassert f(1) == 2\nassert f(2) == 4\nassert abs(f(3) - 6.0) < 1e-6\n"
               "assert math.isclose(f(4), 8.0)\nassert not f(0)")  # fmt: skip
HARNESS_TESTS = "for x in range(1, 5):\n    assert f(x) == 2 * x\nassert f(5) == f(2) + f(3)"
WRONG = "def f(x):\n    return -1\n"

# Report a pass for every test through the harness's own reporter, found by walking up the frames, then leave.
FRAME_WALK = """
import os, sys
def _forge():
    fr = sys._getframe()
    while fr is not None:
        loc = fr.f_locals
        if 'report' in loc and 'tests' in loc:
            report, tests = loc['report'], loc['tests']
            for i, (mode, _) in enumerate(tests):
                report('test', i, 'ok')
            report('done', len(tests))
            os._exit(0)
        fr = fr.f_back
def f(x):
    _forge()
    return -1
"""
# The same through gc: the reporter and the job are objects of this process.
GC_REPORTER = """
import gc, os
def f(x):
    job = next(o for o in gc.get_objects() if type(o) is dict and 'tests' in o and 'entry_point' in o)
    for o in gc.get_objects():
        if type(o).__name__ == 'function' and o.__name__ == 'report':
            for i in range(len(job['tests'])):
                o('test', i, 'ok')
            o('done', len(job['tests']))
            os._exit(0)
    return -1
"""
# Write forged lines straight to the verdict fd with the nonce read from a frame, before any test ran, then exit.
VERDICT_FD = """
import os, sys
fr = sys._getframe()
while fr is not None and 'nonce' not in fr.f_locals:
    fr = fr.f_back
nonce, w, job = fr.f_locals['nonce'], fr.f_locals['w'], fr.f_locals['job']
for i, (mode, src) in enumerate(job['tests']):
    os.write(w, f'{nonce}\\ttest\\t{i}\\tok\\n'.encode())
os.write(w, f'{nonce}\\tload\\tok\\n{nonce}\\tdone\\t{len(job["tests"])}\\n'.encode())
os._exit(0)
def f(x):
    return -1
"""
# Forge, then let the harness go on: sys.exit inside the call is caught, the forged lines came first.
FORGE_THEN_SYS_EXIT = FRAME_WALK.replace("os._exit(0)", "sys.exit(0)")


def scores(sources, tests, reference=None):
    comps = [f"```python\n{s}```" for s in sources]
    n = len(comps)
    return [s for s, _ in code.verify_code(comps, [tests] * n, ["f"] * n, references=[reference] * n)]


FORGERS = {"frame_walk": FRAME_WALK, "gc_reporter": GC_REPORTER, "verdict_fd": VERDICT_FD,
           "forge_then_sys_exit": FORGE_THEN_SYS_EXIT}  # fmt: skip


def test_no_forger_passes_a_value_test():
    for (name, s) in zip(FORGERS, scores(list(FORGERS.values()), VALUE_TESTS)):
        assert s.value == 0.1 and s.reason.startswith("tests_failed: 5/5"), (name, s)  # not one value test passed


def test_forgers_do_pass_harness_tests_as_documented():
    """The documented limit: a harness test's verdict comes from the candidate's own process."""
    got = scores(list(FORGERS.values()) + [WRONG], HARNESS_TESTS)
    assert [s.value for s in got[:-1]] == [1.0] * len(FORGERS)
    assert got[-1].value == 0.1  # the same wrong function, honestly run


PATCHERS = {
    "math_fabs": "import math\nmath.fabs = lambda x: 0.0\nmath.isclose = lambda *a, **k: True\n",
    "builtin_abs": "import builtins\nbuiltins.abs = lambda x: 0.0\n",
    "random_randint": "import random\nrandom.randint = lambda a, b: 0\nrandom.choice = lambda s: 'a'\n",
    "sys_modules_math": "import sys, types\nm = types.ModuleType('math')\nm.fabs = lambda x: 0.0\nsys.modules['math'] = m\n",
}  # fmt: skip


def test_module_patching_cannot_pass_tolerance_value_tests():
    for name, s in zip(PATCHERS, scores([p + WRONG for p in PATCHERS.values()], VALUE_TESTS)):
        assert s.value == 0.1, (name, s)


POLY_TESTS = """
import math, random
rng = random.Random(1)
for _ in range(20):
    xs = [rng.randint(-9, 9) or 1 for _ in range(2)]
    assert math.fabs(xs[0] + xs[1] * f(list(xs))) < 1e-4
for _ in range(20):
    s = ''.join(random.choice('abc') for _ in range(random.randint(3, 9)))
    assert f(s + '|') == s
"""  # HumanEval/32- and /38-like harness tests: a tolerance inside a loop, random inputs
POLY_WRONG = "def f(x):\n    return 0.0 if isinstance(x, list) else ''\n"


def test_naive_module_patching_cannot_pass_harness_tests():
    """The tests import their own copies of common modules (made before the candidate ran)."""
    got = scores([p + POLY_WRONG for p in PATCHERS.values()] + [POLY_WRONG], POLY_TESTS)
    for name, s in zip([*PATCHERS, "unpatched"], got):
        assert s.value == 0.1, (name, s)


def test_gc_patching_the_tests_modules_passes_harness_tests_as_documented():
    gc_patch = ("import gc, types\nfor o in gc.get_objects():\n    if type(o) is types.ModuleType and o.__name__ == 'math':\n"
                "        o.fabs = lambda x: 0.0\n    if type(o) is types.ModuleType and o.__name__ == 'random':\n"
                "        o.randint = lambda a, b: 0\n")  # fmt: skip
    tests = POLY_TESTS.replace("assert f(s + '|') == s", "assert f(s + '|') == s or len(s) == 0")
    assert scores([gc_patch + POLY_WRONG], tests)[0].value == 1.0


class_eq = "class Any:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\n"


@pytest.mark.parametrize("body", [
    class_eq + "def f(x):\n    return Any()\n",
    "class N(int):\n    def __eq__(self, o):\n        return True\n    def __sub__(self, o):\n        return 0\n"
    "def f(x):\n    return N(0)\n",
    "class L(list):\n    def __eq__(self, o):\n        return True\ndef f(x):\n    return L()\n",
    "def f(x):\n    raise SystemExit(0)\n",
    "import os\ndef f(x):\n    os._exit(0)\n",
])  # fmt: skip
def test_objects_and_exits_cannot_pass_value_tests(body):
    s = scores([body], VALUE_TESTS, reference="def f(x):\n    return 2 * x\n")[0]
    assert s.value is not None and s.value <= 0.1, s


def test_what_the_sandbox_gets_of_value_tests_is_only_their_expression():
    job = code.job_for(WRONG, VALUE_TESTS, "f")
    assert [src for mode, src in job["tests"] if mode == "value"] == ["f(1)", "f(2)", "f(3)", "f(4)", "f(0)"]
    assert "6.0" not in repr(job) and "8.0" not in repr(job)
