"""detect-secrets filters hardcheck adds: placeholders, key headers without a key, digests
and revision identifiers.

Loaded by detect-secrets by path (`file://…::function`); arguments are injected by name.
A truthy return drops the finding.
"""

import re

_PLACEHOLDER_WORDS = (
    "example",
    "placeholder",
    "changeme",
    "change_me",
    "change-me",
    "changethis",  # the full-stack FastAPI template's placeholder (its app refuses it)
    "change_this",
    "change-this",
    "dummy",
    "redacted",
    "your_",
    "your-",
    "<your",
    "xxxxxx",
    "******",
    "……",
    "...",
)
_TEMPLATE = re.compile(r"^(\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*|\{\{.*\}\}|<[^>]+>|%\([^)]+\)s)$")
_KEY_BODY = re.compile(r"[A-Za-z0-9+/=]{40,}")


def is_placeholder(secret: str) -> bool:
    """`AKIA…EXAMPLE`, `ghp_xxxx…`, `<your-key>`, `${API_KEY}`, `changeme`, `00000000`."""
    lower = secret.lower()
    if any(word in lower for word in _PLACEHOLDER_WORDS):
        return True
    if _TEMPLATE.match(secret.strip()):
        return True
    body = re.sub(r"^[a-z]{2,6}[_-](?:live_|test_)?", "", lower)  # drop ghp_, sk_live_ …
    return len(body) >= 6 and len(set(body)) <= 2


# A digest named by its algorithm: SRI `integrity="sha384-…"`, CSP `'sha256-…'`, pip's
# `--hash=sha256:…`, a wheel RECORD's `sha256=…`, lock files' `"sha512-…"`.
_DIGEST_NAME = r"(?:sha(?:1|224|256|384|512)|md5|blake2[bs](?:-?256)?)[-:=]"
_DIGEST_PREFIX = re.compile(rf"(?i){_DIGEST_NAME}$")  # just before the value
_DIGEST_VALUE = re.compile(rf"(?i)^{_DIGEST_NAME}")  # the value names its algorithm
# Version-control revisions and migration identifiers: Alembic's `revision = "9c0a5…"`,
# `down_revision`, `Revision ID:` / `Revises:` in its docstring, pre-commit's `rev:`.
_REVISION = re.compile(
    r"(?i)^\s*(?:-\s*)?[\"']?(?:(?:down_)?revision|rev|revision id|revises|depends_on|branch_labels)[\"']?\s*[:=]"
)


_HEX_ID = re.compile(r"[0-9a-fA-F]{7,64}")
_ENTROPY_PLUGINS = ("Base64HighEntropyString", "HexHighEntropyString")


def is_digest_or_revision(plugin, secret: str, line: str) -> bool:
    """A high-entropy string that is a hash named by its algorithm, or a hexadecimal
    revision identifier: public, not a secret. A token a named detector recognises (an AWS
    key on a `revision:` line) is still reported."""
    if type(plugin).__name__ not in _ENTROPY_PLUGINS:
        return False
    if _DIGEST_VALUE.match(secret):
        return True
    at = line.find(secret)
    if at > 0 and _DIGEST_PREFIX.search(line[max(0, at - 12) : at]):
        return True
    return bool(_REVISION.match(line)) and bool(_HEX_ID.fullmatch(secret))


def is_keyless_private_key(plugin, context) -> bool:
    """A `-----BEGIN … PRIVATE KEY-----` header with no key material after it (docs, tests)."""
    if type(plugin).__name__ != "PrivateKeyDetector":
        return False
    lines = list(context.lines)
    target = context.target_index
    after = lines[target:]
    return not any(_KEY_BODY.search(line) for line in after)
