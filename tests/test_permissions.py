"""The permissions audit on samples deployed the way a release directory looks:
git cannot store these modes, so they are set on a temporary copy."""

from __future__ import annotations

import os
import stat

import pytest

import hardcheck
from tests.conftest import copy_sample, findings_of, make_tree, run_cli, tree_digest


@pytest.fixture()
def deployed_insecure(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    os.chmod(root / "app" / "main.py", 0o666)  # world-writable code
    os.chmod(root / "data", 0o777)  # world-writable directory, no sticky bit
    os.chmod(root / ".env", 0o640)  # group-readable secrets
    (root / "bin").mkdir()
    (root / "bin" / "helper").write_text("#!/bin/sh\n")
    os.chmod(root / "bin" / "helper", 0o4755)
    (root / "tmp").mkdir()
    os.chmod(root / "tmp", 0o1777)  # sticky: fine
    return root


def test_insecure_sample_deployed(deployed_insecure, validate_report):
    run = run_cli("audit", str(deployed_insecure), "--format", "json")
    assert run.code == 1
    report = validate_report(run.json())
    paths = lambda rule: sorted(f["location"]["path"] for f in findings_of(report, rule, "fail"))  # noqa: E731
    assert paths("PRM001") == ["app/main.py", "data"]
    assert paths("PRM002") == [".env", "certs/server.key", "data/app.sqlite3"]
    assert {
        f["severity"] for f in findings_of(report, "PRM002") if f["location"]["path"] == ".env"
    } == {"medium"}
    assert paths("PRM003") == ["bin/helper"]
    assert paths("PRM004") == ["config/app.yaml"]
    assert paths("PRM005") == ["static/passwd"]
    assert paths("APP001") == ["app/main.py", "app/settings.py"]
    assert paths("APP003") == ["app/main.py"]
    for f in report["findings"]:
        assert f["status"] != "error", f


def test_hardened_sample_passes_everything_that_applies(tmp_path, validate_report):
    root = copy_sample("hardened-fastapi", tmp_path)
    (root / ".env").write_text("DATABASE_URL=postgres://app@db/app\n")  # deployed, ignored by git
    os.chmod(root / ".env", 0o600)
    run = run_cli("audit", str(root), "--format", "json")
    report = validate_report(run.json())
    assert run.code == 0, [f for f in report["findings"] if f["status"] != "pass"]
    assert report["summary"]["by_status"]["fail"] == 0
    assert report["summary"]["grade"] == "A"


def test_expected_modes_exact_ceiling_owner_and_unmatched(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            ".env": "X=1\n",
            "certs/a.key": "k\n",
            "hardcheck.toml": (
                "[permissions.expected-modes]\n"
                '".env" = { mode = "0600", owner = "no-such-user-here" }\n'
                '"certs/*.key" = { max-mode = "0640" }\n'
                '"missing/*.pem" = { mode = "0600" }\n'
            ),
        },
        modes={".env": "0600", "certs/a.key": "0644"},
    )
    report = hardcheck.audit(root, only=["permissions"])
    msgs = {f.location.display(): f.message for f in report.findings if f.rule_id == "PRM007"}
    assert "owner 'no-such-user-here' does not exist" in msgs[".env"]
    assert "mode 0644 exceeds 0640" in msgs["certs/a.key"]
    assert "matches no file" in msgs["permissions.expected-modes.missing/*.pem"]


def test_secret_file_patterns_are_configurable(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "vault.txt": "s\n",
            ".env.local": "X=1\n",
            "hardcheck.toml": '[permissions]\nsecret-files = ["vault.txt"]\nnot-secret-files = [".env.local"]\n',
        },
    )
    report = hardcheck.audit(root, only=["permissions"])
    hits = {
        f.location.path
        for f in report.findings
        if f.rule_id == "PRM002" and f.status.value == "fail"
    }
    assert hits == {"vault.txt"}


