"""tomllib on 3.11+, tomli before."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    import tomllib as toml
else:  # pragma: no cover - exercised on 3.9/3.10 only
    import tomli as toml

TOMLDecodeError = toml.TOMLDecodeError
loads = toml.loads

__all__ = ["TOMLDecodeError", "loads"]
