"""Running CPU-heavy work (the engines' chunks of files, the pure-Python audits of a
large tree) in worker processes.

One pool per run, `jobs` workers, shared by every audit; workers come from a forkserver
(forking a threaded process is unsafe) that preloads the first user's modules, and each
worker configures an engine once, on its first task of that engine. When an audit's
deadline passes (`ctx.cancelled`), its queued tasks are cancelled, and at the end of the
run the workers are terminated, so a timed-out run cannot keep the process alive.
"""

from __future__ import annotations

import contextlib
import heapq
import multiprocessing
import os
import signal
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from .audits.base import AuditContext
from .inventory import Entry

# A task's share of the tree is bounded, so a worker's memory does not grow with the tree:
# a larger tree is more tasks, not larger ones.
CHUNK_BYTES = 4 * 1024 * 1024


def balanced_chunks(files: Sequence[Entry], count: int) -> list[list[str]]:
    """At least `count` chunks of about equal bytes, none much over CHUNK_BYTES: largest
    file first into the lightest chunk."""
    total = sum(e.size for e in files)
    count = max(1, count, -(-total // CHUNK_BYTES))
    lightest = [(0, i) for i in range(count)]
    chunks: list[list[str]] = [[] for _ in range(count)]
    for entry in sorted(files, key=lambda e: -e.size):
        size, i = heapq.heappop(lightest)
        chunks[i].append(entry.rel)
        heapq.heappush(lightest, (size + entry.size, i))
    return [c for c in chunks if c]


_POOLS: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()
PR_SET_PDEATHSIG = 1


def _worker_start() -> None:
    """In each worker, first: die with the forkserver that forked it (Linux), so no worker
    outlives the run holding its stdout."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def kill_children() -> None:
    """End every process the run started (pool workers, the forkserver, multiprocessing's
    resource tracker) at once: on SIGTERM or Ctrl-C the run leaves without waiting, and a
    child left behind would hold the caller's stdout open (a CI step waits for EOF)."""
    from multiprocessing import forkserver, resource_tracker

    pids = [
        proc.pid
        for pool in list(_POOLS)
        for proc in list(getattr(pool, "_processes", {}).values())
        if proc.pid
    ]
    server = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if server:
        with contextlib.suppress(OSError):
            os.kill(server, signal.SIGSTOP)  # forks no more: its children can all be found
    pids.append(server)
    pids.append(getattr(getattr(resource_tracker, "_resource_tracker", None), "_pid", None))
    # a worker the forkserver forked a moment ago is in no pool yet, and dies with its
    # parent only once it has run _worker_start: every descendant, from /proc (Linux)
    pids.extend(_descendants(os.getpid()))
    for pid in pids:
        if pid:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def _parent_of(pid: str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def _descendants(pid: int) -> set[int]:
    try:
        entries = [e for e in os.listdir("/proc") if e.isdigit()]
    except OSError:
        return set()  # no /proc: the pools' and the forkserver's own pids only
    parents = {int(e): _parent_of(e) for e in entries}
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def start_forkserver(preload: Sequence[str]) -> None:
    """Start the forkserver now, in the background, with these modules imported, so the
    workers a run asks for later fork from a warm server instead of each importing its
    engine. Without effect once the server runs."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(list(preload))
    threading.Thread(target=forkserver.ensure_running, name="forkserver", daemon=True).start()


class _SharedPool:
    """The run's one set of worker processes, `jobs` of them, shared by every audit that
    offloads work: the engines' chunks and the pure-Python audits queue for the same
    workers instead of each audit starting its own (seven processes on two cores, each
    with its own copy of what it imported). A worker runs an engine's initializer the
    first time it meets a task of that engine."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.executor: ProcessPoolExecutor | None = None
        self.cancelled = False

    def get(self, jobs: int, preload: Sequence[str]) -> ProcessPoolExecutor:
        with self.lock:
            if self.executor is None:
                mp = multiprocessing.get_context("forkserver")
                mp.set_forkserver_preload(list(preload))
                self.executor = ProcessPoolExecutor(
                    max_workers=max(1, jobs), mp_context=mp, initializer=_worker_start
                )
                self.cancelled = False
                _POOLS.add(self.executor)
            return self.executor

    def close(self) -> None:
        """End the workers: wait for them, unless an audit was cancelled (then kill)."""
        with self.lock:
            executor, self.executor = self.executor, None
        if executor is None:
            return
        if self.cancelled:
            for proc in list(getattr(executor, "_processes", {}).values()):
                proc.terminate()
        executor.shutdown(wait=not self.cancelled, cancel_futures=True)


SHARED = _SharedPool()
_SET_UP: set[str] = set()  # in a worker: the engines it has configured


def _run_task(
    setup: str, initializer: Callable[..., None], initargs: tuple, fn: Callable, args: tuple
) -> Any:
    if setup not in _SET_UP:
        initializer(*initargs)
        _SET_UP.add(setup)
    try:
        return fn(*args)
    finally:
        _give_back_memory()


def _give_back_memory() -> None:
    """Between tasks: free what the task left (its syntax trees are cycles) and hand the
    freed heap back to the OS, so a worker holds its next task's memory, not the largest
    it ever ran. malloc_trim is glibc's; elsewhere only the collection happens."""
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)


def run_pooled(
    ctx: AuditContext,
    *,
    preload: Sequence[str],
    initializer: Callable[..., None],
    initargs: tuple,
    tasks: Sequence[tuple[Callable[..., Any], tuple]],
) -> list[Any]:
    """Run `tasks` ((function, args) pairs) on the run's shared workers (`--jobs` of
    them, started by the first audit that asks); results in task order."""
    import hashlib
    import pickle

    pool = SHARED.get(ctx.config.jobs, preload)
    setup = (
        f"{initializer.__module__}.{initializer.__qualname__}:"
        + hashlib.sha256(pickle.dumps(initargs)).hexdigest()
    )
    futures: list[Future] = [
        pool.submit(_run_task, setup, initializer, initargs, fn, args) for fn, args in tasks
    ]
    pending = set(futures)
    try:
        while pending:
            if ctx.cancelled.is_set():
                raise TimeoutError("cancelled")
            _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        return [f.result() for f in futures]
    finally:
        if pending:
            SHARED.cancelled = True  # its running tasks end with the workers, at close()
            for future in pending:
                future.cancel()
