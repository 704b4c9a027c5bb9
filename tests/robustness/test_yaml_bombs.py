"""YAML alias bombs in the files the audited tree holds (logging config, compose,
Kubernetes): refused by size before they are constructed, in a child process whose
address space is capped, so a regression fails the test instead of the machine."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

import pytest

from hardcheck.readers import yamlsafe
from tests.conftest import make_tree
from tests.robustness.conftest import STATS

MEMORY_CAP = 1024**3  # 1 GiB of address space for the whole audit


def bomb(levels: int, width: int = 9, head: str = "") -> str:
    """`levels` anchors, each a list of `width` aliases of the one before: width**levels values."""
    names = [f"l{i}" for i in range(levels + 1)]
    lines = [head, f"{names[0]}: &{names[0]} [{', '.join(['x'] * width)}]"]
    for prev, name in zip(names, names[1:]):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [3, 6, 9, 12])
def test_alias_bombs_are_refused_before_they_are_built(levels):
    text = bomb(levels)
    t0 = time.monotonic()
    if 9 ** (levels + 1) <= yamlsafe.MAX_VALUES:
        assert len(yamlsafe.load(text)[f"l{levels}"]) == 9  # small: loaded as PyYAML would
    else:
        with pytest.raises(yamlsafe.TooLarge):
            yamlsafe.load(text)
    assert time.monotonic() - t0 < 1.0


def _cap():
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def test_a_tree_of_bombs_is_audited_in_bounded_memory_and_time(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\napp.debug = True\n",
            "logging.yaml": bomb(9, head="version: 1\nhandlers: {}"),
            "docker-compose.yml": bomb(9, head="services: {}"),
            "k8s/deploy.yaml": bomb(9, head="kind: Deployment"),
        },
    )
    out = tmp_path / "r.json"
    t0 = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "hardcheck", "audit", str(root), "--no-cache", "-q",
         "--only", "permissions,logging,uploads", "--format", f"json:{out}"],
        capture_output=True, text=True, timeout=120, preexec_fn=_cap,
    )  # fmt: skip
    elapsed = time.monotonic() - t0
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    # the debug finding makes it exit 1 (findings outrank "incomplete", exit 3)
    assert run.returncode == 1, (run.returncode, run.stderr[-2000:])
    assert elapsed < 30
    report = json.loads(out.read_text())
    said = " ".join(f["message"] for f in report["findings"])
    assert "alias bomb" in said
    errors = {f["rule_id"]: f["message"] for f in report["findings"] if f["status"] == "error"}
    assert "logging.yaml" in errors["LOG001"] and "docker-compose.yml" in errors["APP005"]
    assert "k8s/deploy.yaml" in errors["APP005"]
    # and what did load is still judged
    assert any(f["rule_id"] == "APP001" and f["status"] == "fail" for f in report["findings"])
    STATS["trees"] += 1


def test_a_huge_value_in_a_logging_config_is_shown_bounded(tmp_path):
    big = "[" + ", ".join(["verbose"] * 150_000) + "]"
    root = make_tree(
        tmp_path / "t",
        {"logging.yaml": f"version: 1\nhandlers: {{}}\nroot:\n  level: {big}\n"},
    )
    from hardcheck import audit

    report = audit(root, only=["logging"], cache=False)
    said = [f.message for f in report.findings if f.status.value in ("fail", "error")]
    assert any("is neither a name nor a number" in m for m in said), said
    assert max(len(m) for m in said) < 500
