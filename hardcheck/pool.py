"""Running a CPU-heavy engine over chunks of files in worker processes.

Workers come from a forkserver (forking a threaded process is unsafe) that preloads the
engine once; each worker is configured once by `initializer`. When the audit's deadline
passes (`ctx.cancelled`), outstanding work is cancelled and the workers are terminated
so a timed-out run cannot keep the process alive.
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


def _worker_start(initializer: Callable[..., None], initargs: tuple) -> None:
    """In each worker, first: die with the forkserver that forked it (Linux), so no worker
    outlives the run holding its stdout; then the engine's own set-up."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    initializer(*initargs)


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


def run_pooled(
    ctx: AuditContext,
    *,
    jobs: int,
    preload: Sequence[str],
    initializer: Callable[..., None],
    initargs: tuple,
    tasks: Sequence[tuple[Callable[..., Any], tuple]],
) -> list[Any]:
    """Run `tasks` ((function, args) pairs) on `jobs` workers; results in task order."""
    mp = multiprocessing.get_context("forkserver")
    mp.set_forkserver_preload(list(preload))
    pool = ProcessPoolExecutor(
        max_workers=jobs,
        mp_context=mp,
        initializer=_worker_start,
        initargs=(initializer, initargs),
    )
    _POOLS.add(pool)
    try:
        futures: list[Future] = [pool.submit(fn, *args) for fn, args in tasks]
        pending = set(futures)
        while pending:
            if ctx.cancelled.is_set():
                raise TimeoutError("cancelled")
            _, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
        return [f.result() for f in futures]
    finally:
        if ctx.cancelled.is_set():
            for proc in list(getattr(pool, "_processes", {}).values()):
                proc.terminate()
        pool.shutdown(wait=not ctx.cancelled.is_set(), cancel_futures=True)
