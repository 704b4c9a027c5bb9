"""The audit registry. Audits are imported only when a run needs them, so that
`hardcheck --version`, `rules` and `explain` never load an engine."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Any

from .base import Audit, AuditContext

# name -> "module:Class"; order is the order audits appear in reports.
BUILTIN: dict[str, str] = {
    "permissions": "hardcheck.audits.permissions.audit:PermissionsAudit",
    "secrets": "hardcheck.audits.secrets.audit:SecretsAudit",
    "logging": "hardcheck.audits.logging.audit:LoggingAudit",
    "headers": "hardcheck.audits.headers.audit:HeadersAudit",
    "uploads": "hardcheck.audits.uploads.audit:UploadsAudit",
    "code": "hardcheck.audits.code.audit:CodeAudit",
    "dependencies": "hardcheck.audits.dependencies.audit:DependenciesAudit",
}
# audits whose checks have named outcomes: name -> "module:function(rule_id)" listing them
OUTCOME_TABLES: dict[str, str] = {
    "headers": "hardcheck.audits.headers.outcomes:outcomes_of",
}
_registered: dict[str, type[Audit]] = {}


def available() -> list[str]:
    return [*BUILTIN, *(n for n in _registered if n not in BUILTIN)]


def load(name: str) -> type[Audit]:
    if name in _registered:
        return _registered[name]
    module_name, _, cls_name = BUILTIN[name].partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


class ConfigSchemas(Mapping[str, dict]):
    """Each audit's config table schema by audit name; an audit is imported only when its
    schema is read, so validating a config imports just the audits it configures."""

    def __getitem__(self, name: str) -> dict:
        if name not in available():
            raise KeyError(name)
        return load(name).config_schema

    def __iter__(self) -> Iterator[str]:
        return iter(available())

    def __len__(self) -> int:
        return len(available())


def outcomes_of(audit: str, rule_id: str) -> list[tuple[str, Any]]:
    """The named outcomes of a rule, as (name, outcome) pairs; [] when its audit has none."""
    if audit not in OUTCOME_TABLES:
        return []
    module_name, _, function = OUTCOME_TABLES[audit].partition(":")
    listed: list[tuple[str, Any]] = getattr(importlib.import_module(module_name), function)(rule_id)
    return listed


def register(cls: type[Audit]) -> type[Audit]:
    """Add (or replace) an audit; usable as a class decorator by plugins and tests."""
    _registered[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    _registered.pop(name, None)


__all__ = [
    "Audit",
    "AuditContext",
    "ConfigSchemas",
    "available",
    "load",
    "outcomes_of",
    "register",
    "unregister",
]
