"""Renderers of the one report object, by format name."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import Report

SCHEMA_PATH = Path(__file__).with_name("schema.json")
FORMATS = ("console", "json", "sarif", "junit", "markdown", "openmetrics", "html")
# the text formats' modules, imported only when asked for (the console one draws on a stream)
_MODULES = {"json": "json_report", **{n: n for n in FORMATS if n not in ("console", "json")}}


def render_text(name: str, report: Report, history: Sequence[dict] = ()) -> str:
    """The report in a text format (not "console"); `history`: earlier reports, for html."""
    module = importlib.import_module(f".{_MODULES[name]}", __name__)
    return module.render(report, history) if name == "html" else module.render(report)


def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")
