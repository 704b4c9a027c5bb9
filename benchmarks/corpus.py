"""The benchmark corpus: the Django 5.2 source distribution, fetched once with pip and
unpacked into a cache directory (HARDCHECK_BENCH_DIR, default ~/.cache/hardcheck-bench)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

SPEC = "django==5.2.*"


def cache_dir() -> Path:
    default = Path.home() / ".cache" / "hardcheck-bench"
    path = Path(os.environ.get("HARDCHECK_BENCH_DIR", default))
    path.mkdir(parents=True, exist_ok=True)
    return path


def django_tree() -> Path:
    """The unpacked sdist (downloaded on first use: `pip download --no-deps --no-binary :all:`)."""
    base = cache_dir()
    found = sorted(base.glob("django-5.2.*/"))
    if found:
        return found[-1]
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "-q",
            "--no-deps",
            "--no-binary",
            ":all:",
            SPEC,
            "-d",
            str(base),
        ],
        check=True,
    )
    archive = sorted(base.glob("django-5.2.*.tar.gz"))[-1]
    with tarfile.open(archive) as tar:
        tar.extractall(base, filter="data")
    return sorted(base.glob("django-5.2.*/"))[-1]


def warm(tree: Path) -> None:
    """Read every file once so neither tool pays for a cold page cache."""
    for dirpath, _, files in os.walk(tree):
        for name in files:
            try:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    while fh.read(1 << 20):
                        pass
            except OSError:
                pass


BIN = Path(sys.executable).parent  # the tools compared are installed beside this Python


def prepared_tree() -> tuple[Path, int]:
    """Parse --repeat, fetch the corpus and warm the page cache: (tree, repeat)."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    tree = django_tree()
    warm(tree)
    return tree, args.repeat


def machine() -> str:
    import platform

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{platform.machine()} {cores} cores, Python {platform.python_version()}, {platform.system()} {platform.release()}"


def timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, subprocess.CompletedProcess]:
    """Wall time of one command, and its result."""
    import time

    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - t0, proc
