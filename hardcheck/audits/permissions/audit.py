"""The permissions audit: filesystem modes, owners and links, plus app-level access
settings (debug modes, ALLOWED_HOSTS, CORS) read statically."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from ...inventory import path_spec
from ...model import Finding
from ...readers.appfiles import DEFAULT_DEVELOPMENT_PATHS
from ...readers.secretfiles import NOT_SECRET_PATTERNS, SECRET_FILE_PATTERNS
from ..base import Audit, AuditContext
from .appsettings import MARKERS, check_app_settings
from .fsmodes import check_tree, expected_modes

MODE_STRING = {"type": "string", "pattern": "^0?[0-7]{3,4}$"}
APP_RULES = ("APP001", "APP002", "APP003", "APP004")


class PermissionsAudit(Audit):
    name = "permissions"
    description = "file modes, owners and links; debug, ALLOWED_HOSTS and CORS settings"
    config_schema: ClassVar[dict[str, Any]] = {
        "expected-modes": {
            "type": "object",
            "description": 'Lynis-style table: "glob" = { mode = "0600", owner = "app" }',
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "mode": MODE_STRING,
                    "max-mode": MODE_STRING,
                    "owner": {"type": "string"},
                    "group": {"type": "string"},
                },
            },
        },
        "secret-files": {"type": "array", "items": {"type": "string"}},
        "not-secret-files": {"type": "array", "items": {"type": "string"}},
        "development-paths": {"type": "array", "items": {"type": "string"}},
    }

    cpu_bound = True
    worker_modules = ("hardcheck.audits.permissions.audit",)

    def memo_reads(self, ctx: AuditContext):
        return _python_file  # app settings are read from Python modules; the rest is lstat

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        # check_app_settings reads Python modules and skips, unparsed, those without these
        return rel.endswith(".py") and any(m in data for m in MARKERS)

    def run(self, ctx: AuditContext) -> Iterable[Finding]:
        opts = ctx.options
        secret = path_spec(
            [
                *SECRET_FILE_PATTERNS,
                *opts.get("secret-files", ()),
                *(f"!{p}" for p in (*NOT_SECRET_PATTERNS, *opts.get("not-secret-files", ()))),
            ]
        )
        findings = list(check_tree(ctx, secret))
        table = opts.get("expected-modes", {})
        if table:
            findings.extend(expected_modes(ctx, table))
        dev_paths = tuple(opts.get("development-paths", DEFAULT_DEVELOPMENT_PATHS))
        findings.extend(check_app_settings(ctx, dev_paths))
        return self.summarise(ctx, findings)

    def applies(self, ctx: AuditContext, rule_id: str) -> bool:
        if rule_id == "PRM007":
            return bool(ctx.options.get("expected-modes"))
        if rule_id in APP_RULES:
            return ctx.stats["app_modules"] > 0 or ctx.stats["settings_modules"] > 0
        return ctx.stats["paths_checked"] > 0  # "checked 0 paths" is no pass

    def pass_message(self, ctx: AuditContext, rule_id: str) -> str:
        if rule_id in APP_RULES:
            return f"checked {ctx.stats['python_files_parsed']} Python file(s); none found"
        return f"checked {ctx.stats['paths_checked']} path(s); none found"

    def skip_reason(self, ctx: AuditContext, rule_id: str) -> str:
        if rule_id == "PRM007":
            return "not applicable: no [permissions.expected-modes] table configured"
        if rule_id in APP_RULES:
            return "not applicable: no Django, Flask, FastAPI or Starlette code or settings found"
        return "nothing to check: the tree holds no files or directories"


def _python_file(rel: str) -> bool:
    return rel.endswith(".py")
