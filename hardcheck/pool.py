"""Running CPU-heavy work (the engines' chunks of files, the pure-Python audits of a
large tree) on the run's workers.

One pool per run, `jobs` workers shared by every audit. This process is one of them: it
would otherwise only wait for the others, and a task it runs needs no copy of its
arguments. The other `jobs - 1` are plain child processes (hardcheck.worker), each fed
through two pipes of its own. Not multiprocessing's pools: started from a threaded
process they need a forkserver and a resource tracker, two more interpreters (40 MB
resident on the Django sdist, a sixth of the run), and a worker forked from a server that
preloaded modules holds all of them whether its tasks use them or not.

Each worker configures an engine once, on its first task of that engine. When an audit's
deadline passes (`ctx.cancelled`), its queued tasks are cancelled, and at the end of the
run the child workers are ended (killed, when an audit ran out of time), so a timed-out
run cannot keep the process alive.
"""

from __future__ import annotations

import contextlib
import heapq
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .audits.base import AuditContext
from .inventory import Entry
from .worker import forget_setups, receive, run_task, send

# A task's share of the tree is bounded, so a worker's memory does not grow with the tree:
# a larger tree is more tasks, not larger ones.
CHUNK_BYTES = 4 * 1024 * 1024
CHILD_EXIT_SECONDS = 5


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


@dataclass
class _Task:
    future: Future
    call: tuple  # run_task's arguments: (setup, initializer, initargs, fn, args)
    local: bool  # this process takes it first (its arguments are the whole inventory)
    shareable: bool = True  # a worker process may take it when nothing else waits


class _TaskQueue:
    """Tasks waiting for a worker. This process takes local tasks first, then any; a child
    takes the others first, then a shareable local one. A child given a whole-tree task
    holds a copy of the inventory (24 MB at 70,000 files) beside its engine's working
    memory: on a large tree such a task is not shareable."""

    def __init__(self) -> None:
        self.items: deque[_Task] = deque()
        self.ready = threading.Condition()
        self.closed = False

    def put(self, task: _Task) -> None:
        with self.ready:
            self.items.append(task)
            self.ready.notify_all()  # a child does not take a local task: wake this process

    def take(self, local: bool) -> _Task | None:
        """The next task for a worker (`local`: this process); None once the queue is closed."""
        with self.ready:
            while not self.closed:
                first = [t for t in self.items if t.local == local]
                rest = [t for t in self.items if t.local != local and (local or t.shareable)]
                chosen = next(iter(first + rest), None)
                if chosen is not None:
                    self.items.remove(chosen)
                    return chosen
                self.ready.wait()
            return None

    def close(self) -> list[_Task]:
        """Take no more; the tasks still waiting."""
        with self.ready:
            self.closed = True
            left, self.items = list(self.items), deque()
            self.ready.notify_all()
        return left


# A child worker's first lines. Not `python -m hardcheck.worker`: that puts the current
# directory (often the audited tree) first on the path, so a `bandit.py` there would run.
# hardcheck's own location goes last: the child imports the same hardcheck, even one a
# caller put on sys.path by hand, and shadows nothing.
_BOOT = (
    "import sys; sys.path[:] = [p for p in sys.path if p not in ('', '.')]; "
    "sys.path.append({here!r}); from hardcheck.worker import main; sys.exit(main(sys.argv[1:]))"
)


class _Child:
    """One child worker and its two pipes."""

    def __init__(self, preload: Sequence[str]) -> None:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT.format(here=str(Path(__file__).resolve().parents[1])),
                 str(task_read), str(result_write), *preload],
                pass_fds=(task_read, result_write),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # stdout is the report's: a library's print must not reach it
            )  # fmt: skip
        except BaseException:
            for fd in (task_read, task_write, result_read, result_write):
                os.close(fd)
            raise
        os.close(task_read)
        os.close(result_write)
        self.tasks = os.fdopen(task_write, "wb")
        self.results = os.fdopen(result_read, "rb")

    def call(self, call: tuple) -> tuple[bool, Any]:
        """(True, result) or (False, exception); EOFError or OSError if the child died."""
        send(self.tasks, call)
        return receive(self.results)

    def end(self, kill: bool) -> int | None:
        """Stop the child (at once when `kill`) and close its pipes; its exit code."""
        if kill:
            with contextlib.suppress(OSError):
                self.proc.kill()
        with contextlib.suppress(OSError):
            self.tasks.close()  # end of tasks: the child leaves its loop
        try:
            code = self.proc.wait(timeout=CHILD_EXIT_SECONDS)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        with contextlib.suppress(OSError):
            self.results.close()
        return code


