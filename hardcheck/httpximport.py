"""Importing httpx without its command-line client.

httpx's package `__init__` imports `httpx._main` (its CLI: rich, pygments) only to
offer `httpx` as a command, and falls back to a stub `main` when that import fails, as
it does where those optional packages are missing. hardcheck never runs httpx's CLI, and
that import was about 50 ms of every headers run's fixed cost (its start-up against one
URL). `without_cli()` makes httpx take its own fallback: a placeholder module stands in
for `httpx._main` while httpx is first imported, then is removed.
"""

from __future__ import annotations

import sys
import types

_PLACEHOLDER = "httpx._main"


def without_cli() -> None:
    """Call before the first `import httpx` of the process; harmless after it."""
    if "httpx" in sys.modules or _PLACEHOLDER in sys.modules:
        return
    sys.modules[_PLACEHOLDER] = types.ModuleType(_PLACEHOLDER)  # no `main`: ImportError
    try:
        import httpx  # noqa: F401
    finally:
        if isinstance(sys.modules.get(_PLACEHOLDER), types.ModuleType) and not hasattr(
            sys.modules[_PLACEHOLDER], "main"
        ):
            del sys.modules[_PLACEHOLDER]
