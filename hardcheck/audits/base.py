"""The one interface every audit implements, the context it runs in, and the coverage
it returns beside its findings.

An audit's `run` returns an `AuditOutput`: the findings it made (fails, and the skips and
errors of single inputs) and its `Coverage` — per rule, what it looked at, what it needed
and could not read, or why the rule does not apply. The runner, not the audit, turns that
into each rule's checklist item (hardcheck.checklist): a rule passes only when it looked
at something and nothing it needed was unreadable.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

from ..cache import ResultCache
from ..catalogue import Catalogue
from ..config import Config
from ..inventory import Inventory
from ..model import Finding, Location, Severity, Status
from ..services.model import ServiceModel

# Rules every audit may use to say it could not look at something.
INPUT_UNREADABLE = "RUN002"
INPUT_SKIPPED = "RUN003"

Rules = Union[str, Iterable[str]]
#: Which of the tree's paths (relative, as the inventory lists them) a rule reads.
PathTest = Callable[[str], bool]


def _ids(rules: Rules) -> tuple[str, ...]:
    return (rules,) if isinstance(rules, str) else tuple(rules)


def every_path(rel: str) -> bool:
    return True


@dataclass
class Coverage:
    """Per rule: what was looked at (kind -> count), which inputs it needed and could not
    read (display path -> why), and why it does not apply. Plain data: it crosses into
    worker processes and the result cache."""

    looked: dict[str, dict[str, int]] = field(default_factory=dict)
    unread: dict[str, dict[str, str]] = field(default_factory=dict)
    not_applicable: dict[str, str] = field(default_factory=dict)

    def saw(self, rules: Rules, kind: str, count: int = 1) -> None:
        """The rules read `count` inputs of `kind` ("Python file", "URL"); 0 records nothing."""
        if count <= 0:
            return
        for rule in _ids(rules):
            kinds = self.looked.setdefault(rule, {})
            kinds[kind] = kinds.get(kind, 0) + count

    def could_not_read(self, rules: Rules, path: str, why: str) -> None:
        for rule in _ids(rules):
            self.unread.setdefault(rule, {}).setdefault(path, why)

    def skip(self, rules: Rules, why: str) -> None:
        """The rules do not apply to this run (not configured, not requested…): say why.
        A rule that does not apply is a skip even where something was looked at for it."""
        for rule in _ids(rules):
            self.not_applicable.setdefault(rule, why)

    def update(self, other: Coverage) -> None:
        for rule, kinds in other.looked.items():
            for kind, count in kinds.items():
                self.saw(rule, kind, count)
        for rule, paths in other.unread.items():
            for path, why in paths.items():
                self.could_not_read(rule, path, why)
        for rule, why in other.not_applicable.items():
            self.skip(rule, why)

    def to_record(self) -> dict[str, Any]:
        return {"looked": self.looked, "unread": self.unread, "skip": self.not_applicable}

    @classmethod
    def from_record(cls, data: Mapping[str, Any]) -> Coverage:
        return cls(
            looked={str(r): {str(k): int(n) for k, n in v.items()} for r, v in data["looked"].items()},
            unread={str(r): {str(p): str(w) for p, w in v.items()} for r, v in data["unread"].items()},
            not_applicable={str(r): str(w) for r, w in data["skip"].items()},
        )  # fmt: skip


@dataclass
class AuditOutput:
    """What `Audit.run` returns: its findings and its coverage."""

    findings: list[Finding]
    coverage: Coverage


@dataclass
class AuditContext:
    """What an audit gets: the shared inventory, its own options, and helpers that turn a
    rule id into a finding through the catalogue's factory."""

    audit: str
    root: Path
    inventory: Inventory
    config: Config
    catalogue: Catalogue
    options: dict[str, Any] = field(default_factory=dict)
    stats: Counter = field(default_factory=Counter)
    cancelled: threading.Event = field(default_factory=threading.Event)
    note: str = ""  # one line for the audit's summary (e.g. the vulnerability database's date)
    cache: ResultCache = field(default_factory=lambda: ResultCache(None))
    services: ServiceModel = field(default_factory=ServiceModel)  # built once per run

    @property
    def environment(self) -> str:
        return self.config.environment

    def finding(
        self,
        rule_id: str,
        status: Status,
        message: str,
        location: Location | None = None,
        *,
        severity: Severity | None = None,
        evidence: str | None = None,
        key: str = "",
        upstream_id: str | None = None,
    ) -> Finding:
        return self.catalogue.finding(
            rule_id,
            audit=self.audit,
            status=status,
            message=message,
            location=location,
            owners=self.config.owners,
            severity=severity,
            evidence=evidence,
            key=key,
            upstream_id=upstream_id,
        )

    def fail(
        self, rule_id: str, message: str, location: Location | None = None, **details: Any
    ) -> Finding:
        """A failing finding; `details` as for `finding` (severity, evidence, key, upstream_id)."""
        return self.finding(rule_id, Status.FAIL, message, location, **details)

    def skipped(
        self, rule_id: str, message: str, location: Location | None = None, *, key: str = ""
    ) -> Finding:
        return self.finding(rule_id, Status.SKIP, message, location, key=key)

    def not_read(self, display_path: str, why: str, key: str) -> Finding:
        """An input deliberately left unread (too large, binary, a link loop): counted, said."""
        self.stats["inputs_skipped"] += 1
        return self.skipped(INPUT_SKIPPED, f"not read: {why}", Location(path=display_path), key=key)

    def unreadable(self, display_path: str, why: str) -> Finding:
        """An input the audit needed but could not read or parse: the audit is incomplete."""
        return self.finding(
            INPUT_UNREADABLE,
            Status.ERROR,
            f"could not audit {display_path}: {why}",
            Location(path=display_path),
            key=why.split(":")[0],
        )


class Audit(ABC):
    """One audit: reads the inventory (never walks again), returns findings and coverage,
    never prints, never writes into the target."""

    name: ClassVar[str]
    #: JSON Schema `properties` of the audit's own config table.
    config_schema: ClassVar[dict[str, Any]] = {}
    #: Pure-Python work over the whole tree: on a large tree it runs in a process of its
    #: own so it overlaps with the other audits (see hardcheck.runner.offload).
    cpu_bound: ClassVar[bool] = False
    #: Modules its worker processes need (imported as they start, on large trees).
    worker_modules: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: AuditContext) -> AuditOutput:
        """Findings and coverage. Raise only for bugs: the runner turns that into an error item."""

    def inputs(self, ctx: AuditContext) -> Mapping[str, PathTest]:
        """Per rule that reads files of the tree: which paths it reads. A path the inventory
        could not list or stat is charged to every rule whose test takes it (a directory
        that could not be listed, to every rule here), so that rule cannot pass."""
        return {}

    def memo_reads(self, ctx: AuditContext) -> PathTest | None:
        """For a run whose findings depend only on the tree: which files (by relative
        path) the audit may read. Its whole result is then cached under a key over the
        tree's metadata and those files' contents (hardcheck.cache.memo). None: not cached so."""
        return None

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        """Of a file `memo_reads` names: can its content change this audit's result? False
        only when the audit provably ignores such content (it holds none of the markers the
        audit looks for first); the file then enters the cache key by name and metadata."""
        return True
