"""Redaction: how a secret is named in a report without being shown.

A secret is identified by a keyed hash (HMAC-SHA256) of its value, of which only a short
prefix is shown. Unlike the unsalted SHA-1 detect-secrets stores, it cannot be reversed by
hashing guesses without the key. The key comes from HARDCHECK_FINGERPRINT_KEY (set it
from a CI secret so ids stay stable across machines), else from a key file created once
with mode 0600 in the user's data directory, else a key that lives for this run only.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from .inventory import ReadSkipped, read_path

ENV_VAR = "HARDCHECK_FINGERPRINT_KEY"
ID_LENGTH = 12


def _key_file() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "hardcheck" / "fingerprint.key"


def _untrusted(path: Path) -> str | None:
    """Why a key file (or its directory) cannot be trusted: anyone who can write the key
    can forge cache entries signed with it. None when it is this user's, private."""
    for item, what in ((path.parent, "its directory"), (path, "the key file")):
        st = os.lstat(item)
        if item is path and not stat.S_ISREG(st.st_mode):
            return f"{path} is not a regular file"
        if st.st_uid != os.geteuid():
            return f"{what} ({item}) is not owned by this user"
        if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{what} ({item}) is writable by others"
    if os.lstat(path).st_mode & (stat.S_IRGRP | stat.S_IROTH):
        return f"the key file ({path}) is readable by others"
    return None


def fingerprint_key() -> tuple[bytes, str]:
    """The key, and where it came from ("environment", "key file" or "this run only")."""
    key, source, _ = fingerprint_key_why()
    return key, source


def fingerprint_key_why(attempts: int = 2) -> tuple[bytes, str, str]:
    """As fingerprint_key, with the reason when the key lives for this run only."""
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return hashlib.sha256(from_env.encode()).digest(), "environment", ""
    path = _key_file()
    key = secrets.token_bytes(32)
    try:
        why = _untrusted(path)
    except FileNotFoundError:
        why = None
    except OSError as exc:
        return key, "this run only", f"{path}: {exc.strerror or exc}"
    if why:
        return key, "this run only", why
    if path.exists():
        try:
            data = read_path(path, 4096)
        except ReadSkipped as exc:
            return key, "this run only", f"{path}: {exc}"
        if len(data) >= 32:
            return data[:32], "key file", ""
        return key, "this run only", f"{path} holds no 32-byte key"
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key, "key file", ""
    except FileExistsError:  # another process created it first: use theirs, once
        if attempts > 1:
            return fingerprint_key_why(attempts - 1)
        return key, "this run only", f"{path} appeared but could not be read"
    except OSError as exc:
        return key, "this run only", f"{path}: {exc.strerror or exc}"


def keyed_id(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[
        :ID_LENGTH
    ]
