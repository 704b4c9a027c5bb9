"""Hostile trees: each audit run completes, with the other results intact, and nothing
blocks (FIFOs, sockets and devices are never opened), explodes (alias bombs, sparse
giants) or escapes (links to /)."""

from __future__ import annotations

import os
import socket
import stat
import time

import pytest

import hardcheck
from tests.conftest import IS_ROOT, make_tree, run_cli
from tests.robustness.conftest import STATS

ANCHOR = {
    "mysite/settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"
}  # a finding that must survive


def _survives(root, *, only=None, budget=60.0):
    t0 = time.monotonic()
    report = hardcheck.audit(root, only=only or [], timeout=budget)
    assert time.monotonic() - t0 < budget
    assert not [f.message for f in report.findings if f.rule_id == "RUN001"], "an audit crashed"
    assert any(f.rule_id == "APP001" and f.status.value == "fail" for f in report.findings), (
        "other results lost"
    )
    STATS["trees"] += 1
    return report


def test_hundred_thousand_small_files(tmp_path):
    root = make_tree(tmp_path / "t", ANCHOR)
    for d in range(100):
        folder = root / f"d{d:03d}"
        folder.mkdir()
        for i in range(1000):
            (folder / f"f{i}.txt").touch()
    report = _survives(root)
    assert report.inventory["files"] >= 100_000


def test_directories_nested_five_thousand_deep(tmp_path):
    root = make_tree(tmp_path / "t", ANCHOR)
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(5000):  # beyond PATH_MAX: built with directory file descriptors
            os.mkdir("d", dir_fd=fd)
            nxt = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        with open(os.open("deep.env", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
            fh.write("SECRET=1\n")
    finally:
        os.close(fd)
    try:
        report = _survives(root)
    finally:
        _unnest(root / "d")
    deep = [f for f in report.findings if f.rule_id == "RUN002" and "too long" in f.message.lower()]
    assert deep, "the unreachable depth must be reported, not silently dropped"


def _unnest(top) -> None:
    """Remove a chain of nested "d" directories one level at a time, hoisting the child
    each step: pytest's own clean-up of old temporary folders recurses and would hit
    Python's recursion limit on a later run."""
    hoisted = top.parent / "d.next"
    while (top / "d").is_dir():
        os.rename(top / "d", hoisted)
        for leftover in top.iterdir():
            leftover.unlink()
        top.rmdir()
        os.rename(hoisted, top)
    for leftover in top.iterdir():
        leftover.unlink()
    top.rmdir()


def test_hostile_file_names_special_files_links_and_bombs(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            **ANCHOR,
            "logging.yaml": "version: 1\nhandlers: {}\n"
            + "a: &a [x,x,x,x,x,x,x,x,x]\n"
            + "".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n"
                for i in range(8)
            ),
            "config/values.yaml": "a: &a [yyyyyyyyyyyyyyyyyyyy, yyyyyyyyyyyyyyyy]\nb: [*a, *a, *a, *a, *a, *a, *a, *a]\n",
        },
        links={"loop1": "loop2", "loop2": "loop1", "root": "/", "etc": "/etc"},
    )
    for name in (
        b"new\nline.env",
        b"tab\tname.py",
        b"bad\xff\xfe.env",
        b"\x1b[2J\x1b]0;pwned\x07.env",
    ):
        with open(os.path.join(os.fsencode(root), name), "wb") as fh:
            fh.write(b"SECRET_TOKEN=Qm9Kx2Lr8Vt3Np6Zs4Wy7Hb1\n")
    os.mkfifo(root / "pipe.py")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.env"))
    if IS_ROOT:
        os.mknod(root / "zero.py", stat.S_IFCHR | 0o644, os.makedev(1, 5))  # a copy of /dev/zero
    with open(root / "giant.py", "wb") as fh:
        fh.truncate(2 * 1024**3)  # 2 GB, sparse
    try:
        _survives(root)
        run = run_cli("audit", str(root), "--only", "permissions,secrets", "-q")
    finally:
        sock.close()
    assert "\x1b" not in run.stdout and "\x07" not in run.stdout
    assert "new\\x0aline.env" in run.stdout and "bad\\xff\\xfe.env" in run.stdout


def test_settings_module_that_would_run_code(tmp_path):
    marker = tmp_path / "executed"
    code = f"import os\nos.system('touch {marker}')\nopen({str(marker)!r}, 'w')\n"
    root = make_tree(
        tmp_path / "t",
        {
            **ANCHOR,
            "mysite/settings.py": code + ANCHOR["mysite/settings.py"],
            "gunicorn.conf.py": code,
            "logging_conf.py": code + "LOGGING = {'version': 1}\n",
        },
    )
    _survives(root)
    assert not marker.exists()


@pytest.mark.skipif(not IS_ROOT, reason="unreadable paths need root to create and drop")
def test_unreadable_everything(tmp_path):
    root = make_tree(tmp_path / "t", {**ANCHOR, "secret/a.env": "X=1\n", "code/a.py": "x = 1\n"})
    for name in ("secret", "code"):
        os.chmod(root / name, 0)
    try:
        _survives(root, only=["permissions"])
    finally:
        for name in ("secret", "code"):
            os.chmod(root / name, 0o755)
