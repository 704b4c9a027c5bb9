"""Values that would exhaust the machine or overflow are refused when the config is read
(exit 2, one line), whether they come from the command line or from a config file the
audited tree holds; jobs never exceed the cores the process may use."""

from __future__ import annotations

import time

import pytest

import hardcheck
from hardcheck.config import default_jobs
from tests.conftest import make_tree, run_cli

CONFIG_CASES = {
    "jobs = 99999999999999999999\n": "'jobs'",
    "jobs = 10000000\n": "'jobs'",
    "timeout = 1e300\n": "'timeout'",
    "max-file-size = 99999999999999999999\n": "'max-file-size'",
    'max-file-size = "9999999 GiB"\n': "above the ceiling",
    '[uploads]\nmax-body = "str"\n': "'uploads.max-body'",
    "[uploads]\nmax-body = 99999999999999999999\n": "'uploads.max-body'",
}


@pytest.mark.parametrize("config", sorted(CONFIG_CASES))
def test_config_file_values_past_a_ceiling_are_refused(config, tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n", "hardcheck.toml": config})
    t0 = time.monotonic()
    run = run_cli("audit", str(root), "-q", "--only", "permissions,uploads", "--no-cache")
    assert time.monotonic() - t0 < 20
    assert run.code == 2, (run.code, run.stderr)
    assert "Traceback" not in run.stderr and CONFIG_CASES[config] in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("option", [("--jobs", "10000000"), ("--timeout", "1e300")])
def test_command_line_values_past_a_ceiling_are_refused(option, tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    run = run_cli("audit", str(root), "-q", *option)
    assert run.code == 2 and "Traceback" not in run.stderr
    assert f"Invalid value for '{option[0]}'" in run.stderr


def test_jobs_are_bounded_by_the_usable_cores(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    report = hardcheck.audit(root, only=["permissions"], jobs=200, cache=False)
    assert report.config["jobs"] == default_jobs()
