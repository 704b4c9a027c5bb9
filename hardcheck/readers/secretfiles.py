"""Which files hold credentials by their name: shared by the permissions audit (modes)
and the secrets audit (committed or not ignored). gitignore-style patterns."""

from __future__ import annotations

import os
from fnmatch import fnmatchcase

from ..inventory import Entry, Inventory, ReadSkipped, read_path

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
SQLITE_MAGIC = b"SQLite format 3\0"


def not_a_database(inventory: Inventory, entry: Entry) -> bool:
    """A file named `*.db` that holds text, not a database (SQLite's header, or binary
    data: Berkeley DB, dbm). An empty or unreadable one is taken for a database."""
    name = os.path.basename(entry.rel)
    if not any(fnmatchcase(name, pattern) for pattern in AMBIGUOUS_DATABASE_PATTERNS):
        return False
    try:
        head = read_path(os.path.join(inventory.root, entry.rel), 512, head=True)
    except ReadSkipped:
        return False
    return bool(head) and not head.startswith(SQLITE_MAGIC) and b"\0" not in head
