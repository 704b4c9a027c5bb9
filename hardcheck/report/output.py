"""Writing report files: atomically for regular files, so a reader (or a crash, or a full
disk) never leaves half a report; in place for anything else.

A device, FIFO or symlink (/dev/stdout, /dev/full, a named pipe) must never be replaced
by a renamed temporary file — as root that would swap the device node for a regular file.
Those are opened and written, and a failed write is an error like any other.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path


def _replaceable(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    return stat.S_ISREG(st.st_mode)


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    if not _replaceable(path):
        with open(path, "w", encoding="utf-8") as fh:  # follows a symlink such as /dev/stdout
            fh.write(text)
            fh.flush()
        return
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
