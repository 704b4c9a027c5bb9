"""OpenMetrics for dashboards: findings by audit, service, severity and status, the score,
per-audit score, status and duration, the exit code and the run's timestamp.

Written with prometheus_client's own OpenMetrics exposition (the format's reference
implementation), so values keep full precision (the run's timestamp is exact to the
millisecond; a hand-written `%g` lost up to 83 minutes) and families with a unit say so
in `# UNIT`. Every series carries `target` (the audited path)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator

from ..model import Status
from . import RenderOptions
from .model import Report


def _families(report: Report) -> Iterator:
    from prometheus_client.core import GaugeMetricFamily

    target = report.target

    def gauge(name: str, doc: str, labels: tuple[str, ...] = (), unit: str = ""):
        return GaugeMetricFamily(name, doc, labels=("target", *labels), unit=unit)

    findings = gauge(
        "hardcheck_findings",
        "Checklist items by audit, service (empty: none holds it), severity and status.",
        ("audit", "service", "severity", "status"),
    )
    counted = Counter(
        (f.audit, f.location.service or "", f.severity.value, f.status.value)
        for f in report.findings
    )
    for (audit, service, severity, status), n in sorted(counted.items()):
        findings.add_metric([target, audit, service, severity, status], n)
    yield findings
    score = gauge("hardcheck_score", "Overall score, 0-100.")
    score.add_metric([target], report.score)
    yield score
    per_audit = gauge("hardcheck_audit_score", "Score per audit, 0-100.", ("audit",))
    duration = gauge(
        "hardcheck_audit_duration_seconds", "Wall time of each audit.", ("audit",), "seconds"
    )
    status = gauge(
        "hardcheck_audit_status", "1 for the status each audit ended in.", ("audit", "status")
    )
    for a in report.audits:
        per_audit.add_metric([target, a.name], a.score)
        duration.add_metric([target, a.name], round(a.duration_seconds, 3))
        for s in Status:
            status.add_metric([target, a.name, s.value], 1 if a.status is s else 0)
    yield from (per_audit, duration, status)
    suppressed = gauge("hardcheck_suppressed_findings", "Findings hidden by a suppression.")
    suppressed.add_metric([target], len(report.suppressed))
    yield suppressed
    exit_code = gauge(
        "hardcheck_exit_code", "The run's exit code (0 pass, 1 findings, 3 incomplete)."
    )
    exit_code.add_metric([target], report.exit_code)
    yield exit_code
    finished = dt.datetime.fromisoformat(report.finished.replace("Z", "+00:00")).timestamp()
    when = gauge(
        "hardcheck_run_timestamp_seconds", "When the run finished (Unix time).", unit="seconds"
    )
    when.add_metric([target], finished)
    yield when


class _Collector:
    def __init__(self, report: Report):
        self.report = report

    def collect(self) -> Iterator:
        return _families(self.report)


def render(report: Report, options: RenderOptions) -> str:
    from prometheus_client import CollectorRegistry
    from prometheus_client.openmetrics.exposition import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(report))
    return generate_latest(registry).decode("utf-8")
