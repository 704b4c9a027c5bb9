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
