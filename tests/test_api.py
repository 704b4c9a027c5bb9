"""The public API, as someone embedding hardcheck uses it: typed, one options mapping."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

import hardcheck
from tests.conftest import SAMPLES

EMBEDDING = textwrap.dedent(
    """
    import hardcheck

    def failing_rules(path: str) -> list[str]:
        report: hardcheck.Report = hardcheck.audit(
            path, only=["permissions"], options={"headers": {"profile": "strict"}}
        )
        worst: list[hardcheck.Finding] = [
            f for f in report.findings
            if f.status is hardcheck.Status.FAIL and f.severity is hardcheck.Severity.HIGH
        ]
        code: int = report.exit_code
        return [f.rule_id for f in worst] + [str(code)]

    try:
        failing_rules(".")
    except hardcheck.ConfigError as exc:
        print(exc)
    """
)


def _mypy(tmp_path, source: str) -> subprocess.CompletedProcess:
    script = tmp_path / "embed.py"
    script.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(script)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )


def test_an_embedding_script_type_checks(tmp_path):
    run = _mypy(tmp_path, EMBEDDING)
    assert run.returncode == 0, run.stdout + run.stderr
    # and the checker does see the types: a misspelt attribute is an error
    wrong = _mypy(tmp_path, EMBEDDING.replace("report.findings", "report.findingz"))
    assert wrong.returncode == 1 and 'has no attribute "findingz"' in wrong.stdout


def test_options_set_an_audits_config_table(tmp_path):
    report = hardcheck.audit(
        SAMPLES / "insecure-fastapi",
        only=["dependencies"],
        options={"dependencies": {"vuln-db": str(SAMPLES / "vulndb")}},
        cache=False,
    )
    assert any(f.rule_id == "DEP001" and f.status is hardcheck.Status.FAIL for f in report.findings)
    with pytest.raises(hardcheck.ConfigError, match="dependencies"):
        hardcheck.audit(SAMPLES / "insecure-fastapi", options={"dependencies": {"vuln-dbx": "x"}})


def test_exported_names_load_lazily():
    run = subprocess.run(
        [sys.executable, "-c", "import sys, hardcheck; print('hardcheck.api' in sys.modules)"],
        capture_output=True,
        text=True,
    )
    assert run.stdout.strip() == "False"
    assert hardcheck.Report.__name__ == "Report" and hardcheck.audit.__module__ == "hardcheck.api"
