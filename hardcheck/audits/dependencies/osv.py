"""An offline vulnerability database: a directory of OSV records (YAML or JSON, one
advisory per file, as in the PyPA advisory database), matched the way OSV does.

Matching: an advisory affects NAME VERSION when one of its `affected` entries for the
PyPI package NAME (PEP 503 names) lists the version in `versions` (compared as
`packaging` versions, so "3.2" equals "3.2.0"), or one of its ECOSYSTEM `ranges` includes
it: events sorted by version ("introduced: 0" first); `introduced` opens an affected
interval at that version, `fixed` closes it at that version, `last_affected` closes it
after that version. Withdrawn advisories never match. Results sharing an alias collapse
into one, PYSEC ids first, as pip-audit does.

Severity: a CVSS v3/v4 vector in `severity` gives the base score (critical ≥ 9, high ≥ 7,
medium ≥ 4, low > 0); else `database_specific.severity` (GHSA's words); else None, which
the audit reports at its documented default.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

try:  # the C loader is several times faster on a 2,600-file database
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

RECORD_SUFFIXES = (".yaml", ".yml", ".json")
_MODIFIED = re.compile(r"""["']?modified["']?\s*:\s*["']?([0-9T:.\-+Z ]+)""")
_NAME = re.compile(r"""["']?name["']?\s*:\s*["']?([A-Za-z0-9._\-]+)""")


@dataclass(frozen=True)
class Vulnerability:
    id: str
    aliases: tuple[str, ...]
    summary: str
    fix_versions: tuple[str, ...]
    severity: str | None  # critical/high/medium/low/info, None when the record has none
    score: str  # "CVSS 9.8" or "" when unknown
    published: str | None


class DatabaseError(Exception):
    pass


def _iso(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")
    return str(value) if value is not None else None


def _version(text: Any) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def in_range(events: list[dict], version: Version) -> bool:
    def key(e: dict) -> tuple:
        kind, value = next(iter(e.items()))
        if kind == "introduced" and str(value) == "0":
            return (0, Version("0"))
        parsed = _version(value)
        return (1, parsed) if parsed is not None else (2, Version("0"))

    affected = False
    for event in sorted((e for e in events if isinstance(e, dict) and e), key=key):
        kind, value = next(iter(event.items()))
        bound = Version("0") if (kind == "introduced" and str(value) == "0") else _version(value)
        if bound is None:
            continue
        if kind == "introduced" and version >= bound:
            affected = True
        elif (kind == "fixed" and version >= bound) or (
            kind == "last_affected" and version > bound
        ):
            affected = False
    return affected


def affects(record: dict, name: str, version: Version) -> bool:
    if record.get("withdrawn"):
        return False
    for entry in record.get("affected") or []:
        pkg = entry.get("package") or {}
        if pkg.get("ecosystem") != "PyPI" or canonicalize_name(str(pkg.get("name", ""))) != name:
            continue
        if any(_version(v) == version for v in entry.get("versions") or []):
            return True
        for rng in entry.get("ranges") or []:
            if rng.get("type") == "ECOSYSTEM" and in_range(rng.get("events") or [], version):
                return True
    return False


def fix_versions(record: dict, name: str, version: Version) -> tuple[str, ...]:
    """The `fixed` versions of the ranges that include this version (the upgrade targets)."""
    fixes: set[Version] = set()
    for entry in record.get("affected") or []:
        pkg = entry.get("package") or {}
        if canonicalize_name(str(pkg.get("name", ""))) != name:
            continue
        for rng in entry.get("ranges") or []:
            if rng.get("type") != "ECOSYSTEM":
                continue
            for e in rng.get("events") or []:
                fixed = _version(e.get("fixed")) if isinstance(e, dict) else None
                if fixed is not None and fixed > version:
                    fixes.add(fixed)
    return tuple(str(v) for v in sorted(fixes))


def severity_of(record: dict) -> tuple[str | None, str]:
    from cvss import CVSS3, CVSS4
    from cvss.exceptions import CVSSError

    best: float | None = None
    for item in record.get("severity") or []:
        vector = str(item.get("score", ""))
        try:
            if item.get("type") == "CVSS_V3":
                score = float(CVSS3(vector).base_score)
            elif item.get("type") == "CVSS_V4":
                score = float(CVSS4(vector).base_score)
            else:
                continue
        except (CVSSError, ValueError, KeyError):
            continue
        best = score if best is None else max(best, score)
    if best is not None:
        for floor, label in ((9.0, "critical"), (7.0, "high"), (4.0, "medium"), (0.1, "low")):
            if best >= floor:
                return label, f"CVSS {best:.1f}"
        return "info", f"CVSS {best:.1f}"
    words = str((record.get("database_specific") or {}).get("severity", "")).lower()
    mapping = {
        "critical": "critical",
        "high": "high",
        "moderate": "medium",
        "medium": "medium",
        "low": "low",
    }
    if words in mapping:
        return mapping[words], f"advisory: {words}"
    return None, ""


def to_vulnerability(record: dict, name: str, version: Version) -> Vulnerability:
    summary = record.get("summary") or record.get("details") or "N/A"
    severity, score = severity_of(record)
    return Vulnerability(
        id=str(record["id"]),
        aliases=tuple(sorted(str(a) for a in record.get("aliases") or [])),
        summary=" ".join(str(summary).split())[:300],
        fix_versions=fix_versions(record, name, version),
        severity=severity,
        score=score,
        published=_iso(record.get("published")),
    )


def dedupe(vulns: list[Vulnerability]) -> list[Vulnerability]:
    """pip-audit's rule: results sharing an id or alias collapse, PYSEC first."""
    kept: list[Vulnerability] = []
    seen: set[str] = set()
    for v in sorted(vulns, key=lambda v: (not v.id.startswith("PYSEC"), v.id)):
        ids = {v.id, *v.aliases}
        if ids & seen:
            continue
        seen |= ids
        kept.append(v)
    return kept


