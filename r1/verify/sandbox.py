"""Running model code: a fresh, isolated, resource-capped process per run, and a harness whose verdict the code
cannot forge.

Process layout (as root, the normal case here):
  trainer --pipe--> zygote (a `code` pool worker; no network: own net namespace; project dir and home hidden)
     zygote forks A per run: A enters new mount, PID and IPC namespaces, mounts fresh tmpfs on every world-writable
     dir (/tmp, /var/tmp, /dev/shm, /run/lock), forks B and kills it at the wall-clock deadline.
     B is PID 1 of its namespace: it mounts its own /proc, drops to an unprivileged uid, sets rlimits
     (CPU, AS, NPROC, FSIZE, NOFILE, CORE), scrubs the environment, closes stdin and every fd but the verdict pipe,
     chdirs to /tmp/sandbox and runs the harness. When B exits or is killed, the kernel kills everything left in
     its PID namespace and the tmpfs mounts vanish with the mount namespace: nothing is left behind.
Without root or namespaces (another machine) the fallback is weaker and says so in `ISOLATION`: B gets its own
session, is killed as a process group, works in a temp dir that is removed after; network and files outside are
not blocked, and RLIMIT_NPROC is per user.

The harness: the prompt's definitions (`context`, e.g. HumanEval's imports and `poly`) and then the candidate are
exec'd in one namespace; the tests run in another, holding the context again, the entry point (also under the harness
parameter's name, HumanEval's `candidate`; wrapped so it must return plain builtins: a subclass or an object with a
custom `__eq__` is an error), a copy of the builtins taken before the candidate ran, and an `__import__` that hands
them their own copies of common modules (TEST_MODULE_NAMES, made in the zygote before any candidate ran). The test
items run in order, each reported on the pipe as a line tagged with a random nonce; the caller requires every verdict.

What a candidate can and cannot forge (tests/unit/verify/test_forgery.py tries each):
  - Value tests (r1.verify.code: `assert x == c`, `x is True/False/None`, `abs(x - c) < t`, `math.fabs(x - c) <= t`,
    `math.isclose(x, c, ...)`, `assert x`, `assert not x`; c and t constants) are NOT forgeable. Only `x` enters the
    sandbox; it reports the repr of x's plain value, and the caller parses it and does the comparison, tolerance or
    truth test itself. A value test passes only on a `value` line whose value satisfies its check: a forged `ok`, a
    `done` written early, sys.exit / os._exit, patched modules or builtins (math.fabs, math.isclose, abs,
    random.randint) and __eq__-overriding objects all fail. The candidate can reach the reporter (frames, gc) or the
    verdict fd and write a `value` line of its choosing, but that value is judged like a returned one: it passes only
    where returning it would have, so the candidate must know the answer, and the expected value never enters the
    sandbox.
  - Harness tests (every other assert: loops, asserts comparing two calls or against a computed value, bare calls)
    run in the sandbox, and their verdict is the candidate's process's word. They ARE forgeable by a candidate that
    walks up its frames (sys._getframe) to the harness's `report`, finds it or the job through gc, or writes to the
    verdict fd with the nonce read from a frame, then exits; or that patches, through gc, the tests' private module
    copies or their namespace. What the private copies stop is naive patching: `math.fabs = ...` or `random.randint
    = ...` (HumanEval/32's and /38's loops), `sys.modules['math'] = ...`.
What is blocked here (root, Linux with namespaces; tests/unit/verify/test_sandbox.py checks each):
  - network: the zygote's own network namespace has only a loopback that is down; TCP/UDP to anywhere, the host's
    127.0.0.1 included, fails (abstract unix sockets are per namespace too)
  - files: the candidate runs as uid 100000+zygote pid, so root-owned files cannot be written or deleted; every
    world-writable dir is a fresh tmpfs of its own mount namespace, discarded with it; the project dir, the cwd,
    /root and /home are covered by an empty tmpfs (only the Python installation and r1/ stay visible), so task data
    and secrets cannot be read
  - processes: RLIMIT_NPROC (8) is enforced because the uid is not root; the run is PID 1 of its own PID namespace,
    so it cannot see or signal anything outside, and everything it spawned dies with it (setsid does not escape)
  - resources: wall clock (default 3 s), RLIMIT_CPU, RLIMIT_AS (768 MiB per process), RLIMIT_FSIZE (16 MiB), tmpfs
    64 MiB, RLIMIT_NOFILE 64, no core files, no_new_privs (setuid binaries do not elevate); env scrubbed, stdin
    /dev/null, stdout/stderr discarded
What is not blocked: reading world-readable files elsewhere (/etc, /usr, other projects ...); using the CPU up to its
limits; memory up to nproc x RLIMIT_AS (8 x 768 MiB per zygote: RLIMIT_AS is per process, no cgroup is used);
filesystem unix sockets writable by any uid; forging harness-test verdicts (above). No seccomp.
Without root or namespaces (R1_SANDBOX_ISOLATION=none simulates it): rlimits, a new session killed as a process
group (as soon as the run ends; a process that calls setsid escapes), a temp dir removed after; network, files and
other processes are NOT protected, and as root RLIMIT_NPROC is not enforced. `isolation()` reports what holds.
"""

