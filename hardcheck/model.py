"""The data hardcheck passes around: plain, immutable values.

Audits produce `Finding`s; the runner wraps them into `AuditResult`s; the report
builder turns those into a `Report`. Nothing here does I/O.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from enum import Enum


class Status(str, Enum):
    PASS = "pass"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class Severity(str, Enum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: info 0 … critical 4."""
        return SEVERITY_ORDER.index(self)

    @classmethod
    def parse(cls, value: str) -> Severity:
        return cls(value.strip().lower())


NEVER = "never"  # --fail-on never: no finding fails the run


def gate_label(fail_on: Severity | None) -> str:
    """--fail-on as the user wrote it: a severity, or never (None)."""
    return fail_on.value if fail_on is not None else NEVER


SEVERITY_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)
STATUS_ORDER = (Status.FAIL, Status.ERROR, Status.SKIP, Status.PASS)


@dataclass(frozen=True)
class Location:
    """Where a finding is: a path (relative to the target, display-safe) and line, a URL,
    or a setting name. Any may be absent."""

    path: str | None = None
    line: int | None = None
    url: str | None = None
    setting: str | None = None
    # the service of the tree it belongs to (the service model's name); not part of the
    # fingerprint, so a finding keeps its id when discovery names services differently
    service: str | None = None
    # in test code (config `test-paths`): reported at info and counted apart
    test_code: bool = False

    def display(self, service: bool = True) -> str:
        parts = []
        if self.path is not None:
            parts.append(f"{self.path}:{self.line}" if self.line else self.path)
        if self.url:
            parts.append(self.url)
        if self.setting:
            parts.append(self.setting)
        if self.service and service:
            parts.append(f"(service {self.service})")
        return " ".join(parts) if parts else "-"

    def to_dict(self) -> dict:
        out: dict = {"path": self.path, "line": self.line, "url": self.url, "setting": self.setting}
        if self.service is not None:
            out["service"] = self.service
        if self.test_code:
            out["test_code"] = True
        return out


@dataclass(frozen=True)
class Finding:
    """One checklist item. `key` distinguishes two findings of the same rule at the same
    location (a setting name, a secret's keyed hash…); it feeds the fingerprint and must
    never hold a secret value or a line number."""

    rule_id: str
    audit: str
    status: Status
    severity: Severity
    title: str
    message: str
    location: Location = field(default_factory=Location)
    evidence: str | None = None
    owner: str = ""
    expected: str = ""
    rollback: str = ""
    references: tuple[str, ...] = ()
    upstream_id: str | None = None
    key: str = ""
    fingerprint: str = ""

    def fingerprint_basis(self) -> str:
        loc = self.location
        return "\x1f".join(
            [self.rule_id, loc.path or "", loc.url or "", loc.setting or "", self.key]
        )

    def in_service(self, service: str | None) -> Finding:
        return replace(self, location=replace(self.location, service=service))

    def with_fingerprint(self, occurrence: int = 0) -> Finding:
        basis = self.fingerprint_basis()
        if occurrence:
            basis += f"\x1f#{occurrence}"
        try:  # surrogateescape: the bytes of a non-UTF-8 file name, as before
            data = basis.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate from the tree's content ("\ud800")
            data = basis.encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(data).hexdigest()
        return replace(self, fingerprint=digest[:20])

    def to_dict(self) -> dict:
        return {
            "rule_id": self.rule_id,
            "audit": self.audit,
            "status": self.status.value,
            "severity": self.severity.value,
            "title": self.title,
            "message": self.message,
            "location": self.location.to_dict(),
            "evidence": self.evidence,
            "owner": self.owner,
            "expected": self.expected,
            "rollback": self.rollback,
            "references": list(self.references),
            "upstream_id": self.upstream_id,
            "fingerprint": self.fingerprint,
        }

    def to_record(self) -> dict:
        """Every field, for the result cache (`from_record` reads it back)."""
        return {**self.to_dict(), "key": self.key}

    @classmethod
    def from_record(cls, data: dict) -> Finding:
        return cls(
            rule_id=str(data["rule_id"]),
            audit=str(data["audit"]),
            status=Status(data["status"]),
            severity=Severity(data["severity"]),
            title=str(data["title"]),
            message=str(data["message"]),
            location=Location(**data["location"]),
            evidence=data["evidence"],
            owner=str(data["owner"]),
            expected=str(data["expected"]),
            rollback=str(data["rollback"]),
            references=tuple(data["references"]),
            upstream_id=data["upstream_id"],
            key=str(data["key"]),
            fingerprint=str(data["fingerprint"]),
        )

    def sort_key(self) -> tuple:
        loc = self.location
        return (
            self.audit,
            STATUS_ORDER.index(self.status),
            -self.severity.rank if self.status is Status.FAIL else 0,
            self.rule_id,
            loc.path or "",
            loc.line or 0,
            loc.url or "",
            loc.setting or "",
            self.key,
            self.message,
        )


@dataclass(frozen=True)
class AuditResult:
    """What one audit returned, or why it could not. `status` is derived from findings
    unless the audit itself errored or was skipped."""

    name: str
    status: Status
    duration_seconds: float
    findings: tuple[Finding, ...] = ()
    message: str = ""
    stats: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SuppressionOutcome:
    """A configured suppression and what became of it in this run."""

    rule: str
    path: str | None
    reason: str | None
    expires: str | None
    state: str  # active | expired | no-reason | unused
    matched: int


@dataclass(frozen=True)
class SuppressedFinding:
    finding: Finding
    reason: str
    expires: str | None
    source: str  # "config" or "inline"
