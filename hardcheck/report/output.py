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

# Every format names hardcheck near its start (the JSON/SARIF tool name, the console and
# Markdown headline, the HTML title, the OpenMetrics families, each Code Quality issue's
# engine_name): what a report file holds
REPORT_MARK = b"hardcheck"


def output_problem(target: Path, path: Path, overwrite: bool = False) -> str | None:
    """Why a report must not be written to `path`, or None. Inside the audited tree a new
    file is fine (CI keeps `hardcheck.sarif` in the checkout), but a symlink there is never
    followed, and a file that is not an earlier hardcheck report (a source file given by
    mistake: `-o app.py`) is not replaced without --overwrite-in-target."""
    try:
        root = target.resolve()
        where = path.parent.resolve() / path.name
        where.relative_to(root)
    except (OSError, ValueError):
        return None  # outside the tree: the user's own place (/dev/stdout included)
    if os.path.islink(where):
        return f"{path} is a symlink inside the audited tree; a report never follows one"
    if not where.exists() or overwrite:
        return None
    if not where.is_file():
        return f"{path} exists inside the audited tree and is not a regular file"
    try:
        with open(where, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        return f"{path} cannot be read to check what it is: {exc.strerror or exc}"
    if REPORT_MARK in head.lower() or head.strip() == b"[]":
        # an earlier report, replaced as every run does (an empty Code Quality report is
        # `[]`: replacing that loses nothing either)
        return None
    return (
        f"{path} is a file of the audited tree, not a hardcheck report; writing the report "
        "there would replace it (pass --overwrite-in-target if that is what you want)"
    )


def _replaceable(path: Path) -> bool:
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return True
    return stat.S_ISREG(st.st_mode)


def _umask() -> int:
    try:  # Linux: read it without changing it (os.umask sets it, racing other threads)
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    current = os.umask(0o022)
    os.umask(current)
    return current


def _mode_for(path: Path) -> int:
    """An existing report keeps its mode; a new one gets what open() would give it under
    the umask (mkstemp's 0600 would hide it from a textfile collector or a web server:
    reports hold no secrets by design)."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return 0o666 & ~_umask()


def write_atomic(path: Path, text: str) -> None:
    path = Path(path)
    if not _replaceable(path):
        with open(path, "w", encoding="utf-8") as fh:  # follows a symlink such as /dev/stdout
            fh.write(text)
            fh.flush()
        return
    directory = path.parent if str(path.parent) else Path(".")
    mode = _mode_for(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fchmod(fh.fileno(), mode)
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