class OfflineDB:
    """Reads every record's text once (cheap), parses only those naming a package asked for."""

    def __init__(self, directory: Path):
        if not directory.is_dir():
            raise DatabaseError(f"vulnerability database not found: {directory}")
        self.directory = directory
        self.texts: dict[Path, str] = {}
        self.by_name: dict[str, list[Path]] = {}
        self.newest: str | None = None
        self.errors: list[tuple[str, str]] = []
        for dirpath, _, files in os.walk(directory):
            for fname in files:
                if not fname.endswith(RECORD_SUFFIXES):
                    continue
                path = Path(dirpath) / fname
                try:
                    text = path.read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError) as exc:
                    self.errors.append((str(path.relative_to(directory)), str(exc)))
                    continue
                self.texts[path] = text
                modified = _MODIFIED.search(text)
                if modified and (self.newest is None or modified.group(1) > self.newest):
                    self.newest = modified.group(1).strip()
                for candidate in {canonicalize_name(n) for n in _NAME.findall(text)}:
                    self.by_name.setdefault(candidate, []).append(path)
        if not self.texts:
            raise DatabaseError(f"no OSV records (*.yaml, *.json) in {directory}")
        self._parsed: dict[Path, dict | None] = {}

    @property
    def date(self) -> str:
        return (self.newest or "unknown")[:10]

    def record(self, path: Path) -> dict | None:
        if path not in self._parsed:
            text = self.texts[path]
            try:
                data = (
                    json.loads(text) if path.suffix == ".json" else yaml.load(text, Loader=_Loader)
                )
            except (ValueError, yaml.YAMLError) as exc:
                self.errors.append((str(path.relative_to(self.directory)), type(exc).__name__))
                data = None
            self._parsed[path] = data if isinstance(data, dict) and "id" in data else None
        return self._parsed[path]

    def records_for(self, name: str) -> list[dict]:
        return [r for p in self.by_name.get(name, []) if (r := self.record(p)) is not None]

    def query(self, name: str, version: str) -> list[Vulnerability]:
        parsed = _version(version)
        if parsed is None:
            return []
        hits = [
            to_vulnerability(r, name, parsed)
            for r in self.records_for(name)
            if affects(r, name, parsed)
        ]
        return dedupe(hits)


def osv_json(record: dict) -> dict:
    """A record as the OSV API serves it: JSON types, RFC 3339 timestamps ending in Z."""

    def convert(value: Any) -> Any:
        if isinstance(value, (dt.datetime, dt.date)):
            return _iso(value) if isinstance(value, dt.datetime) else value.isoformat()
        if isinstance(value, dict):
            return {str(k): convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(record)
