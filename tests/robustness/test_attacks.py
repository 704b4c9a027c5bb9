"""#18's attacks, one regression test each: what a hostile tree, environment or careless
user did to hardcheck, and what it must do instead."""

from __future__ import annotations

import json
import time

import hardcheck
from tests.conftest import make_tree
from tests.robustness.conftest import STATS


def test_an_nginx_include_is_held_to_max_file_size(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"nginx.conf": "events {}\nhttp {\n    include big.conf;\n    server { listen 80; }\n}\n"},
    )
    with open(root / "big.conf", "wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # 100 MB, sparse: nothing is read if the size is checked
    t0 = time.monotonic()
    report = hardcheck.audit(root, only=["headers", "uploads", "logging"], cache=False)
    assert time.monotonic() - t0 < 10
    errors = [f for f in report.findings if f.status.value == "error"]
    assert errors and all("big.conf" in f.message for f in errors), [f.message for f in errors]
    assert any("larger than max-file-size" in f.message for f in errors)
    STATS["trees"] += 1
