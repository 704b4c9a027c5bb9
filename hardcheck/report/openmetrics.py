"""OpenMetrics / Prometheus text for dashboards: findings by audit, severity and status,
the score, per-audit score, status and duration, the exit code and the run's timestamp."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from ..model import Status
from . import RenderOptions
from .model import Report


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(report: Report, options: RenderOptions) -> str:
    target = _label(report.target)
    out: list[str] = []

    def family(
        name: str, kind: str, help_text: str, samples: list[tuple[dict[str, str], float]]
    ) -> None:
        out.append(f"# TYPE {name} {kind}")
        out.append(f"# HELP {name} {help_text}")
        for labels, value in samples:
            rendered = ",".join(
                f'{k}="{_label(v)}"' for k, v in {"target": target, **labels}.items()
            )
            out.append(f"{name}{{{rendered}}} {value:g}")

    counted = Counter(
        (f.audit, f.location.service or "", f.severity.value, f.status.value)
        for f in report.findings
    )
    family(
        "hardcheck_findings",
        "gauge",
        "Checklist items by audit, service (empty: none holds it), severity and status.",
        [
            ({"audit": a, "service": svc, "severity": s, "status": st}, n)
            for (a, svc, s, st), n in sorted(counted.items())
        ],
    )
    family("hardcheck_score", "gauge", "Overall score, 0-100.", [({}, report.score)])
    family(
        "hardcheck_audit_score",
        "gauge",
        "Score per audit, 0-100.",
        [({"audit": a.name}, a.score) for a in report.audits],
    )
    family(
        "hardcheck_audit_duration_seconds",
        "gauge",
        "Wall time of each audit.",
        [({"audit": a.name}, round(a.duration_seconds, 3)) for a in report.audits],
    )
    family(
        "hardcheck_audit_status",
        "gauge",
        "1 for the status each audit ended in.",
        [
            ({"audit": a.name, "status": s.value}, 1 if a.status is s else 0)
            for a in report.audits
            for s in Status
        ],
    )
    family(
        "hardcheck_suppressed_findings",
        "gauge",
        "Findings hidden by a suppression.",
        [({}, len(report.suppressed))],
    )
    family(
        "hardcheck_exit_code",
        "gauge",
        "The run's exit code (0 pass, 1 findings, 3 incomplete).",
        [({}, report.exit_code)],
    )
    finished = dt.datetime.fromisoformat(report.finished.replace("Z", "+00:00")).timestamp()
    family(
        "hardcheck_run_timestamp_seconds",
        "gauge",
        "When the run finished (Unix time).",
        [({}, finished)],
    )
    out.append("# EOF")
    return "\n".join(out) + "\n"
