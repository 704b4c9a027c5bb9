"""OpenMetrics for dashboards: findings by audit, service, severity and status, the score,
per-audit score, status and duration, the exit code and the run's timestamp.

Written with prometheus_client's own OpenMetrics exposition (the format's reference
implementation), so values keep full precision (the run's timestamp is exact to the
millisecond; a hand-written `%g` lost up to 83 minutes) and families with a unit say so
in `# UNIT`. Every series carries `target` (the audited path, or what `--label
target=NAME` says) and the user's `--label NAME=VALUE` labels; `--label service=NAME`
names the service on every series, replacing the service names the tree gives findings
(dashboards key on the user's names)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from ..model import Status
from . import RenderOptions
from .model import Report, parse_time


class _Gauges:
    """Families that share the run's labels: `target` first, then the user's constant
    labels (--label), then the run's service for families without a service of their own."""

    def __init__(self, report: Report, extra: Mapping[str, str]):
        self.target = extra.get("target", report.target)
        self.service = extra.get("service", "")  # the user's name for the run's service
        self.constant = {k: v for k, v in extra.items() if k not in ("target", "service")}
        self.with_run_service: set[str] = set()  # names of the families that carry it

    def family(self, name: str, doc: str, labels: tuple[str, ...] = (), unit: str = "") -> Any:
        from prometheus_client.core import GaugeMetricFamily

        run_service = ("service",) if self.service and "service" not in labels else ()
        family = GaugeMetricFamily(
            name, doc, labels=("target", *self.constant, *run_service, *labels), unit=unit
        )
        if run_service:
            self.with_run_service.add(name)
        return family

    def add(self, family: Any, values: tuple[str, ...], value: float) -> None:
        head = [self.target, *self.constant.values()]
        service = [self.service] if family.name in self.with_run_service else []
        family.add_metric([*head, *service, *values], value)


def _families(report: Report, extra: Mapping[str, str]) -> Iterator:
    g = _Gauges(report, extra)
    findings = g.family(
        "hardcheck_findings",
        "Checklist items by audit, service (empty: none holds it), severity and status.",
        ("audit", "service", "severity", "status"),
    )
    counted = Counter(
        (f.audit, g.service or f.location.service or "", f.severity.value, f.status.value)
        for f in report.findings
    )
    for labels, n in sorted(counted.items()):
        g.add(findings, labels, n)
    yield findings
    score = g.family("hardcheck_score", "Overall score, 0-100.")
    g.add(score, (), report.score)
    yield score
    per_audit = g.family("hardcheck_audit_score", "Score per audit, 0-100.", ("audit",))
    duration = g.family(
        "hardcheck_audit_duration_seconds", "Wall time of each audit.", ("audit",), "seconds"
    )
    status = g.family(
        "hardcheck_audit_status", "1 for the status each audit ended in.", ("audit", "status")
    )
    for a in report.audits:
        g.add(per_audit, (a.name,), a.score)
        g.add(duration, (a.name,), round(a.duration_seconds, 3))
        for s in Status:
            g.add(status, (a.name, s.value), 1 if a.status is s else 0)
    yield from (per_audit, duration, status)
    suppressed = g.family("hardcheck_suppressed_findings", "Findings hidden by a suppression.")
    g.add(suppressed, (), len(report.suppressed))
    yield suppressed
    exit_code = g.family(
        "hardcheck_exit_code", "The run's exit code (0 pass, 1 findings, 3 incomplete)."
    )
    g.add(exit_code, (), report.exit_code)
    yield exit_code
    finished = parse_time(report.finished).timestamp()
    when = g.family(
        "hardcheck_run_timestamp_seconds", "When the run finished (Unix time).", unit="seconds"
    )
    g.add(when, (), finished)
    yield when


class _Collector:
    def __init__(self, report: Report, labels: Mapping[str, str]):
        self.report, self.labels = report, labels

    def collect(self) -> Iterator:
        return _families(self.report, self.labels)


def render(report: Report, options: RenderOptions) -> str:
    from prometheus_client import CollectorRegistry
    from prometheus_client.openmetrics.exposition import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(report, options.labels))
    return generate_latest(registry).decode("utf-8")