class _SharedPool:
    """The run's workers, shared by every audit that offloads work: the engines' chunks
    and the pure-Python audits queue for the same workers instead of each audit starting
    its own (seven processes on two cores, each with its own copy of what it imported)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.queue: _TaskQueue | None = None
        self.children: list[_Child] = []
        self.cancelled = False

    def start(self, jobs: int, preload: Sequence[str]) -> _TaskQueue:
        """The run's task queue, starting its workers the first time (children import
        `preload` while this process goes on)."""
        with self.lock:
            if self.queue is None:
                queue = self.queue = _TaskQueue()
                self.cancelled = False
                threading.Thread(
                    target=self._serve_here, args=(queue,), name="pool-here", daemon=True
                ).start()
                for _ in range(max(0, jobs - 1)):
                    child = _Child(preload)
                    self.children.append(child)
                    threading.Thread(
                        target=self._serve_child,
                        args=(queue, child, tuple(preload)),
                        name="pool-child",
                        daemon=True,
                    ).start()
            return self.queue

    @staticmethod
    def _serve_here(queue: _TaskQueue) -> None:
        while (task := queue.take(local=True)) is not None:
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                task.future.set_result(run_task(*task.call))
            except BaseException as exc:
                task.future.set_exception(exc)

    def _serve_child(self, queue: _TaskQueue, child: _Child, preload: tuple[str, ...]) -> None:
        while (task := queue.take(local=False)) is not None:
            if not task.future.set_running_or_notify_cancel():
                continue
            try:
                ok, value = child.call(task.call)
            except (EOFError, OSError):
                code = child.end(kill=True)
                replacement = self._replace(queue, child, preload)
                task.future.set_exception(
                    RuntimeError(
                        f"a worker process ended in the middle of a task (exit code {code})"
                    )
                )
                if replacement is None:
                    return  # the run is over, or no process could be started: the others serve
                child = replacement
                continue
            except Exception as exc:  # the task's arguments cannot be pickled
                task.future.set_exception(exc)
                continue
            if ok:
                task.future.set_result(value)
            else:
                task.future.set_exception(value)

    def _replace(self, queue: _TaskQueue, dead: _Child, preload: tuple[str, ...]) -> _Child | None:
        """A new child in place of one that died, while the run goes on."""
        with self.lock:
            if queue is not self.queue:
                return None
            self.children.remove(dead)
            try:
                child = _Child(preload)
            except OSError:
                return None
            self.children.append(child)
            return child

    def close(self) -> None:
        """End the workers: let them finish, unless an audit was cancelled (then kill)."""
        with self.lock:
            queue, self.queue = self.queue, None
            children, self.children = self.children, []
        if queue is None:
            return
        for task in queue.close():
            task.future.cancel()
        for child in children:
            child.end(kill=self.cancelled)
        # this process's engines may be configured otherwise by the next run's in-process audits
        forget_setups()


SHARED = _SharedPool()


def start_workers(jobs: int, preload: Sequence[str]) -> None:
    """Start the run's workers now, so they import `preload` while the run goes on."""
    SHARED.start(jobs, preload)


def kill_children() -> None:
    """End every process the run started at once: on SIGTERM or Ctrl-C the run leaves
    without waiting, and a child left behind would hold the caller's stderr open (a CI
    step waits for EOF). Every descendant, from /proc (Linux): a worker's own children too."""
    pids = {child.proc.pid for child in list(SHARED.children)}
    pids |= _descendants(os.getpid())
    for pid in pids:
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
        return set()  # no /proc: the workers' own pids only
    parents = {int(e): _parent_of(e) for e in entries}
    found: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def run_pooled(
    ctx: AuditContext,
    *,
    preload: Sequence[str],
    initializer: Callable[..., None],
    initargs: tuple,
    tasks: Sequence[tuple[Callable[..., Any], tuple]],
    local: bool = False,
    shareable: bool = True,
) -> list[Any]:
    """Run `tasks` ((function, args) pairs) on the run's shared workers (`--jobs` of
    them, started by the first audit that asks); results in task order. `local`: this
    process takes them first (their arguments are the whole inventory); not `shareable`:
    only this process runs them."""
    import hashlib
    import pickle

    queue = SHARED.start(ctx.config.jobs, preload)
    setup = (
        f"{initializer.__module__}.{initializer.__qualname__}:"
        + hashlib.sha256(pickle.dumps(initargs)).hexdigest()
    )
    futures: list[Future] = []
    for fn, args in tasks:
        future: Future = Future()
        queue.put(_Task(future, (setup, initializer, initargs, fn, args), local, shareable))
        futures.append(future)
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
