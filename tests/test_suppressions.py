"""Suppressions fail closed and the report lists what was suppressed and why."""

from __future__ import annotations

import datetime as dt
import os

import hardcheck
from tests.conftest import make_tree

TODAY = dt.date(2026, 11, 27)


def _tree(tmp_path, suppress: str):
    root = make_tree(
        tmp_path / "t",
        {
            ".env": "X=1\n",
            "certs/a.key": "k\n",
            "bad/settings.py": "DEBUG = (\n",
            "hardcheck.toml": suppress,
        },
    )
    os.chmod(root / ".env", 0o644)
    os.chmod(root / "certs/a.key", 0o644)
    return root


def _fails(report, rule):
    return sorted(
        f.location.display()
        for f in report.findings
        if f.rule_id == rule and f.status.value == "fail"
    )


def test_active_suppression_with_path(tmp_path):
    root = _tree(
        tmp_path,
        '[[suppress]]\nrule = "secret-file-readable"\npath = "certs/"\nreason = "test keys"\nexpires = 2027-01-01\n',
    )
    report = hardcheck.audit(root, today=TODAY)
    assert _fails(report, "PRM002") == [".env"]
    assert [(s.finding.location.path, s.reason, s.expires) for s in report.suppressed] == [
        ("certs/a.key", "test keys", "2027-01-01")
    ]
    assert [o.state for o in report.suppressions] == ["active"]
    data = report.to_dict()
    assert data["suppressed"][0]["finding"]["fingerprint"]
    assert data["summary"]["suppressed"] == 1


def test_suppression_without_reason_suppresses_nothing(tmp_path):
    report = hardcheck.audit(_tree(tmp_path, '[[suppress]]\nrule = "PRM002"\n'), today=TODAY)
    assert _fails(report, "PRM002") == [".env", "certs/a.key"]
    assert _fails(report, "CFG001") == ["suppress[0]"]
    assert report.exit_code == 1


def test_expired_suppression_stops_and_says_so(tmp_path):
    text = '[[suppress]]\nrule = "PRM002"\nreason = "accepted"\nexpires = "2026-11-26"\n'
    report = hardcheck.audit(_tree(tmp_path, text), today=TODAY)
    assert _fails(report, "PRM002") == [".env", "certs/a.key"]
    cfg = [f for f in report.findings if f.rule_id == "CFG003"]
    assert "expired on 2026-11-26" in cfg[0].message
    assert report.suppressions[0].state == "expired"
    # the day it expires it still holds
    still = hardcheck.audit(_tree(tmp_path / "b", text), today=dt.date(2026, 11, 26))
    assert _fails(still, "PRM002") == []


def test_unused_suppression_is_reported_only_if_its_audit_ran(tmp_path):
    text = '[[suppress]]\nrule = "APP002"\nreason = "legacy"\n'
    report = hardcheck.audit(_tree(tmp_path, text), today=TODAY)
    assert _fails(report, "CFG002") == ["suppress[0]"]


def test_error_items_cannot_be_suppressed(tmp_path):
    text = '[[suppress]]\nrule = "RUN002"\nreason = "hide parse errors"\n'
    report = hardcheck.audit(_tree(tmp_path, text), today=TODAY)
    errors = [f for f in report.findings if f.rule_id == "RUN002" and f.status.value == "error"]
    assert {f.location.path for f in errors} == {"bad/settings.py"}
    assert report.suppressions[0].state == "unused"


def test_owners_mapping(tmp_path):
    text = '[owners]\npermissions = "platform-team"\nPRM002 = "sec-team"\n'
    report = hardcheck.audit(_tree(tmp_path, text), today=TODAY)
    owners = {f.rule_id: f.owner for f in report.findings if f.audit == "permissions"}
    assert owners["PRM002"] == "sec-team"
    assert owners["PRM001"] == "platform-team"
