"""The JSON report: `Report.to_dict()`, validated by `schema.json` in the tests."""

from __future__ import annotations

import json

from . import RenderOptions
from .model import Report


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"
