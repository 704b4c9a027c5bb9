"""The dependencies audit: does the service ship a dependency with a known vulnerability?

Declarations come from the inventory (requirements files with includes, pyproject.toml
PEP 621 and Poetry, poetry.lock / uv.lock / pylock.toml) and, on request, the installed
environment. Pinned versions are checked against an offline OSV database (`vuln-db`) or
by pip-audit. Nothing passes silently: every dependency that could not be audited is an
item, and when none could be, or the service could not be asked, the audit is an error.

Severity policy: the advisory's CVSS base score when it has one (critical ≥ 9, high ≥ 7,
medium ≥ 4, else low), else its GHSA-style severity word, else HIGH — a known,
unscored vulnerability in a shipped dependency is treated as serious until triaged.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar

from ...model import Finding, Location, Severity, Status
from ...safetext import display_path
from ..base import Audit, AuditContext
from .declared import Declared, Dependency, declared_dependencies, environment_dependencies
from .osv import DatabaseError, OfflineDB, Vulnerability
from .pipaudit import PipAuditError, run_pip_audit

DEFAULT_SEVERITY = Severity.HIGH
APP_MARKERS = ("manage.py", "wsgi.py", "asgi.py", "Procfile", "Dockerfile", "gunicorn.conf.py")
NOT_AUDITED = "DEP003"


class DependenciesAudit(Audit):
    name = "dependencies"
    description = "known-vulnerable dependencies (offline OSV database or pip-audit)"
    config_schema: ClassVar[dict[str, Any]] = {
        "vuln-db": {
            "type": "string",
            "description": "directory of OSV records; relative to the config file",
        },
        "service": {"enum": ["pypi", "osv"], "description": "pip-audit's service when no vuln-db"},
        "osv-url": {"type": "string", "description": "an OSV-compatible /v1/query endpoint"},
        "timeout": {"type": "integer", "minimum": 1},
        "environment-deps": {"type": "boolean"},
        "application": {"type": "boolean", "description": "override: is this tree an application?"},
    }

    def run(self, ctx: AuditContext) -> list[Finding]:
        opts = ctx.options
        findings: list[Finding] = []
        rels = [e.rel for e in ctx.inventory.files()]
        declared = declared_dependencies(ctx.root, rels)
        if opts.get("environment-deps"):
            env = environment_dependencies()
            declared.deps += env.deps
            declared.files += env.files
        for rel, why in declared.problems:
            findings.append(ctx.unreadable(rel, why))
        self.declared = declared
        ctx.stats["declaration_files"] = len(declared.files)
        for rel, why in declared.not_requirements:
            findings.append(ctx.not_read(display_path(rel), why, "not-requirements"))
        ctx.stats["declared"] = len(declared.deps)
        if not declared.deps:
            return self.summarise(ctx, findings)
        application = opts.get("application", self.looks_like_application(ctx, rels))
        pins = self.pins(ctx, declared, application, findings)
        ctx.stats["pins_audited"] = len(pins)
        if not pins:
            findings.append(
                ctx.finding(
                    NOT_AUDITED,
                    Status.ERROR,
                    "no dependency could be audited: none is pinned to an exact version",
                    Location(path=declared.files[0]),
                    key="none-audited",
                )
            )
            return self.summarise(ctx, findings)
        try:
            results, skipped, db_note = self.query(ctx, sorted(pins))
        except (DatabaseError, PipAuditError) as exc:
            findings.append(
                ctx.finding(
                    NOT_AUDITED,
                    Status.ERROR,
                    f"vulnerability check failed: {exc}",
                    Location(),
                    key="engine",
                )
            )
            return self.summarise(ctx, findings)
        ctx.note = db_note
        for (name, version), first in sorted(pins.items()):
            if name in skipped:
                findings.append(
                    self.not_audited(ctx, first, f"pip-audit skipped it: {skipped[name]}")
                )
                continue
            for vuln in results.get((name, version), []):
                findings.append(self.vulnerable(ctx, first, vuln, db_note))
        ctx.stats["vulnerabilities"] = sum(1 for f in findings if f.rule_id == "DEP001")
        return self.summarise(ctx, findings)

    # --- which pins to audit ---------------------------------------------------------------
    @staticmethod
    def looks_like_application(ctx: AuditContext, rels: list[str]) -> bool:
        names = {os.path.basename(r) for r in rels}
        return bool(names & set(APP_MARKERS)) or any(
            os.path.basename(r).startswith("requirements") for r in rels
        )

    def pins(
        self, ctx: AuditContext, declared: Declared, application: bool, findings: list[Finding]
    ):
        pins: dict[tuple[str, str], Dependency] = {}
        pinned_names = {d.name for d in declared.deps if d.pinned and not d.unauditable}
        for dep in declared.deps:
            if dep.unauditable:
                findings.append(self.not_audited(ctx, dep, dep.unauditable))
            elif dep.pinned:
                pins.setdefault((dep.name, str(dep.version)), dep)
            elif dep.name in pinned_names:
                continue  # a lock file or another requirements file pins it
            elif application:
                findings.append(
                    ctx.fail(
                        "DEP002",
                        f"{dep.spec} is not pinned to an exact version: what gets installed, "
                        "and so whether it is vulnerable, is not known (not audited)",
                        Location(path=dep.source, line=dep.line, setting=dep.name),
                        evidence=dep.spec,
                        key=dep.name,
                    )
                )
            else:
                findings.append(
                    self.not_audited(
                        ctx, dep, "a version range (a library's declaration), not a pin"
                    )
                )
        return pins

    def not_audited(self, ctx: AuditContext, dep: Dependency, why: str) -> Finding:
        return ctx.skipped(
            NOT_AUDITED,
            f"{dep.spec[:80]} not audited: {why}",
            Location(path=dep.source, line=dep.line, setting=dep.name),
            key=f"{dep.name}:{why[:40]}",
        )

    # --- asking the database or pip-audit ---------------------------------------------------
    def query(self, ctx: AuditContext, pins: list[tuple[str, str]]):
        opts = ctx.options
        db_path = opts.get("vuln-db")
        if db_path:
            base = ctx.config.file.parent if ctx.config.file else ctx.root
            path = Path(db_path) if os.path.isabs(db_path) else (base / db_path)
            db = OfflineDB(path)
            ctx.stats["vuln_db_unreadable_records"] = len(db.errors)
            results = {(n, v): db.query(n, v) for n, v in pins}
            return (
                results,
                {},
                f"offline OSV database {path.name}, newest record {db.date} ({len(db.texts)} records)",
            )
        osv_url = opts.get("osv-url") or os.environ.get("HARDCHECK_OSV_URL")
        service = opts.get("service", "pypi")
        results, skipped = run_pip_audit(
            pins, service=service, osv_url=osv_url, timeout=int(opts.get("timeout", 15))
        )
        where = osv_url or service
        return results, skipped, f"live vulnerability service via pip-audit ({where}), queried now"

    def vulnerable(
        self, ctx: AuditContext, dep: Dependency, vuln: Vulnerability, db_note: str
    ) -> Finding:
        aliases = ", ".join(vuln.aliases) if vuln.aliases else "no aliases"
        fixed = ", ".join(vuln.fix_versions) if vuln.fix_versions else "no fixed version known"
        severity = Severity(vuln.severity) if vuln.severity else DEFAULT_SEVERITY
        scored = vuln.score or "no CVSS: hardcheck's default severity"
        return ctx.fail(
            "DEP001",
            f"{dep.name} {dep.version}: {vuln.id} ({aliases}); fixed in {fixed} — {vuln.summary[:160]}",
            Location(path=dep.source, line=dep.line, setting=dep.name),
            severity=severity,
            evidence=f"{vuln.id} · {scored} · {db_note.split(',')[0]}",
            key=f"{dep.name}@{dep.version}:{vuln.id}",
            upstream_id=vuln.id,
        )

    # --- summary ------------------------------------------------------------------------------
    def applies(self, ctx: AuditContext, rule_id: str) -> bool:
        return bool(self.declared.deps)

    def pass_message(self, ctx: AuditContext, rule_id: str) -> str:
        s = ctx.stats
        return f"{s['pins_audited']} pinned dependency version(s) from {s['declaration_files']} file(s) checked"

    def skip_reason(self, ctx: AuditContext, rule_id: str) -> str:
        return "not applicable: no requirements, pyproject or lock file found"
