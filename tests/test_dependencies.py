"""The dependencies audit: declarations, the offline OSV database (proven equal to
pip-audit against an OSV endpoint serving the same records), and no silent passes."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from packaging.version import Version

import hardcheck
from hardcheck.audits.dependencies.osv import in_range
from tests.conftest import SAMPLES, copy_sample, make_tree, run_cli
from tests.osv_server import OSVServer

VULNDB = SAMPLES / "vulndb"
PINS = [
    ("django", "3.2.0"),
    ("jinja2", "2.10"),
    ("urllib3", "1.24.1"),
    ("requests", "2.19.0"),
    ("pyyaml", "5.3"),
    ("flask", "0.12"),
    ("werkzeug", "0.15.0"),
    ("fastapi", "0.65.1"),
    ("starlette", "0.13.0"),
    ("uvicorn", "0.30.6"),  # no advisory: must stay clean in both
]


def _offline(root) -> dict[tuple[str, str], dict]:
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    out = {}
    for f in report.findings:
        if f.rule_id == "DEP001":
            name, _, rest = f.key.partition("@")
            version = rest.split(":")[0]
            out[(name, version, f.upstream_id)] = f
    return out


def test_offline_results_equal_pip_audit_against_an_osv_endpoint(tmp_path):
    reqs = "".join(f"{n}=={v}\n" for n, v in PINS)
    root = make_tree(tmp_path / "svc", {"requirements.txt": reqs})
    ours = _offline(root)
    out = tmp_path / "pip-audit.json"
    with OSVServer(VULNDB) as server:
        proc = subprocess.run(
            [
                sys.executable, "-m", "pip_audit", "-r", str(root / "requirements.txt"), "--no-deps",
                "--disable-pip", "-s", "osv", "--osv-url", server.url, "-f", "json", "-o", str(out),
                "--progress-spinner", "off", "--cache-dir", str(tmp_path / "cache"),
            ],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert len(server.queries) == len(PINS)
    assert proc.returncode == 1, proc.stderr  # vulnerabilities found
    theirs = {}
    for dep in json.loads(out.read_text())["dependencies"]:
        for v in dep.get("vulns", []):
            theirs[(dep["name"], dep["version"], v["id"])] = v
    assert len(theirs) >= 40
    assert set(ours) == set(theirs)
    for key, finding in ours.items():
        expected = theirs[key]
        for alias in expected["aliases"]:
            assert alias in finding.message
        # pip-audit lists every `fixed` of a range; the ones above the pinned version are
        # the upgrade targets, and those are exactly what hardcheck names
        version = Version(key[1])
        targets = sorted(
            {str(Version(x)) for x in expected["fix_versions"] if Version(x) > version}, key=Version
        )
        if targets:
            assert f"fixed in {', '.join(targets)}" in finding.message, (key, finding.message)


def test_pip_audit_engine_end_to_end(tmp_path):
    """Without a vuln-db, hardcheck runs pip-audit itself; against the same records it
    reports the same advisories as the offline database."""
    root = make_tree(tmp_path / "svc", {"requirements.txt": "jinja2==2.10\npyyaml==5.3\n"})
    with OSVServer(VULNDB) as server:
        (root / "hardcheck.toml").write_text(f'[dependencies]\nosv-url = "{server.url}"\n')
        report = hardcheck.audit(root, only=["dependencies"])
    online = {f.upstream_id for f in report.findings if f.rule_id == "DEP001"}
    (root / "hardcheck.toml").unlink()
    assert online == {key[2] for key in _offline(root)} and len(online) == 4
    assert "pip-audit" in report.audits[0].message


def test_no_network_and_no_database_is_an_error_never_a_pass(tmp_path):
    root = make_tree(tmp_path / "svc", {"requirements.txt": "jinja2==2.10\n"})
    run = run_cli("audit", str(root), "--only", "dependencies", "--format", "json")
    assert run.code == 3, run.stdout[-500:]
    report = run.json()
    (err,) = [f for f in report["findings"] if f["rule_id"] == "DEP003" and f["status"] == "error"]
    assert "could not be reached" in err["message"]
    assert report["audits"][0]["status"] == "error"


def test_declarations_includes_pyproject_poetry_and_locks(tmp_path):
    root = make_tree(
        tmp_path / "svc",
        {
            "requirements.txt": "-r requirements/base.txt\n-c constraints.txt\nrequests==2.19.0 \\\n    --hash=sha256:abc\n",
            "requirements/base.txt": "# base\njinja2==2.10  # old\n-r ../requirements.txt\n",
            "constraints.txt": "urllib3==1.24.1\n",
            "pyproject.toml": '[project]\nname = "svc"\ndependencies = ["pyyaml==5.3", "flask>=2"]\n[tool.poetry.dependencies]\npython = "^3.11"\nwerkzeug = "0.15.0"\nfastapi = { version = "^0.100" }\n',
            "poetry.lock": '[[package]]\nname = "flask"\nversion = "0.12"\n\n[[package]]\nname = "fastapi"\nversion = "0.65.1"\n',
            "uv.lock": 'version = 1\n[[package]]\nname = "starlette"\nversion = "0.13.0"\nsource = { registry = "https://pypi.org/simple" }\n',
            "pylock.toml": 'lock-version = "1.0"\n[[packages]]\nname = "Django"\nversion = "3.2.0"\n',
        },
    )
    found = {(k[0], k[1]) for k in _offline(root)}
    assert found == {
        ("requests", "2.19.0"), ("jinja2", "2.10"), ("urllib3", "1.24.1"), ("pyyaml", "5.3"),
        ("werkzeug", "0.15.0"), ("flask", "0.12"), ("fastapi", "0.65.1"), ("starlette", "0.13.0"), ("django", "3.2.0"),
    }  # fmt: skip
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    # ranges that a lock pins are not reported as unpinned; locations point at declarations
    assert not [f for f in report.findings if f.rule_id == "DEP002" and f.status.value == "fail"]
    jinja = next(f for f in report.findings if f.rule_id == "DEP001" and "jinja2" in f.key)
    assert (jinja.location.path, jinja.location.line) == ("requirements/base.txt", 2)


def test_unpinned_in_application_vs_library(tmp_path):
    app = make_tree(
        tmp_path / "app", {"requirements.txt": "flask>=2\nrequests==2.32.3\n", "manage.py": ""}
    )
    report = hardcheck.audit(
        app, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    (dep2,) = [f for f in report.findings if f.rule_id == "DEP002" and f.status.value == "fail"]
    assert dep2.severity.value == "low" and dep2.location.setting == "flask"
    lib = make_tree(
        tmp_path / "lib",
        {
            "pyproject.toml": '[project]\nname = "lib"\ndependencies = ["flask>=2", "requests==2.32.3"]\n'
        },
    )
    report = hardcheck.audit(
        lib, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    assert not [f for f in report.findings if f.rule_id == "DEP002" and f.status.value == "fail"]
    assert [f.status.value for f in report.findings if f.rule_id == "DEP003"] == ["skip"]


def test_prose_named_like_requirements_is_not_a_requirements_file(tmp_path):
    """Django ships docs/ref/models/constraints.txt (reStructuredText): it must not turn
    into hundreds of per-line errors; a real requirements file with bad lines is one error."""
    prose = "=====================\nConstraints\n=====================\n\nMeta\n" + "".join(
        f"The class number {i} is described here.\n" for i in range(10)
    )
    root = make_tree(
        tmp_path / "svc",
        {
            "docs/ref/constraints.txt": prose,
            "requirements.txt": "jinja2==2.10\nthis is not one\n<<<\n",
        },
    )
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    errors = [f for f in report.findings if f.status.value == "error" and f.rule_id == "RUN002"]
    # and the rules that read it cannot pass: each is one error naming the file
    partial = {f.rule_id for f in report.findings if f.status.value == "error"} - {"RUN002"}
    assert partial == {"DEP001", "DEP002", "DEP003"}
    assert [(f.location.path, f.message) for f in errors] == [
        (
            "requirements.txt",
            "could not audit requirements.txt: 2 line(s) are not requirements: line 2, 3",
        )
    ]
    (skip,) = [f for f in report.findings if f.key == "not-requirements"]
    assert (skip.status.value, skip.location.path) == ("skip", "docs/ref/constraints.txt")
    assert "12 of its lines are not requirements" in skip.message
    assert any(f.rule_id == "DEP001" and "jinja2" in f.key for f in report.findings)


def test_nothing_auditable_is_an_error(tmp_path):
    root = make_tree(
        tmp_path / "svc",
        {"requirements.txt": "-e .\ngit+https://example.invalid/x.git#egg=x\nflask\n"},
    )
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    statuses = sorted(f.status.value for f in report.findings if f.rule_id == "DEP003")
    assert statuses == ["error", "skip", "skip"]
    assert report.exit_code == 3


def test_cvss_sets_the_severity(tmp_path):
    record = (
        "id: PYSEC-0000-9\nmodified: 2024-05-01T00:00:00Z\npublished: 2024-05-01T00:00:00Z\n"
        "severity:\n- type: CVSS_V3\n  score: CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n"
        "affected:\n- package: {ecosystem: PyPI, name: demo-lib}\n  ranges:\n  - type: ECOSYSTEM\n"
        "    events: [{introduced: '0'}, {last_affected: 1.2.0}]\n"
    )
    root = make_tree(
        tmp_path / "svc",
        {"requirements.txt": "demo-lib==1.2.0\ndemo-lib2==1.0\n", "db/PYSEC-0000-9.yaml": record},
    )
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": root / "db"}}
    )
    (hit,) = [f for f in report.findings if f.rule_id == "DEP001"]
    assert hit.severity.value == "critical" and "CVSS 9.8" in hit.evidence
    assert "newest record 2024-05-01" in report.audits[0].message


@pytest.mark.parametrize(
    ("events", "version", "affected"),
    [
        ([{"introduced": "0"}, {"fixed": "1.2"}], "1.1.9", True),
        ([{"introduced": "0"}, {"fixed": "1.2"}], "1.2.0", False),
        (
            [{"introduced": "4.2"}, {"fixed": "4.2.3"}, {"introduced": "3.2"}, {"fixed": "3.2.20"}],
            "3.2.5",
            True,
        ),
        (
            [{"introduced": "4.2"}, {"fixed": "4.2.3"}, {"introduced": "3.2"}, {"fixed": "3.2.20"}],
            "4.0",
            False,
        ),
        ([{"introduced": "1.0"}, {"last_affected": "1.5"}], "1.5", True),
        ([{"introduced": "1.0"}, {"last_affected": "1.5"}], "1.5.1", False),
        ([{"introduced": "2.0"}], "9.9", True),
        ([{"introduced": "2.0"}], "1.9", False),
    ],
)
def test_osv_range_semantics(events, version, affected):
    assert in_range(events, Version(version)) is affected


def test_environment_deps(tmp_path):
    root = make_tree(tmp_path / "svc", {"README.md": "x\n"})
    report = hardcheck.audit(
        root,
        only=["dependencies"],
        options={"dependencies": {"vuln-db": VULNDB, "environment-deps": True}},
    )
    stats = report.audits[0].stats
    assert stats["declared"] > 20 and stats["pins_audited"] == stats["declared"]
    assert report.complete


def test_insecure_sample_names_each_vulnerable_pin():
    report = hardcheck.audit(SAMPLES / "insecure-fastapi", only=["dependencies"])
    vulnerable = {f.location.setting for f in report.findings if f.rule_id == "DEP001"}
    assert vulnerable == {"fastapi", "jinja2", "urllib3", "requests", "pyyaml"}
    assert all(f.upstream_id.startswith("PYSEC-") for f in report.findings if f.rule_id == "DEP001")
    assert {
        f.location.setting
        for f in report.findings
        if f.rule_id == "DEP002" and f.status.value == "fail"
    } == {
        "uvicorn",
        "gunicorn",
    }
    assert "newest record 2024-10-08" in report.audits[0].message  # the subset's newest


def test_hardened_sample_dependencies_pass(tmp_path):
    report = hardcheck.audit(copy_sample("hardened-fastapi", tmp_path), only=["dependencies"])
    assert [f for f in report.findings if f.status.value != "pass"] == []
