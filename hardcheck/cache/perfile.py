"""Per-file engine results through the result cache: look every file up, scan only the
files without an intact entry, keep what the scan returns for next time."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..audits.base import AuditContext
from ..inventory import Entry

R = TypeVar("R")


def cached_per_file(
    ctx: AuditContext,
    files: Sequence[Entry],
    space: str,
    scan: Callable[[list[Entry]], list[tuple[str, str | None, R]]],
    encode: Callable[[R], Any],
    decode: Callable[[Any], R],
) -> list[R]:
    """Results for `files`, in their order. `scan` returns (rel, digest of the bytes the
    engine read or None, result) for the files it is given. A fresh result is kept only
    when the digest of what the engine read equals the digest the lookup used: a file
    that changed in between is scanned again next run, not filed under the wrong content."""
    cache = ctx.cache
    if not cache.enabled:
        fresh = {rel: result for rel, _, result in scan(list(files))}
        ctx.stats["cache_misses"] += len(files)
        return [fresh[e.rel] for e in files if e.rel in fresh]
    max_size = ctx.config.max_file_size
    keys: dict[str, str] = {}
    for entry in files:
        digest = ctx.inventory.digest(entry, max_size)
        if digest is not None:
            keys[entry.rel] = cache.key(space, entry.rel, digest)
    stored = cache.get_many(keys.values())
    by_rel: dict[str, R] = {}
    for rel, key in keys.items():
        if key in stored:
            try:
                by_rel[rel] = decode(stored[key])
            except (TypeError, KeyError, ValueError, AttributeError):
                cache.stats.ignored += 1  # intact but not our shape: rescanned, rewritten
    missing = [e for e in files if e.rel not in by_rel]
    ctx.stats["cache_hits"] += len(files) - len(missing)
    ctx.stats["cache_misses"] += len(missing)
    keep: dict[str, Any] = {}
    for rel, digest, result in scan(missing) if missing else []:
        by_rel[rel] = result
        entry_key = keys.get(rel)
        if digest is not None and entry_key == cache.key(space, rel, digest):
            keep[entry_key] = encode(result)
    cache.put_many(keep)
    return [by_rel[e.rel] for e in files if e.rel in by_rel]
