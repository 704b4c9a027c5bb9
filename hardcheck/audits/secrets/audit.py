"""The secrets audit: has this service leaked a credential into its repository?

detect-secrets (plus hardcheck's detectors and placeholder filters) scans the inventory's
text files in worker processes; `.env` files and Python settings are also read by
hardcheck itself. Values are never returned by the workers, so they cannot reach a report.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any, ClassVar

from ...cache import namespace
from ...cache.perfile import cached_per_file
from ...inventory import Entry, path_spec
from ...model import Finding, Location, Severity
from ...pool import balanced_chunks, run_pooled
from ...readers.secretfiles import NOT_SECRET_PATTERNS, SECRET_FILE_PATTERNS, not_a_database
from ...redact import fingerprint_key, keyed_id
from ...safetext import display_path
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest, every_path
from .image import image_findings, shipped_files
from .scan import (
    ChunkResult,
    Hit,
    ScanOptions,
    decode_result,
    encode_result,
    init_worker,
    merge,
    scan_chunk,
    scan_history,
    settings_config,
)

DEFAULT_EXCLUDES = (
    "*.po",
    "*.mo",
    "*.min.js",
    "*.min.css",
    "*.js.map",
    "*.css.map",
    "poetry.lock",
    "Pipfile.lock",
    "uv.lock",
    "pdm.lock",
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "Cargo.lock",
    "composer.lock",
    "Gemfile.lock",
    "go.sum",
    ".secrets.baseline",
)
CONTENT_RULES = ("SEC001", "SEC003")  # what the files hold
COMMITTED = "SEC002"  # which secret-bearing files git holds
HISTORY = "SEC004"
# Below this much text, starting worker processes costs more than it saves.
INPROCESS_BYTES = 256 * 1024


def _engine_version() -> str:
    from importlib.metadata import version

    return version("detect-secrets")


class BaselineError(Exception):
    pass


def load_baseline(path: str) -> frozenset[tuple[str, str]]:
    """(filename, hashed_secret) of entries audited as false positives (`is_secret: false`).
    Only `results` is read: a baseline's plugins and filters can name code to execute."""
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BaselineError(f"{type(exc).__name__}: {str(exc)[:150]}") from None
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, dict):
        raise BaselineError("no 'results' mapping: not a detect-secrets baseline")
    out = set()
    for filename, entries in results.items():
        if not isinstance(entries, list):
            raise BaselineError(f"results[{filename!r}] is not a list")
        for entry in entries:
            if (
                isinstance(entry, dict)
                and entry.get("is_secret") is False
                and "hashed_secret" in entry
            ):
                out.add((str(filename), str(entry["hashed_secret"])))
    return frozenset(out)


