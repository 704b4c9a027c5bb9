"""The one interface every audit implements, and the context it runs in."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..cache import ResultCache
from ..catalogue import Catalogue
from ..config import Config
from ..inventory import Inventory
from ..model import Finding, Location, Severity, Status
from ..safetext import safe

# Rules every audit may use to say it could not look at something.
INPUT_UNREADABLE = "RUN002"
INPUT_SKIPPED = "RUN003"


@dataclass
class AuditContext:
    """What an audit gets: the shared inventory, its own options, and helpers that
    turn a rule id into a finding carrying the catalogue's owner/expected/rollback."""

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

    @property
    def environment(self) -> str:
        return self.config.environment

    def owner_for(self, rule_id: str, default: str) -> str:
        owners = self.config.owners
        return owners.get(rule_id) or owners.get(self.audit) or default

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
        rule = self.catalogue.get(rule_id)
        return Finding(
            rule_id=rule.id,
            audit=self.audit,
            status=status,
            severity=severity or rule.severity,
            title=rule.title,
            message=safe(message),
            location=location or Location(),
            evidence=safe(evidence) if evidence is not None else None,
            owner=self.owner_for(rule.id, rule.owner),
            expected=rule.expected,
            rollback=rule.rollback,
            references=rule.references,
            upstream_id=upstream_id,
            key=key,
        )

    def fail(self, rule_id: str, message: str, location: Location | None = None, **kw) -> Finding:
        return self.finding(rule_id, Status.FAIL, message, location, **kw)

    def passed(self, rule_id: str, message: str, location: Location | None = None) -> Finding:
        return self.finding(rule_id, Status.PASS, message, location)

    def skipped(
        self, rule_id: str, message: str, location: Location | None = None, **kw
    ) -> Finding:
        return self.finding(rule_id, Status.SKIP, message, location, **kw)

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
    """One audit: reads the inventory (never walks again), yields findings, never prints,
    never writes into the target."""

    name: ClassVar[str]
    description: ClassVar[str]
    #: JSON Schema `properties` of the audit's own config table.
    config_schema: ClassVar[dict[str, Any]] = {}
    #: Pure-Python work over the whole tree: on a large tree it runs in a process of its
    #: own so it overlaps with the other audits (see hardcheck.runner.offload).
    cpu_bound: ClassVar[bool] = False
    #: Modules its worker processes need (imported once in the forkserver on large trees).
    worker_modules: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def run(self, ctx: AuditContext) -> Iterable[Finding]:
        """Yield findings. Raise only for bugs: the runner turns that into an error item."""

    def summarise(self, ctx: AuditContext, findings: list[Finding]) -> list[Finding]:
        """Every rule of this audit that produced nothing becomes one checklist item: a pass
        when the audit looked at something it applies to, else a skip saying why not."""
        seen = {f.rule_id for f in findings}
        extra = []
        for rule in ctx.catalogue.for_audit(self.name):
            if rule.id in seen:
                continue
            if self.applies(ctx, rule.id):
                extra.append(ctx.passed(rule.id, self.pass_message(ctx, rule.id)))
            else:
                extra.append(ctx.skipped(rule.id, self.skip_reason(ctx, rule.id)))
        return findings + extra

    def memo_reads(self, ctx: AuditContext) -> Callable[[str], bool] | None:
        """For a run whose findings depend only on the tree: which files (by relative
        path) the audit may read. Its whole result is then cached under a key over the
        tree's metadata and those files' contents (hardcheck.cache.memo). None: not cached so."""
        return None

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        """Of a file `memo_reads` names: can its content change this audit's result? False
        only when the audit provably ignores such content (it holds none of the markers the
        audit looks for first); the file then enters the cache key by name and metadata."""
        return True

    def applies(self, ctx: AuditContext, rule_id: str) -> bool:
        return True

    def pass_message(self, ctx: AuditContext, rule_id: str) -> str:
        return "no problem found"

    def skip_reason(self, ctx: AuditContext, rule_id: str) -> str:
        return "not applicable"
