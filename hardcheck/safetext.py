"""Make strings that came from the audited target safe to show.

File names, setting values and header values are attacker-controlled: they may carry
ANSI escape sequences, other control characters, bidi overrides or undecodable bytes
(kept by Python as lone surrogates). `safe()` replaces each such character with a
visible escape so nothing can rewrite a terminal or break a report format.
"""

from __future__ import annotations

import os
import re

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufeff]"
)


def _escape(match: re.Match) -> str:
    ch = match.group(0)
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, smuggled by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}"


def safe(text: str) -> str:
    return _UNSAFE.sub(_escape, text)


def display_path(path: str) -> str:
    """A relative path as shown in reports: POSIX separators, escaped."""
    return safe(path.replace(os.sep, "/"))


# scheme://[userinfo@]host…: what a URL looks like inside any text hardcheck shows
_URL = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s'\"<>`]+)")
_SECRET_PARAM = re.compile(
    r"(?i)(token|secret|passw(or)?d|pwd|key|signature|sig|auth|session|credential|code)"
)
REDACTED = "REDACTED"


def _redact_one(match: re.Match) -> str:
    scheme, rest = match.group(1), match.group(2)
    # userinfo: everything before the last "@" of the authority (user:password@host)
    authority, sep, tail = rest.partition("/")
    if "@" in authority:
        authority = f"{REDACTED}@{authority.rsplit('@', 1)[1]}"
    rest = authority + sep + tail
    if "?" in rest:
        before, _, query = rest.partition("?")
        fragment = ""
        if "#" in query:
            query, fragment = query.split("#", 1)
            fragment = "#" + fragment
        params = []
        for part in query.split("&"):
            name, eq, _ = part.partition("=")
            params.append(f"{name}={REDACTED}" if eq and _SECRET_PARAM.search(name) else part)
        rest = f"{before}?{'&'.join(params)}{fragment}"
    return scheme + rest


def redact_urls(text: str) -> str:
    """Credentials in any URL of `text` replaced: userinfo (`user:pw@`) and the values of
    query parameters whose names say they are secret (token, key, password, sig…). The URL
    hardcheck fetches is the user's own; only what is shown is redacted."""
    return _URL.sub(_redact_one, text) if "://" in text else text
