"""Whole-audit results through the result cache, for the audits that read the tree as a
whole (permissions, logging, uploads, headers without a URL): their findings depend on
many files at once, so they are kept under one key covering every input — each entry's
metadata (name, kind, mode, owner, size, git state, link target), the content digest of
every file of a kind the audit reads, the settings chain and services of the service
model, the audit's options, the run's settings, the catalogue and the user running it. Any change to any of these is a different key: the audit runs again."""

from __future__ import annotations

import hashlib
import os
from typing import Any

from ..audits.base import Audit, AuditContext, AuditOutput, Coverage
from ..model import Finding
from . import namespace


def memo_key(audit: Audit, ctx: AuditContext) -> str | None:
    """The audit's key in the cache, or None when it is not kept (the cache is off, or
    the audit reads what is not in the tree: live URLs, an advisory database)."""
    reads = audit.memo_reads(ctx) if ctx.cache.enabled else None
    if reads is None:
        return None
    inv = ctx.inventory
    rules = [
        (r.id, r.severity.value, r.title, r.owner, r.expected, r.rollback) for r in ctx.catalogue
    ]
    # how fast it runs does not change what it finds
    settings = {k: v for k, v in ctx.config.describe().items() if k not in ("jobs", "timeout")}
    h = hashlib.blake2b(digest_size=16)
    h.update(
        namespace(
            "audit", audit.name, ctx.options, settings, ctx.config.owners, rules,
            os.geteuid(), os.getegid(), os.path.realpath(ctx.root), inv.source, inv.note,
            inv.root_uid, sorted(inv.problems), repr(ctx.services.services),
        ).encode()
    )  # fmt: skip
    max_size = ctx.config.max_file_size
    by_content = type(audit).memo_relevant is not Audit.memo_relevant
    # The service model read more than the audit's markers show: the settings chain
    # production loads (a module of it may hold none: `from .base import *`), and the
    # services findings are attributed to. Both enter the key whole.
    django = ctx.services.django
    chain = set(django.chain) if django is not None else set()
    for e in inv.entries:
        # a size matters only as empty or over max-file-size; otherwise content decides
        size = e.size if e.size == 0 or e.size > max_size else "-"
        line = f"{e.rel}\0{e.kind}\0{e.mode}\0{e.uid}\0{e.gid}\0{size}\0{e.content}\0{e.tracked}\0{e.link_target}"
        if e.kind == "file" and reads(e.rel):
            whole = not by_content or e.rel in chain
            line += f"\0{inv.digest(e, max_size) if whole else _content_digest(audit, inv, e, max_size)}"
        elif e.kind == "symlink":  # where it leads, and whether it does, is outside the tree
            path = inv.path_of(e)
            line += f"\0{os.path.realpath(path)}\0{os.path.exists(path)}"
        h.update(line.encode("utf-8", "surrogateescape") + b"\n")
    return ctx.cache.key("audit", audit.name, h.hexdigest())


def _content_digest(audit: Audit, inv, entry, max_size: int) -> str:
    digest, probes = inv.facts(entry, max_size)
    if digest is None:
        return "unread"  # why (size, mode, kind) is in the entry's metadata
    return digest if audit.name in probes else "ignored"


def register_probes(inventory, audits: list[Audit]) -> None:
    """Each audit's content test joins the inventory's one read of each file."""
    for audit in audits:
        if type(audit).memo_relevant is not Audit.memo_relevant:
            inventory.probes[audit.name] = audit.memo_relevant


def recall(ctx: AuditContext, key: str) -> AuditOutput | None:
    stored = ctx.cache.get_many([key]).get(key)
    if stored is None:
        return None
    try:
        findings = [Finding.from_record(f) for f in stored["findings"]]
        coverage = Coverage.from_record(stored["coverage"])
        stats = {str(k): int(v) for k, v in stored["stats"].items()}
        note = str(stored["note"])
    except (TypeError, KeyError, ValueError, AttributeError):
        ctx.cache.stats.ignored += 1
        return None
    ctx.stats.update(stats)
    ctx.stats["from_cache"] = 1
    ctx.note = note
    return AuditOutput(findings, coverage)


def keep(ctx: AuditContext, key: str, output: AuditOutput) -> None:
    record: dict[str, Any] = {
        "findings": [f.to_record() for f in output.findings],
        "coverage": output.coverage.to_record(),
        "stats": {k: v for k, v in ctx.stats.items() if k != "worker_process"},  # how, not what
        "note": ctx.note,
    }
    ctx.cache.put_many({key: record})
