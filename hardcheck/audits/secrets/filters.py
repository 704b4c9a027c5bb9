"""detect-secrets filters hardcheck adds: placeholders and key headers without a key.

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


def is_keyless_private_key(plugin, context) -> bool:
    """A `-----BEGIN … PRIVATE KEY-----` header with no key material after it (docs, tests)."""
    if type(plugin).__name__ != "PrivateKeyDetector":
        return False
    lines = list(context.lines)
    target = context.target_index
    after = lines[target:]
    return not any(_KEY_BODY.search(line) for line in after)
