"""The JSON report: `Report.to_dict()`, validated by `schema.json` in the tests."""

from __future__ import annotations

import io
import json

from . import RenderOptions
from .model import Report


def render(report: Report, options: RenderOptions) -> str:
    # json.dump writes each piece as it is encoded; json.dumps with an indent keeps them all
    # in a list before joining: 15,000 findings made a million small strings (70 MB).
    out = io.StringIO()
    json.dump(report.to_dict(), out, indent=2, ensure_ascii=False)
    out.write("\n")
    return out.getvalue()
