"""Running a CPU-heavy engine over chunks of files in worker processes.

Workers come from a forkserver (forking a threaded process is unsafe) that preloads the
engine once; each worker is configured once by `initializer`. When the audit's deadline
passes (`ctx.cancelled`), outstanding work is cancelled and the workers are terminated
so a timed-out run cannot keep the process alive.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from ..inventory import Entry
from .base import AuditContext


def balanced_chunks(files: Sequence[Entry], count: int) -> list[list[str]]:
    """Largest first into the lightest chunk: chunks of about equal bytes."""
    chunks: list[tuple[int, list[str]]] = [(0, []) for _ in range(max(1, count))]
    for entry in sorted(files, key=lambda e: -e.size):
        i = min(range(len(chunks)), key=lambda k: chunks[k][0])
        chunks[i] = (chunks[i][0] + entry.size, [*chunks[i][1], entry.rel])
    return [c for _, c in chunks if c]


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
        max_workers=jobs, mp_context=mp, initializer=initializer, initargs=initargs
    )
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
