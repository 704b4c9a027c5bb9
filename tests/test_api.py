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


def test_findings_in_test_code_are_information_counted_apart(tmp_path):
    """#17: on a FastAPI template 173 of 178 bandit items were `assert` in tests/, and test
    passwords were high secrets; the first screen must be about the service."""
    from tests.conftest import make_tree

    root = make_tree(
        tmp_path / "t",
        {
            "app/main.py": 'import subprocess\nAWS = "AKIAQW3RT7YU8IO9PA0S"\n'
            "def run(cmd):\n    subprocess.call(cmd, shell=True)\n",
            "tests/test_login.py": 'def test_login():\n    password = "Zq8Rt2Lm9Vx4"\n'
            "    assert password\n",
            "frontend/src/login.spec.ts": 'const password = "Hy5Jc1Fb0Gt8";\n',
            "blog/tests.py": 'TOKEN = "c3VwZXJzZWNyZXRzdHJpbmd3aXRobG90c29mZW50cm9weQ9x"\n',
        },
    )
    report = hardcheck.audit(root, only=["secrets", "code"], cache=False)
    fails = [f for f in report.findings if f.status.value == "fail"]
    in_tests = [f for f in fails if f.location.test_code]
    assert {f.location.path for f in in_tests} == {
        "tests/test_login.py",
        "frontend/src/login.spec.ts",
        "blog/tests.py",  # Django's and microblog's single test module
    }
    assert all(f.severity.value == "info" and "(test code:" in f.message for f in in_tests)
    assert any(f.upstream_id == "B101" for f in in_tests)  # still reported: bandit parity
    service = {(f.location.path, f.severity.value) for f in fails if not f.location.test_code}
    assert ("app/main.py", "critical") in service and ("app/main.py", "high") in service
    assert report.counts()["in_test_code"] == len(in_tests)
    record = report.to_dict()
    assert sum(1 for f in record["findings"] if f["location"].get("test_code")) == len(in_tests)
    # and a config can say there is no test code
    (root / "hardcheck.toml").write_text("test-paths = []\n")
    again = hardcheck.audit(root, only=["secrets", "code"], cache=False)
    assert not any(f.location.test_code for f in again.findings)
