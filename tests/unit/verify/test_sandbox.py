"""The code sandbox: hostile completions score 0 with a reason and leave nothing behind; verdicts cannot be forged."""

import os
import socket
import subprocess
import sys
import threading
import time

import pytest

from r1.verify import code
from r1.verify.pool import pool

from helpers.pipeline import ROOT

TESTS = "assert f([3, 1, 2]) == [42, 1, 2, 3]\nassert f([]) == [42]\nassert f([5]) == [42, 5]"
GOOD = "def f(xs):\n    return [42] + sorted(xs)\n"


@pytest.fixture(autouse=True)
def short_timeout(monkeypatch):
    monkeypatch.setattr(code, "TIMEOUT", 1.0)


@pytest.fixture(scope="module")
def isolation():
    return pool("code").call("r1.verify.sandbox:isolation", None)


def run(sources, tests=TESTS, entry="f"):
    comps = [f"<think>.</think> <answer>\n```python\n{s}```\n</answer>" for s in sources]
    return [s for s, _ in code.verify_code(comps, [tests] * len(comps), [entry] * len(comps))]


def sandbox_processes() -> list[str]:
    """Processes owned by a sandbox uid (100000 + zygote pid) still alive."""
    out = subprocess.run(["ps", "-eo", "uid=,pid=,args="], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line.split() and int(line.split()[0]) >= 100000]


def test_good_code_passes():
    assert run([GOOD]) == [(1.0, None)]


HOSTILE = {
    "loop_at_load": ("while True:\n    pass\n" + GOOD, "timeout"),
    "loop_in_function": ("def f(xs):\n    while True:\n        pass\n", "timeout"),
    "sleep": ("import time\ntime.sleep(60)\n" + GOOD, "timeout"),
    "fork_bomb": ("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n" + GOOD, "timeout"),
    "alloc_4gb": ("x = bytearray(4 * 1024 ** 3)\n" + GOOD, "memory"),
    "alloc_4gb_in_function": ("def f(xs):\n    x = bytearray(4 * 1024 ** 3)\n    return [42] + sorted(xs)\n", "memory"),
    "delete_etc": ("import os\nos.remove('/etc/hostname')\n" + GOOD, "blocked"),
    "rmtree_project": (f"import shutil\nshutil.rmtree({os.getcwd()!r})\n" + GOOD, None),
    "write_up": ("open('../../../escaped.txt', 'w').write('x')\n" + GOOD, "blocked"),
    "write_etc": ("open('/etc/r1-sandbox-escape', 'w').write('x')\n" + GOOD, "blocked"),
    "kill_everyone": ("import os\nfor p in range(1, 5000):\n    try:\n        os.kill(p, 9)\n    except Exception:\n        pass\n" + GOOD, None),
}  # fmt: skip


def test_hostile_completions_score_zero_and_leave_nothing(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    HOSTILE["delete_victim"] = (f"import os\nos.remove({str(victim)!r})\n" + GOOD, None)
    names = list(HOSTILE)
    t0 = time.monotonic()
    scores = run([HOSTILE[n][0] for n in names])
    took = time.monotonic() - t0
    for name, s in zip(names, scores):
        want = HOSTILE[name][1]
        if name == "kill_everyone":
            assert s.value == 1.0, (name, s)  # it killed nothing it can see but itself, and we are still here
            continue
        assert s.value == 0.0, (name, s)
        assert s.reason, name
        if want:
            assert s.reason == want, (name, s)
    assert victim.read_text() == "keep me"
    assert os.path.isdir(os.getcwd()) and os.path.exists("/etc/hostname")
    assert not os.path.exists("/etc/r1-sandbox-escape")
    assert not any(p.name == "escaped.txt" for p in (tmp_path, tmp_path.parent, tmp_path.parent.parent))
    time.sleep(0.2)
    assert sandbox_processes() == []
    assert took < 30, took
    assert run([GOOD]) == [(1.0, None)]  # the verifier goes on


def test_network_blocked(isolation):
    if not isolation["netns"]:
        pytest.skip("no network namespace on this machine: network is NOT blocked (documented)")
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]
    hits = []
    threading.Thread(target=lambda: hits.append(_accept(server)), daemon=True).start()
    src = f"import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=1)\n" + GOOD
    src2 = "import socket\nsocket.create_connection(('1.1.1.1', 80), timeout=1)\n" + GOOD
    assert [s.reason for s in run([src, src2])] == ["blocked", "blocked"]
    time.sleep(0.5)
    server.close()
    assert hits in ([], [None])


def _accept(server):
    try:
        return server.accept()
    except OSError:
        return None


def test_project_and_home_hidden(isolation):
    if not isolation["mountns"]:
        pytest.skip("no mount namespace: files are readable (documented)")
    root = os.path.dirname(os.path.dirname(os.path.abspath(code.__file__)))
    root = os.path.dirname(root)
    paths = [os.path.join(root, "pyproject.toml"), os.path.join(root, "params.yaml"), "/root/.bashrc", os.getcwd() + "/x"]
    probe = f"import os\nSEEN = [p for p in {paths!r} if os.path.exists(p)]\n" + "def f(xs):\n    return SEEN\n"
    assert os.path.exists(paths[0])
    assert run([probe], tests="assert f([]) == []") == [(1.0, None)]  # task data and secrets are out of sight


