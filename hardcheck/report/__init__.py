"""Renderers of the one report object, by format name.

Every format is a module with `render(report, options) -> str` (the `Renderer`
protocol); the console module also draws the same checklist on a terminal stream.
Modules are imported only when their format is asked for.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ..model import Finding, Status

if TYPE_CHECKING:
    from .model import Report

SCHEMA_PATH = Path(__file__).with_name("schema.json")
FLEET_SCHEMA_PATH = Path(__file__).with_name("fleet_schema.json")
FORMATS = (
    "console", "json", "sarif", "junit", "markdown", "openmetrics", "html",
    "codequality", "gitlab-sast",
)  # fmt: skip
_MODULES = {n: n.replace("-", "_") for n in FORMATS} | {"json": "json_report"}


@dataclass(frozen=True)
class RenderOptions:
    history: Sequence[Mapping[str, Any]] = ()  # earlier JSON reports: the HTML score trend
    color: bool | None = None  # console: None colours a terminal only
    quiet: bool = False  # console: failures, errors and the summary only
    verbose: bool = False  # console: every item by audit, with timings and what each read
    # console, Markdown, HTML: show only failures of these severities (None: all)
    severities: frozenset[str] | None = None
    # OpenMetrics: labels on every series (--label NAME=VALUE); `target` replaces the
    # audited path, `service` the tree's service names
    labels: Mapping[str, str] = field(default_factory=dict)

    def shown(self, findings: Sequence[Finding]) -> list[Finding]:
        """The findings a human display lists: --severity hides failures of the others."""
        if self.severities is None:
            return list(findings)
        return [
            f
            for f in findings
            if f.status is not Status.FAIL or f.severity.value in self.severities
        ]


class Renderer(Protocol):
    def __call__(self, report: Report, options: RenderOptions) -> str: ...


def renderer(name: str) -> Renderer:
    module = importlib.import_module(f".{_MODULES[name]}", __name__)
    render: Renderer = module.render
    return render


def render_text(name: str, report: Report, options: RenderOptions | None = None) -> str:
    """The report in format `name` (console included, as plain text)."""
    return renderer(name)(report, options or RenderOptions())


def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")
