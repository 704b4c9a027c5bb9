"""Every output format from one run on the insecure sample, each validated by a real
consumer: the official SARIF 2.1.0 schema, a JUnit parser, prometheus_client's
OpenMetrics parser; Markdown and JUnit are injection-safe; the JSON schema is versioned."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess

import pytest
from jsonschema import Draft4Validator
from junitparser import JUnitXml
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from hardcheck.report import FORMATS as ALL_FORMATS
from tests.conftest import REPO, SAMPLES, SHARED, make_tree, run_cli, sample_with_hostile_name

SARIF_SCHEMA = SHARED / "schemas" / "sarif-schema-2.1.0.json"
FORMATS = tuple(f for f in ALL_FORMATS if f != "console")  # the files a run writes


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("out")
    name = "[click](javascript:alert(1)) <img src=x onerror=alert(1)>.env"
    root = sample_with_hostile_name(tmp, name, "TOKEN=x\n")
    args = []
    for fmt in FORMATS:
        args += ["--format", f"{fmt}:{tmp / ('r.' + fmt)}"]
    run = run_cli("audit", str(root), *args, "--format", "console", "-q")
    assert run.code == 1, run.stderr
    assert "result: FAIL" in run.stdout  # the console checklist in the same run
    return {fmt: (tmp / f"r.{fmt}").read_text() for fmt in FORMATS}


def test_sarif_validates_against_the_official_schema(outputs):
    if not SARIF_SCHEMA.exists():
        pytest.skip(f"{SARIF_SCHEMA} is absent (CI always has ../shared/schemas)")
    sarif = json.loads(outputs["sarif"])
    errors = list(Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).iter_errors(sarif))
    assert not errors, [e.message for e in errors[:3]]
    run = sarif["runs"][0]
    report = json.loads(outputs["json"])
    failing = [f for f in report["findings"] if f["status"] == "fail"]
    assert len(run["results"]) == len(failing) + len(report["suppressed"])
    ids = {r["properties"]["hardcheck-rule"] for r in run["tool"]["driver"]["rules"]}
    assert {f["rule_id"] for f in failing} <= ids
    assert all(r["partialFingerprints"]["hardcheckFingerprint/v1"] for r in run["results"])
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["SEC001"] == "error" and levels["PRM004"] == "note"
    for r in run["results"]:
        loc = r["locations"][0]
        assert "physicalLocation" in loc or "logicalLocations" in loc


def test_junit_parses_and_maps_statuses(outputs):
    xml = JUnitXml.fromstring(outputs["junit"])
    report = json.loads(outputs["json"])
    by_status = report["summary"]["by_status"]
    cases = [case for suite in xml for case in suite]
    assert len(cases) == report["summary"]["total"]
    failures = sum(1 for c in cases if c.result and c.result[0]._tag == "failure")
    skipped = sum(1 for c in cases if c.result and c.result[0]._tag == "skipped")
    assert failures == by_status["fail"] and skipped == by_status["skip"]
    assert "<img" not in outputs["junit"].replace("&lt;img", "")


def test_openmetrics_parses(outputs):
    families = {f.name: f for f in text_string_to_metric_families(outputs["openmetrics"])}
    report = json.loads(outputs["json"])
    assert families["hardcheck_score"].samples[0].value == report["summary"]["score"]
    fails = sum(
        s.value for s in families["hardcheck_findings"].samples if s.labels["status"] == "fail"
    )
    assert fails == report["summary"]["by_status"]["fail"]
    assert {s.labels["audit"] for s in families["hardcheck_audit_duration_seconds"].samples} == {
        a["name"] for a in report["audits"]
    }
    assert families["hardcheck_run_timestamp_seconds"].samples[0].value > 1.7e9


def test_markdown_is_compact_and_injection_safe(outputs):
    text = outputs["markdown"]
    assert text.startswith("## hardcheck: FAIL")
    assert "<details><summary>" in text and "| audit | status |" in text
    assert "](javascript:" not in text  # the file name cannot become a link
    assert "<img" not in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_no_secret_value_in_any_format(outputs, fmt):
    for value in (
        "AKIAQ4R7T2LMN5XP8W3Z",
        "xoxb-2048193847-1039482756123-Qm9Kx2Lr8Vt3Np6Zs4Wy7Hb1",
        "Zq8Rt2Lm9Vx4",
    ):
        assert value not in outputs[fmt]


# The published JSON report schema: any change needs a schema_version change (semver).
KNOWN_SCHEMAS = {
    "1.0.0": "3b23a96f70efdfb95cf43355c90102604f5e5ba8556edced51c694f52d0a28a2",
    "1.1.0": "b9c415f9addf7c9ef4cdfc78e2933c2a9755c205bb415d713726223f2631229e",  # + baseline fields
    "1.2.0": "2fdcb3ad2afb1742a302c58ba76795531ba94e5d8441182b8e631278757bf81b",  # + run.cache
    "1.3.0": "7c1758b87ba43aa1de50e90d7b38c314b801d2d7e00082141afbab91b030d2a6",  # + location.service
    "1.4.0": "223ae2f32d596ae1ebc4fe00424ae882ad537e11e4d040f185db33e2377dd996",  # + location.test_code, summary.in_test_code
    "1.5.0": "9d4a3f98ec623f8f81939a57e540ee08b3c5766782a127c2b66faa1a463cade4",  # + run.fail_on never
    "1.6.0": "5a78def0e80d312b4203e3789af66ed4f50f00e37ac68609c54869991fa53e7c",  # + run.id
    "1.7.0": "f21517759726988482412e901b2184ae57c97a735c61f2371d3822505709f581",  # + inventory.source image, wheel, sdist
}


def test_report_schema_changes_bump_its_version():
    schema_text = (REPO / "hardcheck" / "report" / "schema.json").read_text()
    from hardcheck.report.model import SCHEMA_VERSION

    digest = hashlib.sha256(schema_text.encode()).hexdigest()
    recorded = KNOWN_SCHEMAS.get(SCHEMA_VERSION)
    assert recorded is not None, f"schema_version {SCHEMA_VERSION} has no recorded schema hash"
    assert digest == recorded, (
        "report schema changed without a schema_version bump (record the new hash with the new version)"
    )


def test_html_is_one_self_contained_page(outputs):
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self):
            super().__init__()
            self.tags, self.data = [], ""

        def handle_starttag(self, tag, attrs):
            self.tags.append((tag, dict(attrs)))

        def handle_data(self, data):
            self.data += data

    page = Collect()
    page.feed(outputs["html"])
    assert not [
        a
        for t, a in page.tags
        if t in ("script", "link", "img") and (a.get("src") or a.get("href"))
    ]
    embedded = json.loads(outputs["html"].split('id="report-data">', 1)[1].split("</script>", 1)[0])
    assert len(embedded["findings"]) == json.loads(outputs["json"])["summary"]["total"]


def test_console_checklist_can_be_written_to_a_file(tmp_path):
    out = tmp_path / "checklist.txt"
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--no-cache", "--format", f"console:{out}", "-q"
    )
    assert run.code == 1
    text = out.read_text(encoding="utf-8")
    assert "✘ CRITICAL" in text and "summary:" in text
    assert "\x1b[" not in text  # plain text, no colour codes
    assert "summary:" in run.stdout  # and the terminal still gets its checklist


def test_report_files_follow_the_umask_and_keep_an_existing_mode(tmp_path):
    import stat
    import subprocess
    import sys

    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    new, kept = tmp_path / "new.prom", tmp_path / "kept.html"
    kept.write_text("an earlier hardcheck report\n")
    os.chmod(kept, 0o640)
    code = (
        "import os, sys; os.umask(0o022); from hardcheck.entry import main; "
        "sys.argv = ['hardcheck'] + sys.argv[1:]; main()"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "audit", str(root), "-q", "--no-cache",
         f"--format=openmetrics:{new}", f"--format=html:{kept}"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-1000:]
    assert stat.S_IMODE(os.stat(new).st_mode) == 0o644  # readable by a textfile collector
    assert stat.S_IMODE(os.stat(kept).st_mode) == 0o640  # the user's choice, kept


PROMTOOL = shutil.which("promtool")


@pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (scripts/test.sh installs it)"
)
def test_promtool_accepts_the_openmetrics_and_the_timestamp_reads_back_exactly(tmp_path):
    root = make_tree(tmp_path / "t", {"settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"})
    prom, report = tmp_path / "m.prom", tmp_path / "r.json"
    run = run_cli(
        "audit", str(root), "-q", "--no-cache", f"--format=openmetrics:{prom}", f"--format=json:{report}"
    )  # fmt: skip
    assert run.code == 1, run.stderr
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=prom.read_text(), capture_output=True, text=True
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    families = {f.name: f for f in text_string_to_metric_families(prom.read_text())}
    (sample,) = families["hardcheck_run_timestamp_seconds"].samples
    finished = json.loads(report.read_text())["run"]["finished"]
    when = dt.datetime.fromisoformat(finished.replace("Z", "+00:00")).timestamp()
    assert abs(sample.value - when) < 1
    assert families["hardcheck_run_timestamp_seconds"].unit == "seconds"


def _insecure_sample_as(tmp_path, fmt: str):
    """The insecure sample, audited with its offline advisory database, as one format."""
    out = tmp_path / f"report.{fmt}"
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "-q", "--no-cache",
        "--vuln-db", str(SAMPLES / "vulndb"), f"--format={fmt}:{out}",
    )  # fmt: skip
    assert run.code == 1, run.stderr[-500:]
    return out


def test_junit_case_names_are_unique_and_carry_their_file(tmp_path):
    import junitparser

    out = _insecure_sample_as(tmp_path, "junit")
    xml = junitparser.JUnitXml.fromfile(str(out))
    names = [(suite.name, case.name) for suite in xml for case in suite]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1][:5]
    cases = [case for suite in xml for case in suite]
    with_file = [c for c in cases if c._elem.get("file")]
    assert with_file and all(
        (SAMPLES / "insecure-fastapi" / c._elem.get("file")).exists() for c in with_file
    )


def test_markdown_fits_a_pull_request_comment_and_keeps_catalogue_code_spans(tmp_path):
    files = {f"svc{i}/settings.py": "DEBUG = True\nINSTALLED_APPS = []\n" for i in range(300)}
    root = make_tree(tmp_path / "t", files)
    out = tmp_path / "r.md"
    run = run_cli(
        "audit", str(root), "-q", "--no-cache", "--only", "permissions", f"--format=markdown:{out}"
    )  # fmt: skip
    assert run.code == 1, run.stderr[-500:]
    text = out.read_text()
    assert len(text) <= 65_536
    assert "more failing or error items are not shown" in text
    assert "Django `DEBUG = False`" in text  # APP001's expected state keeps its code span


def test_sarif_shows_each_result_with_its_own_severity_and_a_region(tmp_path):
    out = _insecure_sample_as(tmp_path, "sarif")
    sarif_run = json.loads(out.read_text())["runs"][0]
    rules = sarif_run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    scale = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
    severities = set()
    for result in sarif_run["results"]:
        rule = rules[result["ruleIndex"]]
        assert rule["id"] == result["ruleId"]
        own = result["properties"]["severity"]
        assert rule["properties"]["security-severity"] == scale[own], result["ruleId"]
        severities.add((result["ruleId"].split("-")[0], own))
        for location in result["locations"]:
            if "physicalLocation" in location:
                assert location["physicalLocation"]["region"]["startLine"] >= 1
    assert ("SEC001", "critical") in severities and ("SEC001", "high") in severities


@pytest.mark.skipif(
    PROMTOOL is None, reason="promtool is not installed (scripts/test.sh installs it)"
)
def test_openmetrics_labels_the_user_chooses_pass_promtool(tmp_path):
    root = make_tree(tmp_path / "t", {"settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"})
    prom = tmp_path / "m.prom"
    run = run_cli(
        "audit", str(root), "-q", "--no-cache", f"--format=openmetrics:{prom}",
        "--label", "target=payments-api", "--label", "service=payments", "--label", "env=prod",
    )  # fmt: skip
    assert run.code == 1, run.stderr
    check = subprocess.run(
        [PROMTOOL, "check", "metrics"], input=prom.read_text(), capture_output=True, text=True
    )
    assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    samples = [s for f in text_string_to_metric_families(prom.read_text()) for s in f.samples]
    assert samples and all(
        s.labels["target"] == "payments-api"
        and s.labels["env"] == "prod"
        and s.labels["service"] == "payments"
        for s in samples
    )
    assert str(root) not in prom.read_text()
    for bad in ("audit=x", "9lives=x", "__name__=x", "novalue"):
        refused = run_cli("audit", str(root), "-q", "--label", bad)
        assert refused.code == 2 and "--label" in refused.stderr, bad
