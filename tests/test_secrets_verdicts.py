"""#17: the secrets audit's verdicts on a corpus of cases that must be found and cases
that must not (tests/data/secrets/verdicts.json, written after the categories of
detect-secrets', gitleaks' and trufflehog's own test files). Each case is a tree of one
file, audited as a user would."""

from __future__ import annotations

import json
from pathlib import Path

import hardcheck
from tests.conftest import make_tree

CORPUS = json.loads((Path(__file__).parent / "data" / "secrets" / "verdicts.json").read_text())
MAX_MISSED = 1
MAX_FALSE_ALARMS = 2


def _flags(tmp_path: Path, case: dict) -> bool:
    root = make_tree(tmp_path / case["id"], {case["file"]: case["content"]})
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    return any(
        f.rule_id in ("SEC001", "SEC003") and f.status.value == "fail" for f in report.findings
    )


def test_secrets_corpus_meets_its_targets(tmp_path, capsys):
    must_find = [c for c in CORPUS["cases"] if c["expect"] == "find"]
    must_not = [c for c in CORPUS["cases"] if c["expect"] == "clean"]
    missed = [c["id"] for c in must_find if not _flags(tmp_path, c)]
    alarms = [c["id"] for c in must_not if _flags(tmp_path, c)]
    with capsys.disabled():
        print(
            f"\nsecrets corpus: {len(must_find) - len(missed)}/{len(must_find)} found, "
            f"{len(alarms)}/{len(must_not)} false alarms"
        )
    assert len(must_find) >= 30 and len(must_not) >= 40
    assert len(missed) <= MAX_MISSED, f"missed: {missed}"
    assert len(alarms) <= MAX_FALSE_ALARMS, f"false alarms: {alarms}"
