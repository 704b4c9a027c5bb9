"""hardcheck: a security-hardening audit for Python web services.

    import hardcheck
    report = hardcheck.audit("path/to/service")
    report.exit_code, report.findings

Kept import-light: the pipeline and the engines load only when `audit` is used.
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["__version__", "audit"]


def __getattr__(name: str) -> object:  # typing is not imported: --version stays fast
    if name == "audit":
        from .api import audit

        return audit
    raise AttributeError(name)
