"""The code audit: bandit over the inventory's Python files (not a second walk), in
worker processes, honouring `# nosec`, the target's `[tool.bandit]` and a bandit baseline.

Severity is bandit's severity weighed by its confidence:

    severity \\ confidence   HIGH     MEDIUM   LOW
    HIGH                    high     high     medium
    MEDIUM                  medium   medium   low
    LOW                     low      low      info
"""

from __future__ import annotations

import dataclasses
import os
import time
from importlib.metadata import version
from typing import Any, ClassVar

from ... import _toml
from ...cache import namespace
from ...cache.perfile import cached_per_file
from ...inventory import ReadSkipped, path_spec, read_bytes
from ...model import Finding, Location, Severity
from ...pool import balanced_chunks, run_pooled
from ...safetext import display_path
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest
from .banditscan import (
    BanditOptions,
    BanditResult,
    decode_result,
    encode_result,
    init_worker,
    rebase_baseline,
    scan_chunk,
)

SEVERITY = {
    ("HIGH", "HIGH"): Severity.HIGH,
    ("HIGH", "MEDIUM"): Severity.HIGH,
    ("HIGH", "LOW"): Severity.MEDIUM,
    ("MEDIUM", "HIGH"): Severity.MEDIUM,
    ("MEDIUM", "MEDIUM"): Severity.MEDIUM,
    ("MEDIUM", "LOW"): Severity.LOW,
    ("LOW", "HIGH"): Severity.LOW,
    ("LOW", "MEDIUM"): Severity.LOW,
    ("LOW", "LOW"): Severity.INFO,
}
# bandit test families -> catalogue rules
FAMILY = {
    "1": "COD001",
    "2": "COD002",
    "3": "COD003",
    "4": "COD004",
    "5": "COD005",
    "6": "COD006",
    "7": "COD007",
}
NOT_PARSED = "COD008"
CODE_RULES = (*FAMILY.values(), NOT_PARSED)
INPROCESS_FILES = 40


def rule_for(test_id: str) -> str:
    return FAMILY.get(test_id[1:2], "COD001")


def weigh(severity: str, confidence: str) -> Severity:
    return SEVERITY.get((severity.upper(), confidence.upper()), Severity.MEDIUM)


