"""Which files hold credentials by their name: shared by the permissions audit (modes)
and the secrets audit (committed or not ignored). gitignore-style patterns."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

from ..inventory import Entry, Inventory, ReadSkipped, is_binary, read_bytes

# Files whose contents are credentials or personal data. gitignore-style patterns.
SECRET_FILE_PATTERNS = (
    ".env",
    ".env.*",
    "*.env",
    "*.pem",
    "*.key",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.kdbx",
    "credentials*.json",
    "service-account*.json",
    "*.sqlite3",
    "*.sqlite",
    "*.db",
    ".netrc",
    ".pgpass",
    ".htpasswd",
    "htpasswd",
    ".git-credentials",
    ".pypirc",
    ".npmrc",
    ".dockercfg",
    "*.tfstate",
    "*.tfstate.backup",
    "*.ovpn",
    "secrets.yaml",
    "secrets.yml",
    "secrets.json",
    "secrets.toml",
)
# Templates and public halves that hold no secret.
NOT_SECRET_PATTERNS = (
    "*.pub",
    ".env.example",
    ".env.sample",
    ".env.template",
    ".env.dist",
    "*.env.example",
)

# A name ending in `.db` is also a variant of another file (`Dockerfile.db`, the Dockerfile
# of a compose service called db): such a file is a database only if it holds one.
# `.sqlite`/`.sqlite3` name nothing else, and an empty file is where a database will be.
AMBIGUOUS_DATABASE_PATTERNS = ("*.db",)


def not_a_database(inventory: Inventory, entry: Entry, max_size: int) -> bool:
    """A file named `*.db` that holds text, not a database (SQLite, Berkeley DB and dbm
    files are binary). An empty, unreadable or too large one is taken for a database.
    Read here, not through the inventory's probes: a worker process has none."""
    name = os.path.basename(entry.rel)
    if entry.size == 0 or not any(fnmatchcase(name, p) for p in AMBIGUOUS_DATABASE_PATTERNS):
        return False
    try:
        return not is_binary(read_bytes(inventory, entry, max_size))
    except ReadSkipped:
        return False
