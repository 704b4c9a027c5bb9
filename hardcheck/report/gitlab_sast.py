"""GitLab's security report for SAST (gl-sast-report.json), security report schema 15.0.7,
shown in the pipeline's security tab and merge-request widget. Each failing, unsuppressed
finding is a vulnerability with the hardcheck rule as its primary identifier (its CWE
references follow), its expected state as the solution, and a location from the checkout
root; what could not be audited is a scan message."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from .. import __version__
from ..catalogue import PROJECT_URI, load_catalogue
from ..model import Finding, Severity, Status
from . import RenderOptions
from .locations import Places
from .model import Report, parse_time

SCHEMA_VERSION = "15.0.7"
SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    f"v{SCHEMA_VERSION}/dist/sast-report-format.json"
)
SEVERITY = {s: s.value.capitalize() for s in Severity}  # Critical … Info
# vulnerability ids are UUIDs derived from hardcheck's stable fingerprints
NAMESPACE = uuid.UUID("6b0a8f9e-3f0c-5b7e-9d2a-6a1c4e5f7b80")
CWE = re.compile(r"^CWE-(\d+)$")
# the schema's limits
MAX_NAME, MAX_SOLUTION = 255, 7000


def _time(stamp: str) -> str:
    """The schema's yyyy-mm-ddThh:mm:ss, in UTC."""
    return parse_time(stamp).astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _identifiers(f: Finding, help_uri: str) -> list[dict[str, str]]:
    name = f"hardcheck {f.rule_id}"
    out = [{"type": "hardcheck_rule", "name": name, "value": f.rule_id, "url": help_uri}]
    for ref in f.references:
        match = CWE.match(ref)
        if match:
            out.append(
                {
                    "type": "cwe",
                    "name": ref,
                    "value": match.group(1),
                    "url": f"https://cwe.mitre.org/data/definitions/{match.group(1)}.html",
                }
            )
    if f.upstream_id:  # the advisory a dependency finding reports
        out.append({"type": "advisory", "name": f.upstream_id, "value": f.upstream_id})
    return out


def _vulnerability(f: Finding, places: Places) -> dict[str, Any]:
    rule = load_catalogue().get(f.rule_id)
    location: dict[str, Any] = {}
    where = places.file_line(f)
    if where:
        location = {"file": where[0], "start_line": where[1]}
    description = f.message + (f"\n\nWhy: {rule.rationale}" if rule.rationale else "")
    if f.location.url:
        description = f"{f.location.url}: {description}"
    return {
        "id": str(uuid.uuid5(NAMESPACE, f.fingerprint)),
        "category": "sast",
        "name": f"{f.rule_id} {f.title}"[:MAX_NAME],
        "description": description,
        "severity": SEVERITY[f.severity],
        "solution": f"{f.expected}\n\nRollback: {f.rollback}"[:MAX_SOLUTION],
        "identifiers": _identifiers(f, rule.help_uri),
        "links": [{"url": u} for u in f.references if u.startswith("https://")],
        "location": location,
    }


def render(report: Report, options: RenderOptions) -> str:
    places = Places.of(report)
    failing = [f for f in report.findings if f.status is Status.FAIL]
    messages = [{"level": "warn", "value": text} for text, _ in report.not_audited()]
    tool = {
        "id": "hardcheck",
        "name": "hardcheck",
        "version": __version__,
        "vendor": {"name": "hardcheck"},
        "url": PROJECT_URI,
    }
    document = {
        "version": SCHEMA_VERSION,
        "schema": SCHEMA_URL,
        "scan": {
            "analyzer": tool,
            "scanner": tool,
            "type": "sast",
            "start_time": _time(report.started),
            "end_time": _time(report.finished),
            # failure: no audit finished; an incomplete run is a success with warnings
            "status": "success"
            if any(a.status is not Status.ERROR for a in report.audits)
            else "failure",
            "messages": messages,
        },
        "vulnerabilities": [_vulnerability(f, places) for f in failing],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
