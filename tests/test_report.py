"""The report contract: schema, ordering, fingerprints, score, exit codes."""

from __future__ import annotations

import json

import hardcheck
from hardcheck.model import Finding, Location, Severity, Status
from hardcheck.report.model import assign_fingerprints, grade, score
from tests.conftest import REPO, SAMPLES, copy_sample, run_cli


def _finding(
    rule="PRM001", severity=Severity.HIGH, status=Status.FAIL, path="a", line=None, key=""
):
    return Finding(
        rule_id=rule,
        audit="permissions",
        status=status,
        severity=severity,
        title="t",
        message="m",
        location=Location(path=path, line=line),
        key=key,
    )


def test_samples_validate_against_schema(validate_report):
    for sample in ("insecure-fastapi", "hardened-fastapi"):
        validate_report(hardcheck.audit(SAMPLES / sample).to_dict())


def test_report_is_deterministic_and_fingerprints_are_stable(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    first = hardcheck.audit(root).to_dict()
    second = hardcheck.audit(root).to_dict()
    assert first["findings"] == second["findings"]
    # moving a finding to another line keeps its fingerprint
    main = root / "app" / "main.py"
    main.write_text("\n\n\n" + main.read_text())
    third = hardcheck.audit(root).to_dict()
    for report in (first, third):
        errors = [(a["name"], a["message"]) for a in report["audits"] if a["status"] == "error"]
        assert not errors
    fp = lambda r: {(f["rule_id"], f["location"]["path"], f["fingerprint"]) for f in r["findings"]}  # noqa: E731
    assert fp(first) == fp(third)
    assert {f["location"]["line"] for f in third["findings"] if f["rule_id"] == "APP003"} == {12}


def test_fingerprints_ignore_lines_and_number_duplicates():
    a = assign_fingerprints([_finding(line=3), _finding(line=9)])
    b = assign_fingerprints([_finding(line=5), _finding(line=1)])
    assert {f.fingerprint for f in a} == {f.fingerprint for f in b}
    assert len({f.fingerprint for f in a}) == 2
    assert (
        _finding(path="x").with_fingerprint().fingerprint
        != _finding(path="y").with_fingerprint().fingerprint
    )


def test_score_formula():
    assert score([]) == 100
    assert score([_finding(severity=Severity.HIGH)]) == 85
    # one rule's penalty is capped at twice its worst finding
    assert score([_finding(path=str(i)) for i in range(10)]) == 70
    assert score([_finding(severity=Severity.INFO)]) == 100
    assert score([_finding(status=Status.ERROR)]) == 100
    assert score([_finding(rule=f"PRM00{i}", severity=Severity.CRITICAL) for i in range(1, 6)]) == 0
    assert [grade(v) for v in (100, 90, 89, 75, 60, 40, 39)] == ["A", "A", "B", "B", "C", "D", "F"]


def test_fail_on_threshold():
    insecure = str(SAMPLES / "insecure-fastapi")
    assert (
        run_cli("audit", insecure, "--only", "permissions", "--fail-on", "critical", "-q").code == 0
    )
    assert run_cli("audit", insecure, "--only", "permissions", "--fail-on", "high", "-q").code == 1


def test_schema_in_repo_is_what_the_cli_prints():
    printed = json.loads(run_cli("schema").stdout)
    assert printed == json.loads((REPO / "hardcheck" / "report" / "schema.json").read_text())


def test_console_rollback_hint_is_cut_at_a_sentence_end_not_an_abbreviation():
    from hardcheck.report.console import _first_sentence

    text = "Raise the limit where it binds (e.g. nginx client_max_body_size). Reload after."
    assert (
        _first_sentence(text) == "Raise the limit where it binds (e.g. nginx client_max_body_size)."
    )
    assert _first_sentence("Set it back. Then redeploy.") == "Set it back."


def test_console_honours_columns_and_wraps_with_a_hanging_indent():
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--no-cache", "--only", "permissions,uploads,dependencies",
        env={"COLUMNS": "80"},
    )  # fmt: skip
    lines = run.stdout.splitlines()
    assert lines and max(len(line) for line in lines) <= 80
    starts = (
        "hardcheck ",
        "inventory:",
        "failures, most severe first",
        "warning:",
        "errors: not audited",
        "audits",
        "summary:",
        "result:",
        "suppressed",
    )
    at_margin = [line for line in lines if line and not line.startswith(" ")]
    assert all(line.startswith(starts) for line in at_margin), at_margin