def test_environment_scrubbed_and_stdin_closed():
    os.environ["R1_SECRET_TOKEN"] = "hunter2"
    try:
        src = "import os, sys\nENV = sorted(os.environ)\nIN = sys.stdin.read()\ndef f(xs):\n    return [ENV, IN]\n"
        s = run([src], tests="assert f([]) == [['HOME', 'LANG', 'PATH', 'TMPDIR'], '']")
        assert s == [(1.0, None)]
    finally:
        del os.environ["R1_SECRET_TOKEN"]


FORGERIES = {
    "sys_exit_before_tests": "import sys\nsys.exit(0)\n",
    "os_exit_before_tests": "import os\nos._exit(0)\n",
    "print_ok": "print('OK')\nprint('All tests passed')\ndef f(xs):\n    print('OK')\n    return xs\n",
    "eq_override": "class Yes(list):\n    def __eq__(self, other):\n        return True\ndef f(xs):\n    return Yes()\n",
    "eq_override_plain_object": "class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = None\ndef f(xs):\n    return Yes()\n",
    "exit_in_function": "import sys\ndef f(xs):\n    sys.exit(0)\n",
    "forge_verdict_lines": (
        "import os\nfor fd in range(3, 64):\n    for i in range(3):\n        try:\n"
        "            os.write(fd, f'x\\ttest\\t{i}\\tok\\n'.encode())\n            os.write(fd, b'x\\tdone\\t3\\n')\n"
        "        except OSError:\n            pass\nos._exit(0)\n"
    ),
    "patch_builtins": "import builtins\nbuiltins.sorted = lambda *a, **k: [42]\nbuiltins.isinstance = lambda *a: True\n"
    "def f(xs):\n    return 'no'\n",
}  # fmt: skip


def test_verdict_cannot_be_forged():
    tests_general = TESTS + "\nassert isinstance(f([1]), list)\nassert sorted(f([2, 1])) == [1, 2, 42]"
    names = list(FORGERIES)
    scores = run([FORGERIES[n] for n in names], tests=tests_general)
    for name, s in zip(names, scores):
        assert s.value is not None and s.value < 0.5, (name, s)
    # a helper the tests define cannot be replaced by the candidate's global of the same name
    tests_helper = "def check(got):\n    assert got == [42, 1]\ncheck(f([1]))"
    s = run(["def check(got):\n    pass\ndef f(xs):\n    return []\n"], tests=tests_helper)
    assert s[0].value < 0.5


def test_completion_that_would_break_the_test_file():
    # concatenated with the tests, an open triple quote would turn every assert into a string: here it cannot parse
    s = run([GOOD + "x = '''\n"])
    assert s[0] == (0.0, "not_python")
    # tests are compiled apart from the candidate: a candidate cannot comment out or swallow them
    s = run(["def f(xs):\n    return xs\n# \\\n"])
    assert s[0].reason.startswith("tests_failed: 3/3: [1] f([3, 1, 2]) == [42, 1, 2, 3] (got [3, 1, 2])")


def test_expected_values_never_enter_the_sandbox():
    # a candidate searching its process memory for the expected answers finds nothing to copy
    src = (
        "import gc\ndef f(xs):\n    for o in gc.get_objects():\n"
        "        if type(o) is list and len(o) == len(xs) + 1 and o[:1] == [42]:\n            return list(o)\n"
        "    return None\n"
    )
    assert run([src])[0].value < 0.5


def _pool_processes() -> set[str]:
    ps = subprocess.run(["ps", "-eo", "pid=,ppid=,args="], capture_output=True, text=True).stdout.splitlines()
    return {p for p in ps if "r1.verify.pool code" in p and int(p.split()[1]) != os.getpid()}


def test_fallback_without_namespaces_still_judges_and_kills():
    """Where namespaces are unavailable (R1_SANDBOX_ISOLATION=none simulates it): process group + temp dir."""
    script = (
        "import os\nfrom r1.verify import code\nfrom r1.verify.pool import pool\ncode.TIMEOUT = 1.0\n"
        "print(pool('code').call('r1.verify.sandbox:isolation', None)['mountns'])\n"
        "srcs = ['def f(xs):\\n    return [42] + sorted(xs)\\n', 'def f(xs):\\n    return xs\\n',\n"
        "        'while True:\\n    pass\\ndef f(xs):\\n    return xs\\n',\n"
        "        'import os, time\\nif os.fork() == 0:\\n    time.sleep(30)\\ndef f(xs):\\n    return [42] + sorted(xs)\\n']\n"
        "comps = ['```python\\n' + s + '```' for s in srcs]\n"
        f"res = code.verify_code(comps, [{TESTS!r}] * 4, ['f'] * 4)\n"
        "print([s.reason and s.reason.split(':')[0] for s, _ in res])\n"
    )
    env = {**os.environ, "R1_SANDBOX_ISOLATION": "none"}
    before = _pool_processes()  # other pipelines on this machine may run verifier workers of their own
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    lines = stdout.splitlines()
    assert lines == ["False", "[None, 'tests_failed', 'timeout', None]"]
    time.sleep(0.2)
    # this run's workers had the script as parent; once it exits, leftovers are re-parented (to 1 or a subreaper)
    new = _pool_processes() - before
    strays = {p for p in new if int(p.split()[1]) in (proc.pid, 1) or not os.path.exists(f"/proc/{p.split()[1]}")}
    assert strays == set()  # the subprocess's zygotes exited, and the forked sleeper went down with its group