@pytest.mark.parametrize(
    ("source", "rule", "severity"),
    [
        ("DEBUG = True\nINSTALLED_APPS = []\n", "APP001", "high"),
        (
            "import environ\nenv = environ.Env()\nDEBUG = env.bool('DEBUG', default=True)\nINSTALLED_APPS = []\n",
            "APP001",
            "medium",
        ),
        (
            "import os\nALLOWED_HOSTS = os.getenv('HOSTS', '*').split(',')\nINSTALLED_APPS = []\n",
            "APP002",
            "medium",
        ),
        (
            "CORS_ALLOW_ALL_ORIGINS = True\nCORS_ALLOW_CREDENTIALS = True\nINSTALLED_APPS = []\n",
            "APP003",
            "high",
        ),
        ("CORS_ORIGIN_ALLOW_ALL = True\nINSTALLED_APPS = []\n", "APP004", "low"),
        (
            "CORS_ALLOWED_ORIGIN_REGEXES = [r'^https://.*$']\nCORS_ALLOW_CREDENTIALS = True\nMIDDLEWARE = []\n",
            "APP003",
            "high",
        ),
    ],
)
def test_django_settings(tmp_path, source, rule, severity):
    root = make_tree(tmp_path / "t", {"mysite/settings.py": source})
    report = hardcheck.audit(root, only=["permissions"])
    hits = [f for f in report.findings if f.rule_id == rule and f.status.value == "fail"]
    assert [f.severity.value for f in hits] == [severity]


@pytest.mark.parametrize(
    ("source", "severity"),
    [
        ("from flask import Flask\napp = Flask(__name__)\napp.run(debug=True)\n", "high"),
        (
            "from flask import Flask\napp = Flask(__name__)\nif __name__ == '__main__':\n    app.run(debug=True)\n",
            "medium",
        ),
        ("from flask import Flask\napp = Flask(__name__)\napp.debug = True\n", "high"),
        ("from flask import Flask\napp = Flask(__name__)\napp.config['DEBUG'] = True\n", "high"),
        ("from flask import Flask\napp = Flask(__name__)\napp.config.update(DEBUG=True)\n", "high"),
        ("from starlette.applications import Starlette\napp = Starlette(debug=True)\n", "high"),
    ],
)
def test_flask_and_starlette_debug(tmp_path, source, severity):
    root = make_tree(tmp_path / "t", {"app.py": source})
    report = hardcheck.audit(root, only=["permissions"])
    hits = [f for f in report.findings if f.rule_id == "APP001" and f.status.value == "fail"]
    assert [f.severity.value for f in hits] == [severity]


def test_values_from_environment_pass(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "mysite/settings.py": (
                "import os\nDEBUG = os.environ.get('DEBUG') == '1'\n"
                "ALLOWED_HOSTS = os.environ['HOSTS'].split(',')\nINSTALLED_APPS = []\n"
            ),
            "app.py": "from flask import Flask\napp = Flask(__name__)\napp.run(debug=False)\n",
        },
    )
    report = hardcheck.audit(root, only=["permissions"])
    settings_rules = ("APP001", "APP002", "APP003", "APP004")  # APP005/6 read start commands
    assert not [
        f for f in report.findings if f.rule_id in settings_rules and f.status.value != "pass"
    ]


def test_development_settings_module_is_downgraded(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"mysite/settings/dev.py": "DEBUG = True\n", "mysite/settings/prod.py": "DEBUG = False\n"},
    )
    report = hardcheck.audit(root, only=["permissions"])
    hits = [f for f in report.findings if f.rule_id == "APP001" and f.status.value == "fail"]
    assert [(f.location.path, f.severity.value) for f in hits] == [
        ("mysite/settings/dev.py", "info")
    ]
    assert report.exit_code == 0


def test_app_rules_skip_without_app_code(tmp_path):
    root = make_tree(tmp_path / "t", {"README.md": "docs\n"})
    report = hardcheck.audit(root, only=["permissions"])
    app = [f for f in report.findings if f.rule_id.startswith("APP")]
    assert {f.status.value for f in app} == {"skip"}
    assert all("not applicable" in f.message for f in app)


def test_audit_never_writes_into_the_target(deployed_insecure, tmp_path):
    before = tree_digest(deployed_insecure)
    mtime = os.stat(deployed_insecure).st_mtime_ns
    run = run_cli("audit", str(deployed_insecure), "--format", f"json:{tmp_path / 'r.json'}")
    assert run.code == 1
    assert tree_digest(deployed_insecure) == before
    assert os.stat(deployed_insecure).st_mtime_ns == mtime


def test_sticky_world_writable_dir_is_fine(tmp_path):
    root = make_tree(tmp_path / "t", {"shared/x.txt": "x\n"}, modes={"shared": "1777"})
    assert stat.S_IMODE(os.stat(root / "shared").st_mode) == 0o1777
    report = hardcheck.audit(root, only=["permissions"])
    assert not [f for f in report.findings if f.rule_id == "PRM001" and f.status.value == "fail"]
