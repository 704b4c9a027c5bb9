"""The audit registry. Audits are imported only when a run needs them, so that
`hardcheck --version`, `rules` and `explain` never load an engine."""

from __future__ import annotations

import importlib

from .base import Audit, AuditContext

# name -> "module:Class"; order is the order audits appear in reports.
BUILTIN: dict[str, str] = {
    "permissions": "hardcheck.audits.permissions:PermissionsAudit",
    "secrets": "hardcheck.audits.secrets_audit:SecretsAudit",
    "logging": "hardcheck.audits.logconfig:LoggingAudit",
    "headers": "hardcheck.audits.headers:HeadersAudit",
    "uploads": "hardcheck.audits.uploads:UploadsAudit",
    "code": "hardcheck.audits.code_audit:CodeAudit",
    "dependencies": "hardcheck.audits.dependencies:DependenciesAudit",
}
_registered: dict[str, type[Audit]] = {}


def available() -> list[str]:
    return [*BUILTIN, *(n for n in _registered if n not in BUILTIN)]


def load(name: str) -> type[Audit]:
    if name in _registered:
        return _registered[name]
    module_name, _, cls_name = BUILTIN[name].partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def register(cls: type[Audit]) -> type[Audit]:
    """Add (or replace) an audit; usable as a class decorator by plugins and tests."""
    _registered[cls.name] = cls
    return cls


def unregister(name: str) -> None:
    _registered.pop(name, None)


__all__ = ["Audit", "AuditContext", "available", "load", "register", "unregister"]
