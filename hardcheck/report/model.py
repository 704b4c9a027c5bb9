"""The report: one object every renderer draws from.

Score (documented in README.md and the JSON Schema): start at 100 and subtract, per rule,
the penalties of its unsuppressed `fail` findings — critical 25, high 15, medium 6, low 2,
info 0 — with each rule's total capped at twice its worst single penalty, so one noisy rule
cannot zero the score by itself. Floor 0. Grade: A ≥ 90, B ≥ 75, C ≥ 60, D ≥ 40, else F.
`error`/`skip` items do not change the score; `complete` says whether every audit looked.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from ..model import (
    SEVERITY_ORDER,
    AuditResult,
    Finding,
    Severity,
    Status,
    SuppressedFinding,
    SuppressionOutcome,
    gate_label,
)

SCHEMA_VERSION = "1.7.0"
PENALTY = {
    Severity.CRITICAL: 25,
    Severity.HIGH: 15,
    Severity.MEDIUM: 6,
    Severity.LOW: 2,
    Severity.INFO: 0,
}
GRADES = ((90, "A"), (75, "B"), (60, "C"), (40, "D"), (0, "F"))

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE, EXIT_INCOMPLETE = 0, 1, 2, 3


def parse_time(stamp: str) -> dt.datetime:
    """A report timestamp (ISO 8601 UTC, `Z`-suffixed) as an aware datetime; ValueError if
    it is not one."""
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def score(findings: list[Finding]) -> int:
    per_rule: dict[str, list[int]] = defaultdict(list)
    for f in findings:
        if f.status is Status.FAIL:
            per_rule[f.rule_id].append(PENALTY[f.severity])
    total = sum(min(sum(p), 2 * max(p)) for p in per_rule.values())
    return max(0, 100 - total)


def grade(value: int) -> str:
    return next(letter for floor, letter in GRADES if value >= floor)


def assign_fingerprints(findings: list[Finding]) -> list[Finding]:
    """Stable fingerprints; identical bases get an occurrence number in sorted order."""
    seen: Counter = Counter()
    out = []
    for f in sorted(findings, key=Finding.sort_key):
        basis = f.fingerprint_basis()
        out.append(f.with_fingerprint(seen[basis]))
        seen[basis] += 1
    return out


@dataclass(frozen=True)
class AuditSummary:
    name: str
    status: Status
    duration_seconds: float
    message: str
    counts: dict[str, int]
    score: int
    stats: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status.value,
            "duration_seconds": round(self.duration_seconds, 3),
            "message": self.message,
            "counts": self.counts,
            "score": self.score,
            "stats": self.stats,
        }


@dataclass(frozen=True)
class Report:
    tool_version: str
    target: str
    urls: tuple[str, ...]
    started: str
    finished: str
    duration_seconds: float
    config: dict[str, Any]
    inventory: dict[str, Any]
    audits: tuple[AuditSummary, ...]
    findings: tuple[Finding, ...]
    suppressed: tuple[SuppressedFinding, ...]
    suppressions: tuple[SuppressionOutcome, ...]
    fail_on: Severity | None  # None: --fail-on never
    baseline: Any = None  # hardcheck.baseline.Baseline when --baseline was given
    cache: dict[str, Any] | None = None  # hardcheck.cache.ResultCache.describe()
    run_id: str = ""  # unique per run (api.audit gives a UUID)

    def baseline_state(self, f: Finding) -> str | None:
        if self.baseline is None or f.status is not Status.FAIL:
            return None
        return self.baseline.state(f.fingerprint)

    @property
    def fixed(self) -> list[dict]:
        """Baselined findings that no longer fail."""
        if self.baseline is None:
            return []
        now = {f.fingerprint for f in self.findings if f.status is Status.FAIL}
        now |= {s.finding.fingerprint for s in self.suppressed}
        return [e for fp, e in sorted(self.baseline.entries.items()) if fp not in now]

    def stale_vuln_db(self) -> tuple[int, int] | None:
        """(age, max-db-age) in days when the offline vulnerability database is older than
        allowed: what the console and the HTML page warn about."""
        for a in self.audits:
            age, limit = a.stats.get("vuln_db_age_days"), a.stats.get("vuln_db_max_age_days")
            if age is not None and limit is not None and age > limit:
                return age, limit
        return None

    def not_audited(self) -> list[tuple[str, Finding | None]]:
        """What could not be audited, with why: each error item, and each audit that did
        not finish without saying which of its inputs it could not read."""
        out: list[tuple[str, Finding | None]] = [
            (f"{f.rule_id} {f.title}: {f.message}", f)
            for f in self.findings
            if f.status is Status.ERROR
        ]
        with_items = {f.audit for _, f in out if f is not None}
        out += [
            (f"{a.name}: {a.message or 'could not complete'}", None)
            for a in self.audits
            if a.status is Status.ERROR and a.name not in with_items
        ]
        return out

    @property
    def complete(self) -> bool:
        return all(a.status is not Status.ERROR for a in self.audits)

    @property
    def failing(self) -> list[Finding]:
        """Unsuppressed fails at or above --fail-on: these decide exit code 1."""
        if self.fail_on is None:
            return []
        gate = self.fail_on
        return [
            f
            for f in self.findings
            if f.status is Status.FAIL
            and f.severity.rank >= gate.rank
            and self.baseline_state(f) != "known"
        ]

    @property
    def exit_code(self) -> int:
        if self.failing:
            return EXIT_FINDINGS
        if not self.complete:
            return EXIT_INCOMPLETE
        return EXIT_OK

    @property
    def score(self) -> int:
        return score(list(self.findings))

    def counts(self) -> dict[str, Any]:
        by_status = Counter(f.status.value for f in self.findings)
        by_severity = Counter(f.severity.value for f in self.findings if f.status is Status.FAIL)
        return {
            "by_status": {s.value: by_status.get(s.value, 0) for s in Status},
            "failing_by_severity": {
                s.value: by_severity.get(s.value, 0) for s in reversed(SEVERITY_ORDER)
            },
            "suppressed": len(self.suppressed),
            "in_test_code": sum(
                1 for f in self.findings if f.status is Status.FAIL and f.location.test_code
            ),
            "total": len(self.findings),
        }

    def to_dict(self) -> dict[str, Any]:
        value = self.score
        return {
            "schema_version": SCHEMA_VERSION,
            "tool": {"name": "hardcheck", "version": self.tool_version},
            "run": {
                **({"id": self.run_id} if self.run_id else {}),
                "target": self.target,
                "urls": list(self.urls),
                "started": self.started,
                "finished": self.finished,
                "duration_seconds": round(self.duration_seconds, 3),
                "fail_on": gate_label(self.fail_on),
                "config": self.config,
                "inventory": self.inventory,
                **({"cache": self.cache} if self.cache is not None else {}),
            },
            "audits": [a.to_dict() for a in self.audits],
            "summary": {
                **self.counts(),
                "score": value,
                "grade": grade(value),
                "complete": self.complete,
                "exit_code": self.exit_code,
            },
            "findings": [
                {**f.to_dict(), "baseline": self.baseline_state(f)} for f in self.findings
            ],
            "suppressed": [
                {
                    "finding": s.finding.to_dict(),
                    "reason": s.reason,
                    "expires": s.expires,
                    "source": s.source,
                }
                for s in self.suppressed
            ],
            "baseline": None
            if self.baseline is None
            else {
                "file": self.baseline.file,
                "known": sum(1 for f in self.findings if self.baseline_state(f) == "known"),
                "new": sum(1 for f in self.findings if self.baseline_state(f) == "new"),
                "fixed": self.fixed,
            },
            "suppressions": [
                {
                    "rule": o.rule,
                    "path": o.path,
                    "reason": o.reason,
                    "expires": o.expires,
                    "state": o.state,
                    "matched": o.matched,
                }
                for o in self.suppressions
            ],
        }


def summarise_audit(
    result: AuditResult, findings: list[Finding], message: str | None = None
) -> AuditSummary:
    """Per-audit status after suppression: an audit whose only fails were suppressed passes."""
    counts = Counter(f.status.value for f in findings)
    status = result.status
    if status is not Status.ERROR:
        if counts.get("error"):
            status = Status.ERROR
        elif counts.get("fail"):
            status = Status.FAIL
        elif counts.get("pass"):
            status = Status.PASS
        else:
            status = Status.SKIP
    return AuditSummary(
        name=result.name,
        status=status,
        duration_seconds=result.duration_seconds,
        message=message if message is not None else result.message,
        counts={s.value: counts.get(s.value, 0) for s in Status},
        score=score(findings),
        stats=dict(result.stats),
    )
