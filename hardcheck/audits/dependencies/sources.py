"""Where vulnerabilities come from: one small interface, one class per source.

`OfflineOSV` reads a directory of OSV records; `PipAuditService` asks pip-audit (PyPI's
JSON API or an OSV endpoint). Each answers, for pinned (name, version) pairs, the known
vulnerabilities of those it could look up and why it could not look up the others.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .dbupdate import installed_db
from .osv import DatabaseError, OfflineDB, Vulnerability
from .pipaudit import PipAuditError, run_pip_audit

Pin = tuple[str, str]


class SourceError(Exception):
    """The source could not be asked at all; the message says why."""


@dataclass
class Answer:
    vulnerabilities: dict[Pin, list[Vulnerability]]
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why it was not looked up
    note: str = ""  # which source, and how fresh
    unreadable_records: int = 0
    newest: str | None = None  # an offline database's newest record, yyyy-mm-dd


class VulnerabilitySource(ABC):
    #: how the report names it ("offline OSV database", "pip-audit (pypi)")
    where: str

    @abstractmethod
    def query(self, pins: list[Pin]) -> Answer:
        """Raise SourceError when the source cannot be asked."""


class OfflineOSV(VulnerabilitySource):
    def __init__(self, path: Path):
        self.path = path
        self.where = f"offline OSV database {path.name}"

    def query(self, pins: list[Pin]) -> Answer:
        try:
            db = OfflineDB(self.path)
        except DatabaseError as exc:
            raise SourceError(str(exc)) from None
        return Answer(
            vulnerabilities={(n, v): db.query(n, v) for n, v in pins},
            note=f"{self.where}, newest record {db.date} ({len(db.texts)} records)",
            unreadable_records=len(db.errors),
            newest=db.date,
        )


class PipAuditService(VulnerabilitySource):
    def __init__(self, service: str, osv_url: str | None, timeout: int):
        self.service, self.osv_url, self.timeout = service, osv_url, timeout
        self.where = f"pip-audit ({osv_url or service})"

    def query(self, pins: list[Pin]) -> Answer:
        try:
            results, skipped = run_pip_audit(
                pins, service=self.service, osv_url=self.osv_url, timeout=self.timeout
            )
        except PipAuditError as exc:
            raise SourceError(str(exc)) from None
        return Answer(results, skipped, f"live vulnerability service via {self.where}, queried now")


def source_for(options: Mapping[str, Any], base: Path) -> VulnerabilitySource:
    """`vuln-db` (relative to `base`, the config file's directory) if set; else the
    database `hardcheck db update` installed, unless a service or OSV endpoint is named;
    else pip-audit."""
    db_path = options.get("vuln-db")
    if db_path:
        return OfflineOSV(Path(db_path) if os.path.isabs(db_path) else base / db_path)
    osv_url = options.get("osv-url") or os.environ.get("HARDCHECK_OSV_URL")
    installed = installed_db()
    if installed is not None and not osv_url and "service" not in options:
        return OfflineOSV(installed)
    return PipAuditService(options.get("service", "pypi"), osv_url, int(options.get("timeout", 15)))
