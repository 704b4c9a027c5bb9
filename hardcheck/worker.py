"""One worker of the run's pool, and what every worker runs a task with.

A child worker runs `main(TASK_FD, RESULT_FD, MODULE…)` (hardcheck.pool starts it): it
imports the modules named (the engines', while the run goes on), then reads tasks from one
pipe and writes each result to the other, as length-prefixed pickles, until the task pipe
closes. The task's function, pickled by name, brings in the modules
it needs, so a worker imports an engine only when it is given that engine's work.

This module imports nothing of hardcheck: a child worker starts in the time Python does.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import pickle
import signal
import struct
from typing import Any, BinaryIO, Callable

_LENGTH = struct.Struct("!Q")
PR_SET_PDEATHSIG = 1

_SET_UP: set[str] = set()  # in this process: the engines configured (initializer + arguments)


def send(stream: BinaryIO, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)))
    stream.write(data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    """The next message; EOFError when the other side closed its end (or died)."""
    header = stream.read(_LENGTH.size)
    if len(header) < _LENGTH.size:
        raise EOFError
    (size,) = _LENGTH.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)


def run_task(
    setup: str, initializer: Callable[..., None], initargs: tuple, fn: Callable, args: tuple
) -> Any:
    """Configure the task's engine once per process (`setup` names the initializer and its
    arguments), run it, and give its memory back."""
    if setup not in _SET_UP:
        initializer(*initargs)
        _SET_UP.add(setup)
    try:
        return fn(*args)
    finally:
        _give_back_memory()


def forget_setups() -> None:
    """The engines' process-wide settings may be changed by others after this (the main
    process audits small trees in-process): configure again on the next task."""
    _SET_UP.clear()


def _give_back_memory() -> None:
    """Between tasks: free what the task left (its syntax trees are cycles) and hand the
    freed heap back to the OS, so a worker holds its next task's memory, not the largest
    it ever ran. malloc_trim is glibc's; elsewhere only the collection happens."""
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None).malloc_trim(0)


def _portable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling, else a RuntimeError naming it."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {str(exc)[:300]}")


def _die_with_parent() -> None:
    """Linux: end with the process that started this one, so no worker outlives a killed run."""
    with contextlib.suppress(OSError, AttributeError):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def main(argv: list[str]) -> int:
    task_fd, result_fd = int(argv[0]), int(argv[1])
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the run's to handle, not ours
    for name in argv[2:]:
        importlib.import_module(name)
    with os.fdopen(task_fd, "rb") as tasks, os.fdopen(result_fd, "wb") as results:
        while True:
            try:
                task = receive(tasks)
            except EOFError:
                return 0
            try:
                outcome: tuple[bool, Any] = (True, run_task(*task))
            except BaseException as exc:
                outcome = (False, _portable(exc))
            try:
                send(results, outcome)
            except (pickle.PicklingError, TypeError, AttributeError) as exc:
                send(results, (False, RuntimeError(f"the task's result cannot be sent: {exc}")))
