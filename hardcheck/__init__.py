"""hardcheck: a security-hardening audit for Python web services.

    import hardcheck
    report = hardcheck.audit("path/to/service")
    report.exit_code, report.findings

Kept import-light: the pipeline and the engines load only when `audit` is used.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = [
    "ConfigError",
    "Finding",
    "Location",
    "Report",
    "Severity",
    "Status",
    "__version__",
    "audit",
]

# Type checkers see the names (mypy takes any `TYPE_CHECKING` for true); at run time they
# load on first use, so `hardcheck --version` does not import the typing module or the pipeline.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from .api import audit
    from .config import ConfigError
    from .model import Finding, Location, Severity, Status
    from .report.model import Report

_LAZY = {
    "audit": "api",
    "ConfigError": "config",
    "Finding": "model",
    "Location": "model",
    "Severity": "model",
    "Status": "model",
    "Report": "report.model",
}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(name)
