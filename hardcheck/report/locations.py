"""Where a finding is, as CI code-quality and code-scanning UIs want it: relative to the
root of the git checkout holding the target (GitHub and GitLab resolve paths from the
repository root, so `hardcheck audit services/api` in a monorepo points at
`services/api/app.py`), with a line (1 for file-level findings); a URL finding at the
line of the config file that names the URL; a config finding at the config file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..model import Finding
from ..suppress import CORE
from .model import Report

MAX_CONFIG_CHARS = 1 << 20  # a config file is small; it was read whole already


@dataclass(frozen=True)
class Places:
    root: Path  # the checkout root, or the target outside git
    prefix: str  # the target relative to root: "" or "services/api/"
    config: str | None  # the config file relative to root, when it is inside
    url_lines: dict[str, int]  # URL -> the config line naming it

    @classmethod
    def of(cls, report: Report) -> Places:
        target = Path(report.target)
        root = checkout_root(target) or target
        rel = os.path.relpath(target, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        config, lines = _config_lines(report, root)
        urls = {f.location.url for f in report.findings if f.location.url}
        url_lines: dict[str, int] = {}
        for url in sorted(u for u in urls if u):
            number = next((n for n, text in enumerate(lines, 1) if url in text), None)
            if number is not None:
                url_lines[url] = number
        return cls(root, prefix, config, url_lines)

    def file_line(self, f: Finding) -> tuple[str, int] | None:
        """(path from the checkout root, line), or None when the finding has no file."""
        loc = f.location
        if loc.path:
            return self.prefix + loc.path, loc.line or 1
        if loc.url:
            line = self.url_lines.get(loc.url)
            return (self.config, line) if self.config and line else None
        if f.audit == CORE and self.config:  # a suppression or setting of the config
            return self.config, 1
        return None


def checkout_root(target: Path) -> Path | None:
    for directory in (target, *target.parents):
        if (directory / ".git").exists():
            return directory
    return None


def _config_lines(report: Report, root: Path) -> tuple[str | None, list[str]]:
    config = report.config.get("file")
    if not config:
        return None, []
    path = Path(config)
    try:
        rel = path.resolve().relative_to(root.resolve()).as_posix()
        with open(path, encoding="utf-8", errors="replace") as fh:
            return rel, fh.read(MAX_CONFIG_CHARS).splitlines()
    except (OSError, ValueError):
        return None, []  # outside the checkout, or gone
