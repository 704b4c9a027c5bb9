"""GitLab's Code Quality report: the subset of the Code Climate issue format GitLab
documents (https://docs.gitlab.com/ci/testing/code_quality/#code-quality-report-format),
shown in merge-request widgets and diffs. Each failing, unsuppressed finding that has a
file is an issue; GitLab merges issues that share a fingerprint, so each carries its own
stable hardcheck fingerprint. A finding with no file (a URL given only on the command
line) cannot be shown there: it is in the SAST report and the other formats."""

from __future__ import annotations

import json

from ..model import Severity, Status
from . import RenderOptions
from .locations import Places
from .model import Report

# GitLab's scale: info, minor, major, critical, blocker
SEVERITY = {
    Severity.CRITICAL: "blocker",
    Severity.HIGH: "critical",
    Severity.MEDIUM: "major",
    Severity.LOW: "minor",
    Severity.INFO: "info",
}


def render(report: Report, options: RenderOptions) -> str:
    places = Places.of(report)
    issues = []
    for f in report.findings:
        where = places.file_line(f) if f.status is Status.FAIL else None
        if where is None:
            continue
        path, line = where
        issues.append(
            {
                "type": "issue",
                "engine_name": "hardcheck",
                "check_name": f.rule_id,
                "description": f"{f.rule_id} {f.title}: {f.message}",
                "categories": ["Security"],
                "fingerprint": f.fingerprint,
                "severity": SEVERITY[f.severity],
                "location": {"path": path, "lines": {"begin": line}},
            }
        )
    return json.dumps(issues, indent=2, ensure_ascii=False) + "\n"
