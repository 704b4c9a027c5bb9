"""SARIF 2.1.0 for code-scanning UIs: one run, the catalogue rules that have results,
failing findings as results, suppressed findings with their justification, and what could
not be audited (audits that did not finish, items that could not look) as tool
notifications. Fingerprints are hardcheck's stable ones.

Locations are what GitHub code scanning can show: a file result is relative to the root
of the git checkout holding the target (uriBaseId %SRCROOT%), so `hardcheck audit
services/api` in a monorepo points at `services/api/app.py`; a URL result points at the
config file line naming the URL when the config names it, else at the URL itself."""

from __future__ import annotations

import json
from typing import Any

from ..catalogue import PROJECT_URI, load_catalogue
from ..model import Finding, Severity, Status
from . import RenderOptions
from .locations import Places
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
SRCROOT = "%SRCROOT%"  # the checkout root (locations.Places)


def descriptor_id(rule_id: str, severity: Severity, default: Severity) -> str:
    """GitHub shows a result with its rule descriptor's security-severity: a result whose
    severity is not its rule's default points at a descriptor of its own, as trivy emits
    one per advisory (`SEC001` at its default, `SEC001-critical` for a private key)."""
    return rule_id if severity is default else f"{rule_id}-{severity.value}"


def _location(places: Places, f: Finding) -> dict:
    loc = f.location
    where = places.file_line(f)
    if loc.url:
        place = _physical(*where, SRCROOT) if where else _physical(loc.url, 1)
        place["logicalLocations"] = [{"fullyQualifiedName": loc.url, "kind": "resource"}]
        return place
    if where:
        return _physical(*where, SRCROOT)
    name = loc.setting or f.audit
    return {"logicalLocations": [{"fullyQualifiedName": name, "kind": "member"}]}


def _physical(uri: str, line: int, base: str | None = None) -> dict:
    artifact = {"uri": uri, **({"uriBaseId": base} if base else {})}
    return {"physicalLocation": {"artifactLocation": artifact, "region": {"startLine": line}}}


def _result(
    f: Finding, index: dict[str, int], places: Places, suppression: dict | None = None
) -> dict:
    properties: dict[str, str] = {"severity": f.severity.value, "owner": f.owner, "audit": f.audit}
    rule = load_catalogue().get(f.rule_id)
    rid = descriptor_id(f.rule_id, f.severity, rule.severity)
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": LEVEL[f.severity],
        "kind": "fail",
        "message": {"text": f.message + (f" [{f.evidence}]" if f.evidence else "")},
        "locations": [_location(places, f)],
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
    places = Places.of(report)
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
                "helpUri": rule.help_uri,
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
    results = [_result(f, index, places) for f in failing]
    for s in suppressed:
        justification = s.reason + (f" (until {s.expires})" if s.expires else "")
        kind = "inSource" if s.source == "inline" else "external"
        suppression = {"kind": kind, "justification": justification}
        results.append(_result(s.finding, index, places, suppression))
    notifications: list[dict[str, Any]] = []
    for text, item in report.not_audited():  # each with why, and where when it has a place
        note: dict[str, Any] = {"level": "error", "message": {"text": text}}
        if item is not None:
            note["associatedRule"] = {"id": item.rule_id}
            note["locations"] = [_location(places, item)]
        notifications.append(note)
    run = {
        "tool": {
            "driver": {
                "name": "hardcheck",
                "version": report.tool_version,
                "informationUri": PROJECT_URI,
                "rules": rules,
            }
        },
        "originalUriBaseIds": {SRCROOT: {"uri": places.root.resolve().as_uri() + "/"}},
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
