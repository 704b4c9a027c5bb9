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
from pathlib import Path

ENV_VAR = "HARDCHECK_FINGERPRINT_KEY"
ID_LENGTH = 12


def _key_file() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(
        os.path.expanduser("~"), ".local", "share"
    )
    return Path(base) / "hardcheck" / "fingerprint.key"


def fingerprint_key() -> tuple[bytes, str]:
    """The key, and where it came from ("environment", "key file" or "this run only")."""
    from_env = os.environ.get(ENV_VAR)
    if from_env:
        return hashlib.sha256(from_env.encode()).digest(), "environment"
    path = _key_file()
    try:
        data = path.read_bytes()
        if len(data) >= 32:
            return data[:32], "key file"
    except OSError:
        pass
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key, "key file"
    except FileExistsError:
        return fingerprint_key()  # another process created it first: use theirs
    except OSError:
        return key, "this run only"


def keyed_id(value: str, key: bytes) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogateescape"), hashlib.sha256).hexdigest()[
        :ID_LENGTH
    ]
