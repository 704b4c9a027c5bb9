"""The rule catalogue: loads, validates, and every rule's examples hold for its audit."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from pathlib import Path

import pytest
import trustme

import hardcheck
from hardcheck.catalogue import CatalogueError, load_catalogue, load_catalogue_from
from tests.conftest import IS_ROOT, make_tree, run_cli
from tests.exampleserver import ExampleServer, ca_file

CATALOGUE = load_catalogue()
EXAMPLES = [
    pytest.param(rule, i, ex, id=f"{rule.id}-{i}-{ex.expect}")
    for rule in CATALOGUE
    for i, ex in enumerate(rule.examples)
]


def test_catalogue_has_every_field_filled():
    assert len(CATALOGUE) >= 17
    for rule in CATALOGUE:
        for field in ("title", "owner", "expected", "rollback", "rationale", "bypass"):
            assert getattr(rule, field).strip(), (rule.id, field)
        assert rule.references, rule.id
        assert rule.examples or rule.no_examples, rule.id


@pytest.fixture(scope="module")
def example_ca():
    return trustme.CA()


@pytest.mark.parametrize(("rule", "index", "example"), EXAMPLES)
def test_rule_example(rule, index, example, tmp_path, example_ca):
    """Each example tree is built on disk and audited (a live rule's example response is
    served on 127.0.0.1 and fetched); the rule must report `expect`."""
    root = make_tree(
        tmp_path / "tree",
        dict(example.files),
        dict(example.modes),
        dict(example.links),
    )
    audits = [] if rule.audit == "core" else [rule.audit]
    with contextlib.ExitStack() as stack:
        urls: list[str] = []
        options: dict = {}
        if example.response is not None:
            server = stack.enter_context(ExampleServer(example.response, example_ca))
            urls = [server.url]
            options["headers"] = {"profile": example.profile or "default", "timeout": 5}
            if example.response.trusted:
                options["headers"]["ca-file"] = ca_file(example_ca, tmp_path)
        report = hardcheck.audit(
            root,
            only=audits,
            environment=example.environment,
            today=dt.date(2026, 1, 1),
            urls=urls,
            options=options,
            cache=False,
        )
    mine = [f for f in report.findings if f.rule_id == rule.id]
    statuses = {f.status.value for f in mine}
    if example.expect == "pass" and rule.audit == "core":
        # hardcheck's own rules (config, unreadable inputs) pass by saying nothing
        assert not statuses, [f.message for f in mine]
    elif example.expect == "pass":
        # an audit's rule must have looked and passed: a skip is no pass
        assert statuses == {"pass"}, (statuses, [f.message for f in mine])
    else:
        assert example.expect in statuses, (statuses, [f.message for f in mine])


def _write_rule(directory: Path, text: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "x.toml").write_text(text)
    return directory


RULE = """
[[rule]]
id = "{id}"
name = "{name}"
audit = "permissions"
title = "t"
severity = "high"
owner = "o"
expected = "e"
rollback = "r"
rationale = "why"
bypass = "b"
references = ["CWE-1"]
no-examples = "test"
"""


def test_catalogue_rejects_duplicate_ids(tmp_path):
    d = _write_rule(
        tmp_path / "r", RULE.format(id="ABC001", name="a") + RULE.format(id="ABC001", name="b")
    )
    with pytest.raises(CatalogueError, match="duplicate rule id ABC001"):
        load_catalogue_from(d)


def test_catalogue_rejects_missing_field(tmp_path):
    d = _write_rule(tmp_path / "r", RULE.format(id="ABC001", name="a").replace('owner = "o"\n', ""))
    with pytest.raises(CatalogueError, match=r"missing field\(s\) \['owner'\]"):
        load_catalogue_from(d)


def test_catalogue_rejects_unknown_field_and_bad_id(tmp_path):
    d = _write_rule(tmp_path / "r", RULE.format(id="ABC001", name="a") + 'colour = "red"\n')
    with pytest.raises(CatalogueError, match="unknown field"):
        load_catalogue_from(d)
    d = _write_rule(tmp_path / "s", RULE.format(id="abc1", name="a"))
    with pytest.raises(CatalogueError, match="area prefix"):
        load_catalogue_from(d)


def test_catalogue_requires_examples_or_a_reason(tmp_path):
    d = _write_rule(
        tmp_path / "r", RULE.format(id="ABC001", name="a").replace('no-examples = "test"\n', "")
    )
    with pytest.raises(CatalogueError, match="needs a passing example"):
        load_catalogue_from(d)


def test_rules_command_lists_whole_catalogue_as_json():
    run = run_cli("rules", "--format", "json")
    assert run.code == 0
    ids = [r["id"] for r in run.json()]
    assert ids == sorted(r.id for r in CATALOGUE)
    assert all(r["owner"] and r["expected"] and r["rollback"] for r in run.json())


def test_rules_table_and_explain():
    table = run_cli("rules")
    assert table.code == 0 and "PRM002" in table.stdout and "secret-file-readable" in table.stdout
    explain = run_cli("explain", "prm002")
    assert explain.code == 0
    for heading in ("Why it matters:", "Expected (passing) state:", "Rollback", "References:"):
        assert heading in explain.stdout
    assert "Example that should FAIL" in explain.stdout
    by_name = run_cli("explain", "secret-file-readable")
    assert by_name.stdout == explain.stdout


def test_explain_unknown_rule_suggests():
    run = run_cli("explain", "PRM02")
    assert run.code == 2
    assert "no rule 'PRM02'" in run.stderr and "did you mean" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.skipif(not IS_ROOT, reason="PRM006 needs a file owned by another uid (root only)")
def test_foreign_owner(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n", "mine.py": "y = 2\n"})
    os.chown(root / "app.py", 65534, 65534)
    report = hardcheck.audit(root, only=["permissions"])
    hits = [f for f in report.findings if f.rule_id == "PRM006" and f.status.value == "fail"]
    assert [f.location.path for f in hits] == ["app.py"]
    assert hits[0].severity.value == "info"
    assert report.exit_code == 0  # info never fails the run at the default --fail-on


def test_every_rule_id_the_code_names_is_in_the_catalogue():
    """An unknown rule id would fail only when that finding is made: catch it here."""
    package = Path(hardcheck.__file__).parent
    named: dict[str, str] = {}
    for path in package.rglob("*.py"):
        for rule_id in re.findall(r"[\"']([A-Z]{3}[0-9]{3})[\"']", path.read_text()):
            named.setdefault(rule_id, str(path.relative_to(package)))
    assert len(named) >= 70
    unknown = {rid: where for rid, where in named.items() if rid not in CATALOGUE}
    assert unknown == {}
