"""Worker processes for verification work that must not run in the caller (a trainer, maybe with torch loaded).

Each worker is a fresh `python -m r1.verify.pool KIND` (not multiprocessing: spawn would re-import the
trainer's `__main__`), talking length-prefixed pickles over its stdin/stdout. Workers start on first use, are
restarted when one dies or hangs, stop when their stdin closes (the caller exiting), and are shut down at exit.
`pool(kind).map("module:function", items, chunk)` sends chunks of items to idle workers from a few threads and
returns one result per item, or the exception for the items of a chunk that failed.

The `code` kind's workers are sandbox zygotes (see `r1.verify.sandbox`): they isolate themselves once at start
and fork one sandboxed child per run.
"""

from __future__ import annotations

import atexit
import importlib
import os
import pickle
import queue
import select
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HEADER = struct.Struct("!I")
CALL_TIMEOUT = 300.0  # a chunk that takes longer means a wedged worker; the work itself has tighter limits


class WorkerError(RuntimeError):
    pass


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise WorkerError("worker timed out")
        chunk = os.read(fd, n - len(buf))
        if not chunk:
            raise WorkerError("worker exited")
        buf += chunk
    return bytes(buf)


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(HEADER.pack(len(data)) + data)
    while view:
        view = view[os.write(fd, view) :]


def _recv(fd: int, deadline: float | None = None):
    (n,) = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    return pickle.loads(_read_exact(fd, n, deadline))


class Worker:
    def __init__(self, kind: str):
        env = dict(os.environ)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env["PYTHONPATH"] = root + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "r1.verify.pool", kind],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            close_fds=True,
        )

    def call(self, fn: str, arg, timeout: float = CALL_TIMEOUT):
        try:
            _send(self.proc.stdin.fileno(), (fn, arg))
            ok, value = _recv(self.proc.stdout.fileno(), time.monotonic() + timeout)
        except (OSError, WorkerError, EOFError, pickle.UnpicklingError) as e:
            self.kill()
            raise WorkerError(f"verifier worker failed: {e}") from e
        if not ok:
            raise WorkerError(value)
        return value

    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self, wait: float = 2.0) -> None:
        try:
            self.proc.stdin.close()
            self.proc.wait(wait)
        except (OSError, subprocess.TimeoutExpired):
            self.kill()
        finally:
            self.proc.stdout.close()

    def kill(self) -> None:
        if self.alive():
            self.proc.kill()
        self.proc.wait()


class Pool:
    def __init__(self, kind: str, size: int):
        self.kind, self.size = kind, size
        self.idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()
        self.workers: list[Worker] = []
        self.lock = threading.Lock()
        self.threads = ThreadPoolExecutor(size, thread_name_prefix=f"r1-{kind}")

    def _acquire(self) -> Worker:
        wait = 0.0
        while True:
            try:
                return self.idle.get(timeout=wait) if wait else self.idle.get_nowait()
            except queue.Empty:
                wait = 0.05
            with self.lock:  # start a worker when fewer than `size` exist (first use, or one died)
                if len(self.workers) < self.size:
                    w = Worker(self.kind)
                    self.workers.append(w)
                    return w

    def _release(self, w: Worker) -> None:
        if w.alive():
            self.idle.put(w)
            return
        with self.lock:  # replace a dead worker lazily
            self.workers.remove(w)

    def call(self, fn: str, arg, timeout: float = CALL_TIMEOUT):
        w = self._acquire()
        try:
            return w.call(fn, arg, timeout)
        finally:
            self._release(w)

    def map(self, fn: str, items: list, chunk: int = 8, timeout: float = CALL_TIMEOUT) -> list:
        """fn(list_of_items) -> list_of_results, run on chunks in the workers; a failed chunk's items get the error."""
        chunks = [items[i : i + chunk] for i in range(0, len(items), chunk)]

        def run(part):
            try:
                out = self.call(fn, part, timeout)
                if len(out) != len(part):
                    raise WorkerError(f"{fn} returned {len(out)} results for {len(part)} items")
                return out
            except WorkerError as e:
                return [e] * len(part)

        results = self.threads.map(run, chunks) if len(chunks) > 1 else map(run, chunks)
        return [r for part in results for r in part]

    def close(self) -> None:
        with self.lock:
            workers, self.workers = self.workers, []
        for w in workers:
            w.close()
        self.threads.shutdown(wait=False)


_POOLS: dict[str, Pool] = {}
_OWNER = os.getpid()
_LOCK = threading.Lock()


def pool(kind: str) -> Pool:
    """The process-wide pool for `kind` ("math" or "code"); one worker per core by default (R1_VERIFY_WORKERS)."""
    global _OWNER
    with _LOCK:
        if _OWNER != os.getpid():  # a forked child must not share its parent's workers
            _POOLS.clear()
            _OWNER = os.getpid()
        if kind not in _POOLS:
            size = int(os.environ.get("R1_VERIFY_WORKERS", 0)) or os.cpu_count() or 1
            _POOLS[kind] = Pool(kind, size)
        return _POOLS[kind]


@atexit.register
def shutdown() -> None:
    """Stop every worker this process started (also safe to call by hand)."""
    with _LOCK:
        pools = list(_POOLS.values()) if _OWNER == os.getpid() else []
        _POOLS.clear()
    for p in pools:
        p.close()


# ---- worker process ---------------------------------------------------------------------------------------------
def _resolve(fn: str):
    module, _, name = fn.partition(":")
    if not module.startswith("r1.verify."):
        raise ValueError(f"refusing to call {fn}")
    return getattr(importlib.import_module(module), name)


def worker_main(kind: str) -> None:
    rfd, wfd = 0, os.dup(1)
    os.dup2(2, 1)  # stray prints must not corrupt the protocol
    if kind == "code":
        from r1.verify import sandbox

        sandbox.init_zygote()
    while True:
        try:
            fn, arg = _recv(rfd)
        except (WorkerError, EOFError):
            return  # the caller went away
        try:
            result = (True, _resolve(fn)(arg))
        except Exception as e:  # noqa: BLE001 - reported to the caller
            result = (False, f"{type(e).__name__}: {e}")
        _send(wfd, result)


if __name__ == "__main__":
    worker_main(sys.argv[1])
