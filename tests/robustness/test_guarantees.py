"""The two guarantees, asserted together over every audit and every output format in one
run: the audited tree is not changed, and no planted secret value appears in stdout,
stderr or any report file."""

from __future__ import annotations

import json

from hardcheck import audits
from hardcheck.report import FORMATS
from tests.conftest import copy_sample, run_cli, tree_digest
from tests.robustness.conftest import STATS
from tests.test_secrets import PLANTED, SOURCE


def test_read_only_and_no_leak_everywhere(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    (root / "app" / "keys.py").write_text(SOURCE)
    (root / ".env.staging").write_text(
        f"DB_PASSWORD={PLANTED['env_password']}\nSHORT_PASSWORD={PLANTED['short']}\n"
    )
    before = tree_digest(root)
    out = tmp_path / "out"
    out.mkdir()
    args = [a for fmt in FORMATS for a in ("--format", f"{fmt}:{out / ('r.' + fmt)}")]
    run = run_cli("audit", str(root), *args, "--format", "console", "--history", "5")
    assert len(FORMATS) >= 7  # every format: each to a file (console too), and the terminal
    STATS["faults"] += 0
    assert run.code == 1
    assert tree_digest(root) == before
    texts = [run.stdout, run.stderr, *((out / f"r.{fmt}").read_text() for fmt in FORMATS)]
    key_body = (root / "certs" / "server.key").read_text().splitlines()[1]
    for value in [*PLANTED.values(), key_body, "AKIAQ4R7T2LMN5XP8W3Z", "Zq8Rt2Lm9Vx4"]:
        for text in texts:
            assert value not in text, value
    ran = {a["name"] for a in json.loads((out / "r.json").read_text())["audits"]}
    assert ran == set(audits.available())  # every registered audit, whatever they are
