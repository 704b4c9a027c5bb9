"""Injected faults: a full disk while writing the report, SIGINT/SIGTERM mid-run, and a
missing engine. (Crashing and hanging audits: tests/test_runner.py; network faults:
test_network_faults.py.)"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from tests.conftest import IS_ROOT, SAMPLES, copy_sample, make_tree, run_cli
from tests.faultserver import FaultServer
from tests.robustness.conftest import STATS


@pytest.mark.skipif(not IS_ROOT, reason="creating a device node needs root")
def test_full_disk_while_writing_the_report(tmp_path):
    full = tmp_path / "full"
    os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a private /dev/full
    run = run_cli("audit", str(SAMPLES / "hardened-fastapi"), "--format", f"json:{full}", "-q")
    STATS["faults"] += 1
    assert run.code == 2 and "No space left on device" in run.stderr
    assert stat.S_ISCHR(os.lstat(full).st_mode)  # the device node was not replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["full"]  # no temporary file left


def test_report_write_is_atomic_for_regular_files(tmp_path):
    out = tmp_path / "r.json"
    out.write_text("previous report\n")
    os.chmod(tmp_path, 0o555)  # the directory refuses the temporary file
    try:
        run = run_cli(
            "audit",
            str(SAMPLES / "hardened-fastapi"),
            "--format",
            f"json:{out}",
            "-q",
            prefix=_no_dac(),
        )
    finally:
        os.chmod(tmp_path, 0o755)
    STATS["faults"] += 1
    assert run.code == 2
    assert out.read_text() == "previous report\n"  # untouched, not half-written


def _no_dac():
    from tests.conftest import without_dac_override

    return without_dac_override()


@pytest.mark.parametrize(
    ("sig", "code", "name"), [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "SIGINT")]
)
def test_signal_mid_run_exits_cleanly(tmp_path, sig, code, name):
    out = tmp_path / "r.json"
    root = make_tree(tmp_path / "t", {"hardcheck.toml": "[headers]\ntimeout = 60\n"})
    with FaultServer() as srv:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "hardcheck",
                "audit",
                str(root),
                "--url",
                f"{srv.url}/hang",
                "--format",
                f"json:{out}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(2.0)  # the headers audit is now waiting on the hanging server
        proc.send_signal(sig)
        try:
            _, stderr = proc.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    STATS["faults"] += 1
    assert proc.returncode == code, stderr
    assert f"interrupted ({name}); no report written" in stderr
    assert not out.exists() and "Traceback" not in stderr
    assert list(tmp_path.glob(".r.json.*")) == []


def test_missing_engine_is_an_error_naming_it(tmp_path):
    shadow = tmp_path / "shadow" / "bandit"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        "raise ImportError('bandit is not installed (simulated)')\n"
    )
    root = copy_sample("insecure-fastapi", tmp_path)
    env = {"PYTHONPATH": str(tmp_path / "shadow")}
    run = run_cli("audit", str(root), "--only", "code,permissions", "--format", "json", env=env)
    STATS["faults"] += 1
    report = run.json()
    code = next(a for a in report["audits"] if a["name"] == "code")
    assert (
        code["status"] == "error"
        and "not installed" in code["message"]
        and "bandit" in code["message"]
    )
    perms = next(a for a in report["audits"] if a["name"] == "permissions")
    assert (
        perms["status"] == "fail" and perms["counts"]["fail"] > 0
    )  # the other audit still reported
    assert run.code == 1  # permissions has high findings; otherwise it would be 3
