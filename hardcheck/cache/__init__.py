"""Content-addressed cache of per-file engine results and whole-audit results.

An entry's key is a hash of everything its result depends on: hardcheck's version, the
engine's version, the audit's settings, the fingerprint key the ids were made with, and
the file's path and content digest (or, for a whole audit, the digests of every input).
A rerun on an unchanged tree finds every entry; a changed file misses only its own.

The cache lives in the user cache directory (platformdirs; `--cache-dir` or
HARDCHECK_CACHE_DIR to move it), never inside an audited tree. Entries are JSON, never
pickle (an entry is data, not code), stored in one SQLite file so concurrent runs share it
safely. Each entry carries an HMAC under a key derived from the fingerprint key: one this
user did not write (copied from another machine, restored from a CI cache a pull request
could fill, corrupted on disk) fails the check, is counted as ignored, and is rewritten.
Entries hold what reports hold (keyed ids, redacted texts), never a secret value.

Every failure (read-only directory, full disk, corrupt database) turns the cache off for
the run with a note; the audit goes on uncached.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import stat
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__

ENV_VAR = "HARDCHECK_CACHE_DIR"
NO_CACHE_ENV = "HARDCHECK_NO_CACHE"
NO_CACHE_NOTE = f"cache off by request (--no-cache or {NO_CACHE_ENV})"
DB_NAME = "results-v1.sqlite"
MAX_ENTRIES = 500_000  # beyond this, the oldest quarter is dropped
_BATCH = 500  # SQLite's default limit on bound parameters is 999


def default_dir() -> Path:
    configured = os.environ.get(ENV_VAR)
    if configured:
        return Path(configured)
    import platformdirs

    return Path(platformdirs.user_cache_dir("hardcheck", appauthor=False))


def digest_bytes(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def namespace(*parts: Any) -> str:
    """A digest of an audit's settings (JSON-able parts) and hardcheck's version."""
    text = json.dumps([__version__, *parts], sort_keys=True, default=str)
    return digest_bytes(text.encode())


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    written: int = 0
    ignored: int = 0  # entries that failed the integrity check or did not decode
    unchanged: int = 0  # files taken as unchanged by their stamp, not read again


@dataclass
class ResultCache:
    """`path` None: the cache is off (`--no-cache`, or unusable); `note` says why."""

    path: Path | None
    mac_key: bytes = b""
    note: str = ""
    read_only: bool = False
    stats: CacheStats = field(default_factory=CacheStats)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def enabled(self) -> bool:
        return self.path is not None

    def key(self, space: str, *parts: str) -> str:
        return digest_bytes("\0".join((space, *parts)).encode("utf-8", "surrogateescape"))

    def _mac(self, key: str, value: bytes) -> bytes:
        return hmac.new(self.mac_key, key.encode() + b"\0" + value, hashlib.sha256).digest()

    def _disable(self, why: str) -> None:
        with self._lock:
            if self.path is not None:
                self.note = f"cache off for this run: {why}"
                self.path = None

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        conn = sqlite3.connect(self.path / DB_NAME, timeout=15)
        conn.execute(
            "CREATE TABLE IF NOT EXISTS entries (key TEXT PRIMARY KEY, value BLOB, mac BLOB)"
        )
        return conn

    def get_many(self, keys: Iterable[str], *, count: bool = True) -> dict[str, Any]:
        """The decoded values of the keys found and intact. `count` False: not a result
        (the inventory's file facts), left out of hits and misses."""
        keys = list(keys)
        if not self.enabled or not keys:
            with self._lock:
                self.stats.misses += len(keys) if count else 0
            return {}
        found: dict[str, Any] = {}
        try:
            conn = self._connect()
            try:
                for i in range(0, len(keys), _BATCH):
                    batch = keys[i : i + _BATCH]
                    marks = ",".join("?" * len(batch))
                    rows = conn.execute(
                        f"SELECT key, value, mac FROM entries WHERE key IN ({marks})",
                        batch,
                    )
                    for key, value, mac in rows:
                        found[key] = self._decode(key, value, mac)
            finally:
                conn.close()
        except sqlite3.Error as exc:
            self._recover(exc)
            found = {}
        found = {k: v for k, v in found.items() if v is not None}
        if count:
            with self._lock:
                self.stats.hits += len(found)
                self.stats.misses += len(keys) - len(found)
        return found

    def _decode(self, key: str, value: Any, mac: Any) -> Any:
        if not isinstance(value, bytes) or not isinstance(mac, bytes):
            self.stats.ignored += 1
            return None
        if not hmac.compare_digest(self._mac(key, value), mac):
            self.stats.ignored += 1
            return None
        try:
            return json.loads(value)
        except ValueError:
            self.stats.ignored += 1
            return None

    def put_many(self, items: dict[str, Any], *, count: bool = True) -> None:
        if not self.enabled or self.read_only or not items:
            return
        rows = []
        for key, value in items.items():
            data = json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogateescape")
            rows.append((key, data, self._mac(key, data)))
        try:
            conn = self._connect()
            try:
                with conn:
                    conn.executemany("INSERT OR REPLACE INTO entries VALUES (?, ?, ?)", rows)
                    (total,) = conn.execute("SELECT count(*) FROM entries").fetchone()
                    if total > MAX_ENTRIES:
                        conn.execute(
                            "DELETE FROM entries WHERE rowid IN "
                            "(SELECT rowid FROM entries ORDER BY rowid LIMIT ?)",
                            (total // 4,),
                        )
            finally:
                conn.close()
            with self._lock:
                self.stats.written += len(rows) if count else 0
        except sqlite3.Error as exc:
            self._recover(exc)

    def _recover(self, exc: sqlite3.Error) -> None:
        """A database that is not one (truncated, overwritten) is removed so the next run
        starts a fresh one; anything else (read-only, locked, full) just turns it off."""
        text = str(exc)
        if isinstance(exc, sqlite3.DatabaseError) and "not a database" in text and self.path:
            try:
                os.unlink(self.path / DB_NAME)
                text += " (removed; the next run rebuilds it)"
            except OSError:
                pass
        self._disable(text)

    def describe(self) -> dict[str, Any]:
        return {
            "enabled": self.enabled,
            "dir": str(self.path) if self.path else None,
            "hits": self.stats.hits,
            "misses": self.stats.misses,
            "written": self.stats.written,
            "ignored": self.stats.ignored,
            "unchanged": self.stats.unchanged,
            "note": self.note,
        }


def _inside(path: Path, root: Path) -> bool:
    try:
        path.resolve().relative_to(root.resolve())
        return True
    except ValueError:
        return False


def open_cache(directory: Path | None, target: Path) -> ResultCache:
    """The cache for auditing `target`, or an off one with the reason."""
    from ..redact import fingerprint_key_why

    path = directory or default_dir()
    if _inside(path, target):
        return ResultCache(None, note=f"cache off: {path} is inside the audited tree")
    key, source, why = fingerprint_key_why()
    if source == "this run only":
        return ResultCache(
            None, note=f"cache off: no lasting fingerprint key to sign entries with ({why})"
        )
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = path.stat()
    except OSError as exc:
        return ResultCache(None, note=f"cache off: cannot create {path}: {exc.strerror}")
    if st.st_uid != os.geteuid() or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return ResultCache(
            None, note=f"cache off: {path} is writable by others or not owned by this user"
        )
    mac_key = hmac.new(key, b"hardcheck result cache v1", hashlib.sha256).digest()
    if not os.access(path, os.W_OK):
        note = f"cache read-only: {path} is not writable; new results are not kept"
        return ResultCache(path, mac_key=mac_key, note=note, read_only=True)
    return ResultCache(path, mac_key=mac_key)


def clear(directory: Path | None = None) -> tuple[Path, int]:
    """Remove the cache database; (where, entries it held)."""
    path = directory or default_dir()
    db = path / DB_NAME
    count = 0
    if db.exists():
        try:
            conn = sqlite3.connect(db, timeout=15)
            try:
                (count,) = conn.execute("SELECT count(*) FROM entries").fetchone()
            finally:
                conn.close()
        except sqlite3.Error:
            count = 0
        for suffix in ("", "-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{db}{suffix}")
    return path, count
