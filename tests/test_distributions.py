"""Wheels and sdists as targets: built by hatchling's own PEP 517 hooks from a small
project, audited as the tree they install."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import run_cli

AWS_KEY = "AKIAZ" + "Q3TVBNM7KXPLW4Y"
PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "shipit"
version = "1.2.0"

[tool.hatch.build.targets.wheel]
packages = ["shipit"]
"""


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    project = tmp_path_factory.mktemp("project")
    (project / "pyproject.toml").write_text(PYPROJECT)
    pkg = project / "shipit"
    (pkg / "keys").mkdir(parents=True)
    (pkg / "__init__.py").write_text("import os\n\nTOKEN = os.environ.get('TOKEN')\n")
    (pkg / ".env").write_text("DATABASE_PASSWORD=Vq7mZ2xK9pL4wB8n\n")
    (pkg / "keys" / "server.key").write_text(
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----\n"
    )
    (project / "tests").mkdir()
    (project / "tests" / "test_settings.py").write_text(
        f"AWS_ACCESS_KEY_ID = '{AWS_KEY}'\n"
        'login_data = {\n    "username": "admin",\n    "password": "incorrect",\n}\n'
    )
    out = project / "dist"
    hook = (
        "import sys; from hatchling import build as b;"
        "print(b.build_wheel(sys.argv[1])); print(b.build_sdist(sys.argv[1]))"
    )
    subprocess.run(
        [sys.executable, "-c", hook, str(out)], cwd=project, check=True, capture_output=True
    )
    return out


def _report(target: Path) -> dict:
    run = run_cli("audit", str(target), "-f", "json", "--only", "secrets,permissions")
    assert run.code == 1, run.stderr
    return run.json()


def _fails(report):
    return {
        (f["rule_id"], f["location"]["path"]): f
        for f in report["findings"]
        if f["status"] == "fail"
    }


def test_wheel_ships_secret_files(dist):
    wheel = next(dist.glob("*.whl"))
    assert ".env" in " ".join(zipfile.ZipFile(wheel).namelist())
    report = _report(wheel)
    assert report["run"]["inventory"]["source"] == "wheel"
    fails = _fails(report)
    assert ("SEC008", "shipit/.env") in fails
    assert ("SEC008", "shipit/keys/server.key") in fails
    assert "Vq7mZ2xK9pL4wB8n" not in json.dumps(report)


def test_sdist_test_fixture_secret_keeps_its_severity(dist):
    sdist = next(dist.glob("*.tar.gz"))
    report = _report(sdist)
    assert report["run"]["inventory"]["source"] == "sdist"
    fails = _fails(report)
    (fixture,) = [
        f
        for f in report["findings"]
        if f["location"]["path"] == "shipit-1.2.0/tests/test_settings.py"
        and f["location"]["line"] == 1
    ]
    assert fixture["severity"] in ("high", "critical")  # published with it: not downgraded
    by_name = [
        f
        for f in report["findings"]
        if f["location"]["path"] == "shipit-1.2.0/tests/test_settings.py"
        and f["location"]["line"] == 4
    ]
    assert by_name and all(f["severity"] == "info" for f in by_name)  # a fixture's password
    assert ("SEC008", "shipit-1.2.0/shipit/.env") in fails
    assert AWS_KEY not in json.dumps(report)


def test_hostile_wheel_entries_are_never_followed(tmp_path):
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("evil/__init__.py", "x = 1\n")
        zf.writestr("../../escaped.py", "print('out')\n")
        zf.writestr("/abs-escaped.py", "print('out')\n")
    run = run_cli("audit", str(wheel), "-f", "json", "--only", "permissions")
    report = run.json()
    errors = " | ".join(f["message"] for f in report["findings"] if f["status"] == "error")
    assert "climbs out of the root" in errors
    assert "absolute path" in errors
    assert run.code == 3  # incomplete: what was not applied was not audited
    assert not (tmp_path.parent / "escaped.py").exists()
