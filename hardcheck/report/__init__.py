"""Renderers of the one report object, by format name."""

from __future__ import annotations

from pathlib import Path

SCHEMA_PATH = Path(__file__).with_name("schema.json")
FORMATS = ("console", "json", "sarif", "junit", "markdown", "openmetrics", "html")


def schema_text() -> str:
    return SCHEMA_PATH.read_text(encoding="utf-8")
