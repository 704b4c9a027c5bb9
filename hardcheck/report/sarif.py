"""SARIF 2.1.0 for code-scanning UIs: one run, the catalogue rules that have results,
failing findings as results (file locations, or logical locations for URLs and settings),
suppressed findings with their justification, and the audits that could not finish as
tool notifications. Fingerprints are hardcheck's stable ones."""

from __future__ import annotations

import json
from typing import Any

from ..catalogue import load_catalogue
from ..model import Finding, Severity, Status
from . import RenderOptions
from .model import Report

LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
# GitHub code scanning reads `security-severity` (0-10) to rank alerts
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _location(f: Finding) -> dict:
    loc = f.location
    if loc.path:
        physical: dict = {"artifactLocation": {"uri": loc.path, "uriBaseId": "SRCROOT"}}
        # a file-level finding (a committed .env) is shown at its first line: code-scanning
        # UIs need a region to display a result at all
        physical["region"] = {"startLine": loc.line or 1}
        return {"physicalLocation": physical}
    name = loc.url or loc.setting or f.audit
    return {
        "logicalLocations": [
            {"fullyQualifiedName": name, "kind": "resource" if loc.url else "member"}
        ]
    }


def descriptor_id(rule_id: str, severity: Severity, default: Severity) -> str:
    """GitHub shows a result with its rule descriptor's security-severity: a result whose
    severity is not its rule's default points at a descriptor of its own, as trivy emits
    one per advisory (`SEC001` at its default, `SEC001-critical` for a private key)."""
    return rule_id if severity is default else f"{rule_id}-{severity.value}"


def _result(f: Finding, index: dict[str, int], suppression: dict | None = None) -> dict:
    properties: dict[str, str] = {"severity": f.severity.value, "owner": f.owner, "audit": f.audit}
    rule = load_catalogue().get(f.rule_id)
    rid = descriptor_id(f.rule_id, f.severity, rule.severity)
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": LEVEL[f.severity],
        "kind": "fail",
        "message": {"text": f.message + (f" [{f.evidence}]" if f.evidence else "")},
        "locations": [_location(f)],
        "partialFingerprints": {"hardcheckFingerprint/v1": f.fingerprint},
        "properties": properties,
    }
    if f.upstream_id:
        properties["upstreamId"] = f.upstream_id
    if f.location.service:
        properties["service"] = f.location.service
    if suppression:
        result["suppressions"] = [suppression]
    return result


def render(report: Report, options: RenderOptions) -> str:
    catalogue = load_catalogue()
    failing = [f for f in report.findings if f.status is Status.FAIL]
    suppressed = list(report.suppressed)
    used = sorted(
        {(f.rule_id, f.severity) for f in failing}
        | {(s.finding.rule_id, s.finding.severity) for s in suppressed},
        key=lambda pair: (pair[0], -pair[1].rank),
    )
    rules: list[dict[str, Any]] = []
    index: dict[str, int] = {}
    for rule_id, severity in used:
        rule = catalogue.get(rule_id)
        rid = descriptor_id(rule_id, severity, rule.severity)
        index[rid] = len(rules)
        rules.append(
            {
                "id": rid,
                "name": rule.name,
                "shortDescription": {"text": rule.title},
                "fullDescription": {"text": rule.rationale},
                "help": {
                    "text": f"Expected: {rule.expected}\n\nRollback: {rule.rollback}",
                    "markdown": f"**Expected:** {rule.expected}\n\n**Rollback:** {rule.rollback}\n\n**Why:** {rule.rationale}",
                },
                "defaultConfiguration": {"level": LEVEL[severity]},
                "properties": {
                    "tags": ["security", rule.audit],
                    "hardcheck-rule": rule.id,  # the catalogue's id, whatever the descriptor's
                    "security-severity": SECURITY_SEVERITY[severity.value],
                    "owner": rule.owner,
                },
            }
        )
    results = [_result(f, index) for f in failing]
    for s in suppressed:
        justification = s.reason + (f" (until {s.expires})" if s.expires else "")
        kind = "inSource" if s.source == "inline" else "external"
        results.append(_result(s.finding, index, {"kind": kind, "justification": justification}))
    notifications = [
        {"level": "error", "message": {"text": f"{a.name}: {a.message or 'could not complete'}"}}
        for a in report.audits
        if a.status is Status.ERROR
    ]
    run = {
        "tool": {
            "driver": {
                "name": "hardcheck",
                "version": report.tool_version,
                "informationUri": "https://github.com/hardcheck/hardcheck",
                "rules": rules,
            }
        },
        "originalUriBaseIds": {"SRCROOT": {"uri": "file://" + report.target.rstrip("/") + "/"}},
        "invocations": [
            {
                "executionSuccessful": report.complete,
                "startTimeUtc": report.started,
                "endTimeUtc": report.finished,
                "exitCode": report.exit_code,
                "toolExecutionNotifications": notifications,
            }
        ],
        "results": results,
    }
    return json.dumps({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]}, indent=2) + "\n"