from __future__ import annotations

import builtins
import ctypes
import ctypes.util
import errno
import os
import resource
import secrets
import select
import shutil
import signal
import sys
import tempfile
import time

# Common modules are imported once here, so runs do not pay for them (and work where the Python install is hidden).
import bisect, collections, copy, dataclasses, decimal, fractions, functools, heapq, itertools, json, math  # noqa: E401,F401
import operator, random, re, statistics, string, typing  # noqa: E401,F401

LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x08000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
WRITABLE_DIRS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock")
WORKDIR = "/tmp/sandbox"
MAX_OUTPUT = 4 << 20
# Per run. Worst case memory is nproc x memory_mb per zygote (RLIMIT_AS is per process): 8 x 768 MiB, 12 GiB for two.
DEFAULTS = {"timeout": 3.0, "memory_mb": 768, "nproc": 8, "fsize_mb": 16, "nofile": 64}

# What this zygote actually achieved; filled by init_zygote() and returned with every result.
ISOLATION = {"netns": False, "mountns": False, "pidns": False, "setuid": False, "hidden": []}
_BUILTINS = dict(builtins.__dict__)  # the tests' builtins: a copy the candidate cannot patch


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(src, target, fstype, flags, data=None) -> None:
    enc = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(LIBC.mount(enc(src), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), f"mount {target}")


# ---- zygote setup -----------------------------------------------------------------------------------------------
def _keep_paths() -> list[str]:
    """What stays visible inside hidden dirs: the Python installation(s) and the r1 package (not the project)."""
    paths = {sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.dirname(__file__))}
    return sorted({os.path.realpath(p) for p in paths})


