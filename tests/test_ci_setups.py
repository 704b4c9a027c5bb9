"""The ready-made CI setups: the workflow files hold the steps they promise, and the
pre-commit hook really runs through `pre-commit try-repo`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from tests.conftest import REPO, SAMPLES, make_tree
from tests.test_inventory import GIT_ENV


def test_github_actions_workflow():
    wf = yaml.safe_load((SAMPLES / "ci" / "github-actions.yml").read_text())
    triggers = wf[True] if True in wf else wf["on"]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["tags"] and triggers["schedule"][0]["cron"]
    assert wf["permissions"]["security-events"] == "write"
    steps = wf["jobs"]["audit"]["steps"]
    run = next(s["run"] for s in steps if s.get("name") == "Audit")
    for needle in (
        "--baseline",
        "--fail-on high",
        "sarif:hardcheck.sarif",
        "json:hardcheck-report.json",
    ):
        assert needle in run
    audit = next(s for s in steps if s.get("name") == "Audit")
    assert "secrets.HARDCHECK_FINGERPRINT_KEY" in audit["env"]["HARDCHECK_FINGERPRINT_KEY"]
    cache = next(s for s in steps if s.get("uses", "").startswith("actions/cache"))
    assert cache["with"]["path"] == "~/.cache/hardcheck"  # platformdirs' user cache on Linux
    assert steps.index(cache) < steps.index(audit)
    uses = [s.get("uses", "") for s in steps]
    assert any(u.startswith("github/codeql-action/upload-sarif@v4") for u in uses)  # v3: deprecated
    install = next(s["run"] for s in steps if s.get("name") == "Install hardcheck")
    assert "git+https://" in install  # not `pip install hardcheck`: it is not on PyPI
    assert any(u.startswith("actions/upload-artifact") for u in uses)
    assert all(
        s.get("if") == "always()"
        for s in steps
        if s.get("uses", "").startswith(("github/", "actions/upload"))
    )


def test_gitlab_job():
    job = yaml.safe_load((SAMPLES / "ci" / "gitlab-ci.yml").read_text())["hardcheck"]
    assert any("schedule" in r["if"] for r in job["rules"])
    reports = job["artifacts"]["reports"]
    assert reports["junit"] == "hardcheck-junit.xml"
    assert reports["codequality"] == "gl-code-quality-report.json"
    assert reports["sast"] == "gl-sast-report.json"
    script = "\n".join(job["script"])
    for name, path in (("junit", "junit"), ("codequality", "codequality"), ("gitlab-sast", "sast")):
        assert f"--format {name}:{reports[path]}" in script
    assert not any(line.strip() == "pip install hardcheck" for line in job["script"])


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_pre_commit_hook_runs_with_try_repo(tmp_path, monkeypatch):
    pre_commit = [sys.executable, "-m", "pre_commit"]
    if subprocess.run([*pre_commit, "--version"], capture_output=True).returncode != 0:
        pytest.skip("pre-commit is not installed")
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    project = make_tree(
        tmp_path / "svc",
        {"app/main.py": "from fastapi import FastAPI\napp = FastAPI(debug=True)\n"},
    )
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)
    subprocess.run(["git", "add", "."], cwd=project, check=True)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home")}
    proc = subprocess.run(
        [*pre_commit, "try-repo", str(REPO), "hardcheck", "--all-files"],
        cwd=project,
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 1, (
        proc.stdout[-2000:] + proc.stderr[-2000:]
    )  # the hook found DEBUG on
    assert "APP001" in proc.stdout and "hardcheck (permissions, logging, uploads)" in proc.stdout