class CodeAudit(Audit):
    name = "code"
    worker_modules = ("hardcheck.audits.code.banditscan", "bandit.core.manager")
    config_schema: ClassVar[dict[str, Any]] = {
        "tests": {
            "type": "array",
            "items": {"type": "string"},
            "description": "only these bandit tests",
        },
        "skips": {"type": "array", "items": {"type": "string"}},
        "exclude": {"type": "array", "items": {"type": "string"}},
        "baseline": {"type": "string", "description": "a bandit JSON baseline (`bandit -f json`)"},
    }

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return dict.fromkeys(CODE_RULES, _python_file)

    def run(self, ctx: AuditContext) -> AuditOutput:
        findings: list[Finding] = []
        cov = Coverage()
        options = self.options(ctx, findings)
        excluded = path_spec(ctx.options.get("exclude", ()))
        files = []
        for e in ctx.inventory.files():
            if not _python_file(e.rel) or excluded.match_file(e.rel):
                continue
            # bandit reads whatever it is given, whole: apply the size limit first
            if e.size > ctx.config.max_file_size:
                why = f"larger than max-file-size ({e.size} > {ctx.config.max_file_size} bytes)"
                findings.append(ctx.not_read(e.display, why, "too-large"))
                continue
            digest, probes = ctx.inventory.facts(e, ctx.config.max_file_size)
            if digest is None:
                try:  # the one read of the file failed: say why
                    read_bytes(ctx.inventory, e, ctx.config.max_file_size)
                    why = "changed while it was being read"
                except ReadSkipped as exc:
                    why = str(exc)
                cov.could_not_read(CODE_RULES, e.display, why)
                findings.append(ctx.unreadable(e.display, why))
            elif "binary" in probes:
                findings.append(
                    ctx.not_read(e.display, "binary file (NUL bytes) with a .py name", "binary")
                )
            else:
                files.append(e)
        ctx.stats["python_files"] = len(files)
        t0 = time.monotonic()
        results = self.scan(ctx, files, options)
        ctx.stats["scan_ms"] = int((time.monotonic() - t0) * 1000)
        scanned = len(files)
        for r in results:
            ctx.stats["loc"] += r.loc
            ctx.stats["nosec"] += r.nosec
            ctx.stats["baseline_known"] += r.baseline_known
            for rel, reason in r.skipped:
                if reason.startswith("syntax error"):
                    findings.append(
                        ctx.skipped(
                            NOT_PARSED,
                            f"bandit could not scan it: {reason}",
                            Location(path=display_path(rel)),
                            key=reason.split(" ")[0],
                        )
                    )
                else:  # it could not read the file, or crashed on it: its rules did not look
                    scanned -= 1
                    cov.could_not_read(CODE_RULES, display_path(rel), f"bandit: {reason}")
                    findings.append(ctx.unreadable(display_path(rel), f"bandit: {reason}"))
            findings.extend(self.issue_finding(ctx, i) for i in r.issues)
        ctx.stats["issues"] = sum(len(r.issues) for r in results)
        if files:
            cov.saw(CODE_RULES, "Python file", scanned)
            cov.saw(CODE_RULES, "line", ctx.stats["loc"])
        elif not cov.unread:
            cov.skip(CODE_RULES, "not applicable: no Python files")
        return AuditOutput(findings, cov)

    def options(self, ctx: AuditContext, findings: list[Finding]) -> BanditOptions:
        config_file = ""
        pyproject = os.path.join(ctx.root, "pyproject.toml")
        try:
            with open(pyproject, encoding="utf-8") as fh:
                if "bandit" in _toml.loads(fh.read()).get("tool", {}):
                    config_file = pyproject
        except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError):
            pass  # no readable [tool.bandit]: bandit's defaults
        baseline = ""
        name = ctx.options.get("baseline")
        if name:
            try:
                with open(os.path.join(ctx.root, name), encoding="utf-8") as fh:
                    baseline = rebase_baseline(fh.read(), str(ctx.root))
            except (OSError, UnicodeDecodeError, ValueError) as exc:
                findings.append(ctx.unreadable(name, f"bandit baseline cannot be used: {exc}"))
        options = BanditOptions(
            config_file=config_file,
            tests=tuple(ctx.options.get("tests", ())),
            skips=tuple(ctx.options.get("skips", ())),
            baseline=baseline,
        )
        if config_file:
            from .banditscan import profile_for

            try:
                profile_for(options)
            except Exception as exc:  # bandit.core.utils.ConfigError and whatever else it raises
                why = f"[tool.bandit] cannot be used: {exc}"
                findings.append(ctx.unreadable("pyproject.toml", why))
                options = BanditOptions(tests=options.tests, skips=options.skips, baseline=baseline)
        return options

    def scan(self, ctx: AuditContext, files, options: BanditOptions) -> list[BanditResult]:
        space = namespace("code", version("bandit"), dataclasses.asdict(options))
        return cached_per_file(
            ctx, files, space, lambda missing: self.run_engine(ctx, missing, options),
            encode_result, decode_result,
        )  # fmt: skip

    def run_engine(self, ctx: AuditContext, files, options: BanditOptions):
        root = str(ctx.root)
        jobs = max(1, ctx.config.jobs)
        if jobs == 1 or len(files) < INPROCESS_FILES:
            init_worker(options)
            ctx.stats["worker_processes"] = 0
            return scan_chunk(root, [e.rel for e in files])  # its parses hold PARSE_LOCK
        ctx.stats["worker_processes"] = jobs
        chunks = balanced_chunks(files, jobs * 8)
        parts = run_pooled(
            ctx,
            preload=self.worker_modules,
            initializer=init_worker,
            initargs=(options,),
            tasks=[(scan_chunk, (root, chunk)) for chunk in chunks],
        )
        return [item for part in parts for item in part]

    def issue_finding(self, ctx: AuditContext, issue) -> Finding:
        cwe = f"CWE-{issue.cwe}" if issue.cwe else "no CWE"
        return ctx.fail(
            rule_for(issue.test_id),
            f"{issue.test_id} {issue.test_name}: {issue.text}",
            Location(path=display_path(issue.rel), line=issue.line),
            severity=weigh(issue.severity, issue.confidence),
            evidence=f"bandit {issue.test_id} · severity {issue.severity.lower()}, confidence {issue.confidence.lower()} · {cwe}",
            key=f"{issue.test_id}:{issue.text}",
            upstream_id=issue.test_id,
        )


def _python_file(rel: str) -> bool:
    return rel.endswith((".py", ".pyw"))