def _hide(directory: str, keep: list[str], stage: str) -> None:
    """Cover `directory` with an empty tmpfs, re-exposing only the `keep` paths inside it (bind mounts)."""
    os.makedirs(stage, exist_ok=True)
    _mount(directory, stage, None, MS_BIND | MS_REC)
    _mount("tmpfs", directory, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1m")
    for path in keep:
        rel = os.path.relpath(path, directory)
        if rel == "." or rel.startswith(".."):
            continue
        os.makedirs(os.path.join(directory, rel), exist_ok=True)
        _mount(os.path.join(stage, rel), os.path.join(directory, rel), None, MS_BIND | MS_REC)
    _check(LIBC.umount2(stage.encode(), MNT_DETACH), f"umount {stage}")


def init_zygote() -> dict:
    """Isolate this worker once: no network, the project dir / cwd / home hidden. Best effort; records what worked."""
    if os.geteuid() != 0 or os.environ.get("R1_SANDBOX_ISOLATION") == "none":  # "none": test the fallback
        return ISOLATION
    ISOLATION["setuid"] = True
    try:
        _check(LIBC.unshare(CLONE_NEWNET), "unshare(net)")
        ISOLATION["netns"] = True
    except OSError as e:
        print(f"sandbox: network not isolated ({e})", file=sys.stderr)
    try:
        _check(LIBC.unshare(CLONE_NEWNS), "unshare(mount)")
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        ISOLATION["mountns"] = ISOLATION["pidns"] = True
    except OSError as e:
        print(f"sandbox: mount namespace unavailable ({e}); files outside the sandbox dir are not hidden", file=sys.stderr)
        return ISOLATION
    keep = _keep_paths()
    project = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
    hide = {project, os.path.realpath(os.getcwd()), os.path.realpath(os.path.expanduser("~")), "/root", "/home"}
    hide = sorted(d for d in hide if os.path.isdir(d) and d != "/")
    hide = [d for d in hide if not any(d != o and d.startswith(o + "/") for o in hide)]  # outermost only
    hide = [d for d in hide if not any(k == d or d.startswith(k + "/") for k in keep)]  # never hide python itself
    d = "/tmp"
    try:
        _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=1m")  # private staging area
        for i, d in enumerate(hide):
            _hide(d, keep, f"/tmp/stage{i}")
            ISOLATION["hidden"].append(d)
    except OSError as e:
        print(f"sandbox: could not hide {d} ({e})", file=sys.stderr)
    LIBC.umount2(b"/tmp", MNT_DETACH)  # drop the staging tmpfs
    probe = run({"code": "def f():\n    return 1\n", "entry_point": "f", "tests": [("value", "f()")]})
    if probe.get("results", {}).get(0) != ("value", "1"):  # per-run namespaces refused: fall back, and say so
        print(f"sandbox: per-run namespaces failed ({probe}); using the process-group fallback", file=sys.stderr)
        ISOLATION["mountns"] = ISOLATION["pidns"] = False
    return ISOLATION


# ---- one run ----------------------------------------------------------------------------------------------------
def run_batch(jobs: list[dict]) -> list[dict]:
    return [run(job) for job in jobs]


def run(job: dict) -> dict:
    """Run one job in a fresh sandboxed process. job: code, entry_point, setup (source), tests [(mode, source)],
    optional time (bool: also measure the tests' run time), timeout, memory_mb, nproc. Returns the verdict lines."""
    job = {**DEFAULTS, **job}
    nonce = secrets.token_hex(16)
    r, w = os.pipe()
    namespaced = ISOLATION["mountns"]
    tmpdir = None if namespaced else tempfile.mkdtemp(prefix="r1-sandbox-")
    if tmpdir and ISOLATION["setuid"]:
        os.chown(tmpdir, _uid(), _uid())
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # noqa: SIM108 - the child never returns
        code = 70
        try:
            os.close(r)
            if namespaced:
                _outer(job, w, nonce)
            else:
                os.setsid()
                _inner(job, w, nonce, tmpdir)
        except BaseException:  # noqa: BLE001
            pass
        os._exit(code)
    os.close(w)
    deadline = start + job["timeout"] + (2.0 if namespaced else 0.0)
    out, timed_out, status = _collect(r, pid, deadline, group=not namespaced)
    if not namespaced:  # the run is over once its pipe closed: take its process group down with it
        _killpg(pid)
    if status is None:
        status = _reap(pid, deadline + 1.0)
    if not namespaced:
        shutil.rmtree(tmpdir, ignore_errors=True)
    exit_code = os.waitstatus_to_exitcode(status)
    timed_out = timed_out or exit_code == 124 or exit_code in (-signal.SIGXCPU, 128 + signal.SIGXCPU)
    return {**parse_lines(out, nonce), "timeout": timed_out, "exit": exit_code, "seconds": time.monotonic() - start}


def _uid() -> int:
    return 100000 + os.getpid()  # one unprivileged uid per zygote: RLIMIT_NPROC counts per uid


def _killpg(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pid: int, deadline: float) -> int:
    """Wait for A (it exits right after B, or at B's deadline); kill it if it overstays."""
    pause = 0.0002
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        time.sleep(pause)
        pause = min(pause * 2, 0.05)
    os.kill(pid, signal.SIGKILL)
    return os.waitpid(pid, 0)[1]


def _collect(r: int, pid: int, deadline: float, group: bool) -> tuple[bytes, bool, int | None]:
    """Read the verdict pipe until EOF (every process of the run gone) or the deadline; (output, timed out, status
    of `pid` if it was reaped here). Without namespaces, the group is killed as soon as its leader exits."""
    buf, timed_out, status = bytearray(), False, None
    while True:
        left = deadline - time.monotonic()
        if left <= 0 or len(buf) > MAX_OUTPUT:
            timed_out = left <= 0
            os.kill(pid, signal.SIGKILL)  # A's death kills B (PDEATHSIG) and so its namespace
            if group:
                _killpg(pid)
            break
        if select.select([r], [], [], min(left, 0.05))[0]:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            buf += chunk
        elif status is None:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                status = st
                if group:  # a child it left behind may still hold the pipe
                    _killpg(pid)
    os.close(r)
    return bytes(buf), timed_out, status


def parse_lines(out: bytes, nonce: str) -> dict:
    """Verdict lines `nonce<TAB>key<TAB>value`; lines without the nonce (forged) are ignored."""
    res: dict = {"results": {}}
    for line in out.decode("utf-8", "replace").split("\n"):
        parts = line.split("\t", 3)
        if len(parts) < 3 or parts[0] != nonce:
            continue
        key = parts[1]
        if key == "test" and len(parts) == 4:
            i, rest = parts[2], parts[3]
            if i.isdigit() and int(i) not in res["results"]:
                status, _, payload = rest.partition("\t")
                res["results"][int(i)] = (status, payload)
        elif key in ("load", "setup", "done", "time") and key not in res:
            res[key] = parts[2]
    return res


def _outer(job: dict, w: int, nonce: str) -> None:
    """Process A: new namespaces and a fresh tmpfs, then fork B and kill it at the deadline."""
    _check(LIBC.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC), "unshare")
    for d in WRITABLE_DIRS:
        if os.path.isdir(d) and not os.path.islink(d):
            _mount("tmpfs", d, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={job['fsize_mb'] * 4}m")
    os.mkdir(WORKDIR, 0o700)
    os.chown(WORKDIR, _uid(), _uid())
    b = os.fork()
    if b == 0:
        try:
            LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
            _inner(job, w, nonce, WORKDIR)
        except BaseException:  # noqa: BLE001
            pass
        os._exit(0)
    os.close(w)
    signal.signal(signal.SIGALRM, lambda *_: os.kill(b, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, job["timeout"])
    _, status = os.waitpid(b, 0)
    if os.WIFSIGNALED(status):
        timed_out = signal.getitimer(signal.ITIMER_REAL)[0] == 0 and os.WTERMSIG(status) == signal.SIGKILL
        os._exit(124 if timed_out else 128 + os.WTERMSIG(status))
    os._exit(os.waitstatus_to_exitcode(status) % 256)


def _inner(job: dict, w: int, nonce: str, workdir: str) -> None:
    """Process B: drop everything, then the harness."""
    os.chdir(workdir)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    keep = sorted({0, 1, 2, w})
    for lo, hi in zip(keep, keep[1:] + [resource.getrlimit(resource.RLIMIT_NOFILE)[0]]):
        os.closerange(lo + 1, hi)
    os.environ.clear()
    os.environ.update({"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8"})
    cpu = max(1, int(job["timeout"] + 0.999))
    mb = 1 << 20
    for limit, value in (
        (resource.RLIMIT_CPU, (cpu, cpu + 1)),
        (resource.RLIMIT_AS, (job["memory_mb"] * mb,) * 2),
        (resource.RLIMIT_FSIZE, (job["fsize_mb"] * mb,) * 2),
        (resource.RLIMIT_NOFILE, (job["nofile"],) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, (job["nproc"],) * 2),
    ):
        resource.setrlimit(limit, value)
    if ISOLATION["setuid"]:
        LIBC.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setgid(_uid())
        os.setuid(_uid())
    sys.setrecursionlimit(10000)
    _harness(job, w, nonce)


def _harness(job, w, nonce, *, _write=os.write, _exec=exec, _compile=compile, _eval=eval, _repr=repr, _type=type,
             _len=len, _str=str, _callable=callable, _clock=time.perf_counter, _base=BaseException, _dict=dict):
    """Run the prompt's context and the candidate, then each item of the tests in order; every verdict is a
    nonce-tagged line on fd `w`: `load`, then `test i ok|value <repr>|error <exception name>` per item, then `done N`.

    Items: ("step", src) a statement that is not a test (imports, assignments; its error is reported too), ("value",
    expr) whose plain value is reported for the caller to compare, ("assert", src) a harness test run here.
    What it needs is bound before the candidate runs (defaults, closures), so patching `builtins` or this module's
    globals does not change the harness."""
    _plain = make_plain()
    tbuiltins = _dict(_BUILTINS)
    tbuiltins["__import__"] = make_importer(_TEST_MODULES, _BUILTINS["__import__"])
    tns = {"__name__": "__tests__", "__builtins__": tbuiltins}

    def report(*fields):
        _write(w, ("\t".join([nonce, *(_str(f).replace("\t", " ").replace("\n", " ") for f in fields)]) + "\n").encode())

    def err(e):
        name = _type(e).__name__
        return name if name.isidentifier() and _len(name) < 40 else "Error"

    tests = []
    try:
        context = _compile(job.get("context") or "", "<prompt>", "exec")
        for mode, src in job["tests"]:
            tests.append((mode, _compile(src, "<tests>", "eval" if mode == "value" else "exec")))
    except _base as e:
        report("setup", "bad_tests:" + err(e))
        return
    ns = {"__name__": "__solution__", "__builtins__": builtins}
    try:
        _exec(context, ns)
    except _base as e:
        report("setup", "bad_tests:prompt:" + err(e))
        return
    try:
        _exec(_compile(job["code"], "<solution>", "exec"), ns)
    except _base as e:
        report("load", err(e))
        return
    fn = ns.get(job["entry_point"])
    if not _callable(fn):
        report("load", "no_entry_point")
        return
    report("load", "ok")

    def entry(*args, **kwargs):
        return _plain(fn(*args, **kwargs))

    try:
        _exec(context, tns)  # the prompt's helpers (HumanEval's `poly`), seen by the tests as the prompt defines them
    except _base as e:
        report("setup", "bad_tests:prompt:" + err(e))
        return
    for name in [job["entry_point"], *job.get("aliases", ())]:
        tns[name] = entry

    def run_tests(record):
        passed = 0
        for i, (mode, code) in enumerate(tests):
            try:
                if mode == "value":
                    v = _repr(_plain(_eval(code, tns)))
                    if _len(v) > 100_000:
                        raise OverflowError("value too large")
                    record and report("test", i, "value", v)
                else:
                    _exec(code, tns)
                    record and report("test", i, "ok")
                passed += 1
            except _base as e:
                record and report("test", i, "error", err(e))
        return passed

    passed = run_tests(True)
    if job.get("time") and passed == _len(tests):
        reps, t0, best = 0, _clock(), None  # the fastest of several reps: robust to a busy machine
        while reps < 200 and (reps < 3 or _clock() - t0 < 0.05):
            t = _clock()
            run_tests(False)
            t = _clock() - t
            best = t if best is None or t < best else best
            reps += 1
        report("time", best)
    report("done", _len(tests))


def _fresh_module(name: str):
    """A private instance of module `name` (its code run again), or None when it cannot be had."""
    import importlib.util

    saved = sys.modules.get(name)
    try:
        spec = importlib.util.find_spec(name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # some modules look themselves up while they load
        spec.loader.exec_module(module)
        return module
    except Exception:  # noqa: BLE001 - the shared module is used instead
        return None
    finally:
        if saved is not None:
            sys.modules[name] = saved
        else:
            sys.modules.pop(name, None)


# The tests' own copies of the modules tests commonly import, made in the zygote before any candidate runs: a
# candidate that patches `math.fabs` or `random.randint` changes its copies, not these. (Reachable through gc, so this
# stops naive patching only: see the module docstring.)
TEST_MODULE_NAMES = ("math", "random", "copy", "string", "collections", "itertools", "functools", "re", "heapq",
                     "operator", "fractions", "decimal", "statistics", "bisect", "json")
_TEST_MODULES = {n: m for n in TEST_MODULE_NAMES if (m := _fresh_module(n)) is not None}


def make_importer(private: dict, real_import):
    """An `__import__` that hands out `private` modules by name and imports anything else as usual."""

    def _import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0 and name in private:
            return private[name]
        return real_import(name, globals, locals, fromlist, level)

    return _import


def make_plain():
    """A checker: returns the value if it is made only of exact builtin types (no subclass, no custom `__eq__`),
    else raises TypeError. A closure, so it cannot be redirected by patching module globals."""
    scalars = (int, float, bool, str, bytes, complex, type(None))
    containers = (list, tuple, set, frozenset)
    _type, _isdict = type, dict

    def check(value, depth=0):
        t = _type(value)
        if t in scalars:
            return value
        if depth > 50:
            raise TypeError("value nested too deeply")
        if t in containers:
            for item in value:
                check(item, depth + 1)
            return value
        if t is _isdict:
            for k, v in value.items():
                check(k, depth + 1)
                check(v, depth + 1)
            return value
        raise TypeError(f"returned a {t.__name__}, not a plain builtin value")

    return check


def isolation(_=None) -> dict:
    """What this zygote achieved (see ISOLATION)."""
    return dict(ISOLATION)
