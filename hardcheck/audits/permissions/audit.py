"""The permissions audit: filesystem modes, owners and links, plus app-level access
settings (debug modes, ALLOWED_HOSTS, CORS) read statically."""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ...inventory import path_spec
from ...readers.appfiles import DEFAULT_DEVELOPMENT_PATHS, settings_like_path
from ...readers.secretfiles import NOT_SECRET_PATTERNS, SECRET_FILE_PATTERNS
from ...services.start import may_start
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest, every_path
from .appsettings import APP_RULES, MARKERS, check_app_settings
from .fsmodes import IMAGE_NOT_APPLICABLE, check_tree, expected_modes
from .image import IMAGE_RULES, check_image
from .startflags import START_RULES, check_start_commands

MODE_STRING = {"type": "string", "pattern": "^0?[0-7]{3,4}$"}
FS_RULES = ("PRM001", "PRM002", "PRM003", "PRM004", "PRM005", "PRM006")
EXPECTED_MODES = "PRM007"
OWN_FILE_RULES = ("PRM002", "PRM004")


class PermissionsAudit(Audit):
    name = "permissions"
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

    def memo_reads(self, ctx: AuditContext) -> PathTest:
        # app settings come from Python modules, start flags from the files that start the
        # service (through the service model); the rest is lstat
        return _reads

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        # check_app_settings skips, unparsed, modules without these markers; but a settings
        # module or an entry point can change which settings production loads without one
        if not rel.endswith(".py"):
            return True  # a start file
        base = os.path.basename(rel)
        if settings_like_path(rel) or base in ("manage.py", "wsgi.py", "asgi.py"):
            return True
        if base.startswith("gunicorn"):
            return True  # gunicorn's config module (startflags reads reload, forwarded_allow_ips)
        return any(m in data for m in MARKERS)

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        tree_rules = (*FS_RULES, EXPECTED_MODES, *IMAGE_RULES)
        return {
            **dict.fromkeys(tree_rules, every_path),
            **dict.fromkeys(APP_RULES, _python_file),
            **dict.fromkeys(START_RULES, may_start),
        }

    def run(self, ctx: AuditContext) -> AuditOutput:
        opts = ctx.options
        cov = Coverage()
        secret = path_spec(
            [
                *SECRET_FILE_PATTERNS,
                *opts.get("secret-files", ()),
                *(f"!{p}" for p in (*NOT_SECRET_PATTERNS, *opts.get("not-secret-files", ()))),
            ]
        )
        findings = list(check_tree(ctx, secret))
        if ctx.inventory.image is None:
            cov.saw(FS_RULES, "path", ctx.stats["paths_checked"])
        else:  # PRM002 and PRM004 judge only the service's own files of an image
            cov.saw(OWN_FILE_RULES, "application file", ctx.stats["own_paths_checked"])
            others = tuple(r for r in FS_RULES if r not in OWN_FILE_RULES)
            cov.saw(others, "path", ctx.stats["paths_checked"])
        if not ctx.stats["paths_checked"] and not ctx.inventory.problems:
            cov.skip(FS_RULES, "nothing to check: the tree holds no files or directories")
        if ctx.inventory.image is not None:
            for rule, why in IMAGE_NOT_APPLICABLE.items():
                cov.skip(rule, f"not applicable: {why}")
        findings.extend(check_image(ctx, cov))
        table = opts.get("expected-modes", {})
        if table:
            findings.extend(expected_modes(ctx, table))
            cov.saw(EXPECTED_MODES, "expected-modes entry", len(table))
        else:
            cov.skip(
                EXPECTED_MODES, "not applicable: no [permissions.expected-modes] table configured"
            )
        dev_paths = tuple(opts.get("development-paths", DEFAULT_DEVELOPMENT_PATHS))
        findings.extend(check_app_settings(ctx, cov, dev_paths))
        findings.extend(check_start_commands(ctx, cov))
        return AuditOutput(findings, cov)


def _python_file(rel: str) -> bool:
    return rel.endswith(".py")


def _reads(rel: str) -> bool:
    # .conf: APP007 takes a compose service built from the nginx config's directory as a proxy
    return rel.endswith((".py", ".conf")) or may_start(rel)
