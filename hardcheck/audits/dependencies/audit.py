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
from typing import Any, ClassVar

from ...model import Finding, Location, Severity, Status
from ...safetext import display_path
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest
from .dbupdate import age_days
from .declared import (
    Declared,
    Dependency,
    declaration_kind,
    declared_dependencies,
    environment_dependencies,
    installed_dependencies,
)
from .osv import Vulnerability
from .sources import SourceError, source_for

DEFAULT_SEVERITY = Severity.HIGH
DEFAULT_MAX_DB_AGE = 7  # days
APP_MARKERS = ("manage.py", "wsgi.py", "asgi.py", "Procfile", "Dockerfile", "gunicorn.conf.py")
VULNERABLE, UNPINNED, NOT_AUDITED = "DEP001", "DEP002", "DEP003"
RULES = (VULNERABLE, UNPINNED, NOT_AUDITED)


class DependenciesAudit(Audit):
    name = "dependencies"
    config_schema: ClassVar[dict[str, Any]] = {
        "vuln-db": {
            "type": "string",
            "description": "directory of OSV records; relative to the config file",
        },
        "service": {"enum": ["pypi", "osv"], "description": "pip-audit's service when no vuln-db"},
        "osv-url": {"type": "string", "description": "an OSV-compatible /v1/query endpoint"},
        "timeout": {"type": "integer", "minimum": 1},
        "max-db-age": {
            "type": "integer",
            "minimum": 1,
            "description": "days: an offline database whose newest record is older is reported "
            f"as stale (default {DEFAULT_MAX_DB_AGE})",
        },
        "environment-deps": {"type": "boolean"},
        "application": {"type": "boolean", "description": "override: is this tree an application?"},
    }

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return dict.fromkeys(RULES, declares_dependencies)

    def run(self, ctx: AuditContext) -> AuditOutput:
        opts = ctx.options
        findings: list[Finding] = []
        cov = Coverage()
        rels = [e.rel for e in ctx.inventory.files()]
        declared = declared_dependencies(ctx.root, rels)
        image = ctx.inventory.image
        if image is not None and image.installed:
            # what the image runs on comes first: its exact versions are the ones audited
            installed = installed_dependencies(image.installed)
            declared.deps[:0] = installed.deps
            declared.files[:0] = installed.files
            ctx.stats["installed_in_image"] = len(installed.deps)
        if opts.get("environment-deps"):
            env = environment_dependencies()
            declared.deps += env.deps
            declared.files += env.files
        for rel, why in declared.problems:
            cov.could_not_read(RULES, rel, why)
            findings.append(ctx.unreadable(rel, why))
        ctx.stats["declaration_files"] = len(declared.files)
        for rel, why in declared.not_requirements:
            findings.append(ctx.not_read(display_path(rel), why, "not-requirements"))
        ctx.stats["declared"] = len(declared.deps)
        if not declared.deps:
            cov.skip(RULES, "not applicable: no requirements, pyproject or lock file found")
            return AuditOutput(findings, cov)
        cov.saw((UNPINNED, NOT_AUDITED), "declared dependency", len(declared.deps))
        application = opts.get("application", self.looks_like_application(ctx, rels))
        if not application:
            cov.skip(UNPINNED, "not applicable: a library's declarations are version ranges")
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
            cov.skip(VULNERABLE, "no pinned dependency to look up (DEP003)")
            return AuditOutput(findings, cov)
        source = source_for(opts, ctx.config.file.parent if ctx.config.file else ctx.root)
        try:
            answer = source.query(sorted(pins))
        except SourceError as exc:
            cov.could_not_read(VULNERABLE, source.where, str(exc))
            findings.append(
                ctx.finding(
                    NOT_AUDITED,
                    Status.ERROR,
                    f"vulnerability check failed: {exc}",
                    Location(),
                    key="engine",
                )
            )
            return AuditOutput(findings, cov)
        ctx.note = answer.note
        ctx.stats["vuln_db_unreadable_records"] = answer.unreadable_records
        age = age_days(answer.newest) if answer.newest else None
        if age is not None:
            limit = int(opts.get("max-db-age", DEFAULT_MAX_DB_AGE))
            ctx.stats["vuln_db_age_days"] = age
            ctx.stats["vuln_db_max_age_days"] = limit
            if age > limit:
                ctx.note += (
                    f"; STALE: {age} days old (max-db-age {limit}): advisories published "
                    "since are not known (hardcheck db update)"
                )
        looked_up = 0
        for (name, version), first in sorted(pins.items()):
            if name in answer.skipped:
                findings.append(
                    self.not_audited(ctx, first, f"pip-audit skipped it: {answer.skipped[name]}")
                )
                continue
            looked_up += 1
            for vuln in answer.vulnerabilities.get((name, version), []):
                findings.append(self.vulnerable(ctx, first, vuln, answer.note))
        cov.saw(VULNERABLE, "pinned dependency version", looked_up)
        if not looked_up:
            findings.append(
                ctx.finding(
                    NOT_AUDITED,
                    Status.ERROR,
                    f"none of the {len(pins)} pinned dependency version(s) could be looked up "
                    f"in {source.where}: nothing was audited",
                    Location(path=declared.files[0]),
                    key="none-looked-up",
                )
            )
            cov.skip(
                VULNERABLE, f"no pinned dependency could be looked up in {source.where} (DEP003)"
            )
        ctx.stats["vulnerabilities"] = sum(1 for f in findings if f.rule_id == VULNERABLE)
        return AuditOutput(findings, cov)

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


def declares_dependencies(rel: str) -> bool:
    return declaration_kind(rel) is not None
