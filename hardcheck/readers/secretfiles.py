"""Which files hold credentials by their name: shared by the permissions audit (modes)
and the secrets audit (committed or not ignored). gitignore-style patterns."""

from __future__ import annotations

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
