"""The benchmark corpus: the Django 5.2 source distribution, fetched once with pip and
unpacked into a cache directory (HARDCHECK_BENCH_DIR, default ~/.cache/hardcheck-bench)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import NamedTuple

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


def bandit_differences(bandit_report: dict, report: dict) -> dict:
    """Issues bandit reports and hardcheck's code audit does not, and the reverse, by
    (path, line, test id): {} when both found exactly the same."""
    import collections

    theirs = collections.Counter(
        (os.path.normpath(r["filename"]), r["line_number"], r["test_id"])
        for r in bandit_report["results"]
    )
    ours = collections.Counter(
        (f["location"]["path"], f["location"]["line"], f["upstream_id"])
        for f in report["findings"]
        if f["audit"] == "code" and f["status"] == "fail"
    )
    return {k: (theirs[k], ours[k]) for k in theirs | ours if theirs[k] != ours[k]}


def secrets_missed(ds_results: dict, report: dict) -> tuple[int, list[str]]:
    """(compared, missed): every secret `detect-secrets scan` reports in a file hardcheck
    scanned needs a hardcheck finding in that file at or before its line (hardcheck keeps
    one finding per secret per file). Translation catalogues are excluded by default."""
    from collections import defaultdict

    ours: dict[str, list[int]] = defaultdict(list)
    for f in report["findings"]:
        if f["rule_id"] in ("SEC001", "SEC003") and f["status"] == "fail":
            ours[f["location"]["path"]].append(f["location"]["line"])
    compared, missed = 0, []
    for filename, results in ds_results.items():
        if filename.endswith((".po", ".mo")):
            continue
        for r in results:
            compared += 1
            if not any(line <= r["line_number"] for line in ours.get(filename, [])):
                missed.append(f"{filename}:{r['line_number']} {r['type']}")
    return compared, missed


def _tree_memory(root_pid: int) -> tuple[int, int, int]:
    """(RSS, PSS, RSS of the process alone) of a process and all its descendants, in bytes (Linux /proc). The sum of
    RSS counts a page shared by several processes (forked workers share their server's
    imports) once per process; PSS divides it among them, so it sums to what the tree
    really holds."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            parents[int(name)] = int(fields[1])
            rss[int(name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    tree, frontier = {root_pid}, [root_pid]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in tree:
                tree.add(child)
                frontier.append(child)
    return (
        sum(rss.get(pid, 0) for pid in tree),
        sum(_pss(pid) for pid in tree),
        rss.get(root_pid, 0),
    )


def _pss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


class Measured(NamedTuple):
    wall: float
    peak_rss: int  # bytes, the process tree's summed RSS at its peak (sampled every 0.1 s)
    exit: int
    peak_pss: int = 0  # bytes, the tree's summed PSS at its peak
    main_at_peak: int = 0  # bytes, the command's own process's RSS when the tree's sum peaked


def measured(cmd: list[str], cwd: Path | None = None) -> Measured:
    """Wall seconds, peak memory of the process tree (sampled every 0.1 s), exit code."""
    import time

    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = peak_pss = main_at_peak = 0
    while proc.poll() is None:
        rss, pss, main = _tree_memory(proc.pid)
        if rss > peak:
            peak, main_at_peak = rss, main
        peak_pss = max(peak_pss, pss)
        time.sleep(0.1)
    wall = time.perf_counter() - t0
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if "Traceback" in stderr:
        raise RuntimeError(f"{cmd[0]} crashed:\n{stderr[-2000:]}")
    return Measured(wall, peak, proc.returncode, peak_pss, main_at_peak)
