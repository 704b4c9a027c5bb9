"""Which files of a tree are application settings, and which are for development only:
shared by the audits that read settings modules."""

from __future__ import annotations

import os

DEFAULT_DEVELOPMENT_PATHS = (
    "**/settings/dev*.py",
    "**/settings/local*.py",
    "**/settings/test*.py",
    "**/*_dev.py",
    "**/*_local.py",
    "**/dev_settings.py",
    "**/test_settings.py",
    "tests/**",
    "**/tests/**",
)


def settings_like_path(rel: str) -> bool:
    """settings.py, config.py, conf*.py, anything under a settings/ package."""
    base = os.path.basename(rel)
    return base.startswith(("settings", "config", "conf")) or "/settings/" in f"/{rel}"