class SecretsAudit(Audit):
    name = "secrets"
    worker_modules = ("hardcheck.audits.secrets.scan", "detect_secrets.core.scan")
    config_schema: ClassVar[dict[str, Any]] = {
        "plugins": {
            "type": "array",
            "items": {"type": "string"},
            "description": "only these detectors",
        },
        "disable-plugins": {"type": "array", "items": {"type": "string"}},
        "patterns": {
            "type": "object",
            "additionalProperties": {"type": "string", "format": "regex"},
            "description": "name -> regex (its first group, or the match, is the secret)",
        },
        "keywords": {"type": "array", "items": {"type": "string"}},
        "exclude": {"type": "array", "items": {"type": "string"}},
        "default-excludes": {"type": "boolean"},
        "baseline": {"type": "string"},
        "history": {"type": "integer", "minimum": 0},
    }

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return dict.fromkeys((*CONTENT_RULES, COMMITTED), every_path)

    def run(self, ctx: AuditContext) -> AuditOutput:
        opts = ctx.options
        history_depth = int(opts.get("history", 0))
        artifact = ctx.inventory.extracted is not None
        if artifact:
            history_depth = 0  # an artifact holds no git history (an image's removed files: SEC007)
        findings: list[Finding] = []
        cov = Coverage()
        files = self.select(ctx)
        key, key_source = fingerprint_key()
        ctx.stats["fingerprint_key_ephemeral"] = int(key_source == "this run only")
        false_positives = self.baseline(ctx, findings)
        options = ScanOptions(
            plugins=tuple(opts.get("plugins", ())),
            disable_plugins=tuple(opts.get("disable-plugins", ())),
            patterns=tuple(sorted(opts.get("patterns", {}).items())),
            keywords=tuple(opts.get("keywords", ())),
            max_file_size=ctx.config.max_file_size,
        )
        tree, history = self.scan(ctx, files, options, key, false_positives, history_depth)
        initargs = (settings_config(options), key, false_positives, options)
        self.tally(ctx, tree, findings, cov)
        scanned = tree.hits
        findings.extend(self.hit_finding(ctx, h) for h in scanned)
        if history is not None:
            for rel, why in history.errors:
                cov.could_not_read(HISTORY, rel, why)
                findings.append(ctx.unreadable(rel, why))
            ctx.stats["history_lines"] = history.counts.get("history_lines", 0)
            cov.saw(
                HISTORY,
                f"added line in the last {history_depth} commit",
                ctx.stats["history_lines"],
            )
            present = {(h.rel, h.kid) for h in scanned}
            findings.extend(self.history_findings(ctx, history.hits, present))
        elif artifact:
            cov.skip(HISTORY, "not applicable: an artifact holds no git history")
        else:
            cov.skip(HISTORY, "history scan not requested (--history N or [secrets] history = N)")
        findings.extend(self.committed_files(ctx, cov))
        findings.extend(image_findings(ctx, cov, initargs))
        findings.extend(shipped_files(ctx, cov))
        return AuditOutput(findings, cov)

    # --- what to scan -----------------------------------------------------------------
    def select(self, ctx: AuditContext) -> list[Entry]:
        opts = ctx.options
        patterns = [
            *(DEFAULT_EXCLUDES if opts.get("default-excludes", True) else ()),
            *opts.get("exclude", ()),
        ]
        excluded = path_spec(patterns)
        files = []
        for entry in ctx.inventory.files():
            if excluded.match_file(entry.rel):
                ctx.stats["files_excluded"] += 1
            elif entry.size == 0:
                continue
            else:
                files.append(entry)
        return files

    def baseline(self, ctx: AuditContext, findings: list[Finding]) -> frozenset:
        name = ctx.options.get("baseline", ".secrets.baseline")
        path = os.path.join(ctx.root, name)
        if not os.path.isfile(path):
            return frozenset()
        try:
            fps = load_baseline(path)
        except BaselineError as exc:
            findings.append(ctx.unreadable(name, f"detect-secrets baseline cannot be used: {exc}"))
            return frozenset()
        ctx.stats["baseline_entries_false_positive"] = len(fps)
        return fps

    # --- running the engine --------------------------------------------------------------
    def scan(
        self, ctx, files, options, key, false_positives, history_depth
    ) -> tuple[ChunkResult, ChunkResult | None]:
        """The tree's merged result (cached per file) and the history's (never cached)."""
        config = settings_config(options)
        initargs = (config, key, false_positives, options)
        root = str(ctx.root)
        ctx.stats["files_to_scan"] = len(files)
        history: list[ChunkResult] = []

        def scan_missing(missing: list[Entry]) -> list[tuple[str, str | None, ChunkResult]]:
            per_file, hist = self.run_engine(ctx, root, missing, initargs, history_depth)
            history.extend(hist)
            return per_file

        space = namespace(
            "secrets", _engine_version(), config, options, keyed_id("cache", key),
            sorted(false_positives),
        )  # fmt: skip
        t0 = time.monotonic()
        results = cached_per_file(ctx, files, space, scan_missing, encode_result, decode_result)
        if history_depth and not history:  # every file came from the cache
            history.extend(self.run_engine(ctx, root, [], initargs, history_depth)[1])
        ctx.stats["scan_ms"] = int((time.monotonic() - t0) * 1000)
        return merge(results), (history[0] if history else None)

    def run_engine(self, ctx, root, files, initargs, history_depth):
        """detect-secrets over `files` (and the history when asked): per-file results."""
        jobs = max(1, ctx.config.jobs)
        tasks = [(scan_chunk, (root, chunk)) for chunk in balanced_chunks(files, jobs * 8)]
        if history_depth:
            tasks.append((scan_history, (root, history_depth)))
        if jobs == 1 or sum(e.size for e in files) < INPROCESS_BYTES:
            init_worker(*initargs)
            parts = [fn(*args) for fn, args in tasks]
            ctx.stats["worker_processes"] = 0
        else:
            parts = run_pooled(
                ctx,
                preload=self.worker_modules,
                initializer=init_worker,
                initargs=initargs,
                tasks=tasks,
            )
            ctx.stats["worker_processes"] = jobs
        history = [parts.pop()] if history_depth else []
        return [item for part in parts for item in part], history

    def tally(
        self, ctx: AuditContext, result: ChunkResult, findings: list[Finding], cov: Coverage
    ) -> None:
        for k, v in result.counts.items():
            ctx.stats[k] += v
        for rel, kind, why in result.skipped:
            findings.append(ctx.not_read(display_path(rel), why, kind))
        for rel, why in result.errors:
            cov.could_not_read(CONTENT_RULES, display_path(rel), why)
            findings.append(ctx.unreadable(display_path(rel), why))
        s = ctx.stats
        cov.saw(CONTENT_RULES, "file", s["files_scanned"])
        if not s["files_scanned"] and not result.errors:
            cov.skip(
                CONTENT_RULES,
                f"nothing scanned: no text file in the tree ({s['skipped_binary']} binary and "
                f"{s['files_excluded']} excluded file(s))",
            )

    # --- findings ----------------------------------------------------------------------
    def hit_finding(self, ctx: AuditContext, h: Hit) -> Finding:
        detectors = ", ".join(h.detectors)
        if h.rule == "SEC003":
            message = f"{h.what}: read it from the environment or a secret store"
        else:
            message = f"{detectors} found a secret" + (f" ({h.what})" if h.what else "")
        if h.repeats:
            message += f"; the same value is on {h.repeats} more line(s) of this file"
        return ctx.fail(
            h.rule,
            message,
            Location(path=display_path(h.rel), line=h.line),
            severity=Severity(h.severity),
            evidence=f"{detectors} · id {h.kid}",
            key=h.kid,
            upstream_id=h.detectors[0],
        )

    def history_findings(self, ctx: AuditContext, hits: list[Hit], present: set) -> list[Finding]:
        seen: set[tuple[str, str]] = set()
        out = []
        for h in hits:
            if (h.rel, h.kid) in present or (h.rel, h.kid) in seen:
                continue  # still in HEAD (reported above) or already reported from a newer commit
            seen.add((h.rel, h.kid))
            out.append(
                ctx.fail(
                    "SEC004",
                    f"{', '.join(h.detectors)} found a secret added in commit {h.commit[:12]} and "
                    "no longer in the working tree: it is still in the git history (rotate it)",
                    Location(path=display_path(h.rel), line=h.line),
                    severity=Severity(h.severity),
                    evidence=f"commit {h.commit[:12]} · {', '.join(h.detectors)} · id {h.kid}",
                    key=f"{h.kid}:{h.commit}",
                    upstream_id=h.detectors[0],
                )
            )
        return out

    def committed_files(self, ctx: AuditContext, cov: Coverage) -> list[Finding]:
        if ctx.inventory.source != "git":
            why = (
                "an artifact is not a git checkout; SEC008 judges the files that ship"
                if ctx.inventory.extracted is not None
                else "not a git checkout (nothing is committed)"
            )
            cov.skip(COMMITTED, f"not applicable: {why}")
            return []
        secret = path_spec([*SECRET_FILE_PATTERNS, *(f"!{p}" for p in NOT_SECRET_PATTERNS)])
        out = []
        cov.saw(COMMITTED, "file name", sum(1 for _ in ctx.inventory.files()))
        for entry in ctx.inventory.files():
            if (
                not secret.match_file(entry.rel)
                or ctx.services.in_frontend(entry.rel)  # build-time config; SEC001 reads it
                or not_a_database(ctx.inventory, entry, ctx.config.max_file_size)
            ):
                continue
            if entry.tracked:
                out.append(
                    ctx.fail(
                        "SEC002",
                        "secret-bearing file is committed to git: rotate what it holds, then remove it and add it to .gitignore",
                        Location(path=entry.display),
                        evidence="tracked by git",
                        key="tracked",
                    )
                )
            else:
                out.append(
                    ctx.fail(
                        "SEC002",
                        "secret-bearing file is not covered by .gitignore: the next `git add .` commits it",
                        Location(path=entry.display),
                        severity=Severity.MEDIUM,
                        evidence="untracked, not ignored",
                        key="unignored",
                    )
                )
        return out
