"""Reports as CI code-scanning and code-quality UIs take them, each checked by its real
consumer, on one run of the insecure sample in a subdirectory of a git checkout (a
monorepo) with a live URL and one that does not answer:

- SARIF: Microsoft's SARIF multitool with its GitHub rules (the validator GitHub points
  SARIF producers to): zero errors and warnings;
- GitLab's SAST report: GitLab's own security-report JSON Schema (15.0.7, vendored in
  tests/data/gitlab with its licence and provenance);
- GitLab's Code Quality report: the subset of the Code Climate format GitLab documents."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.conftest import NODE_MODULES, SAMPLES, real_consumer, run_cli
from tests.servers import free_port, uvicorn_app

MULTITOOL = NODE_MODULES / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"
GITLAB = Path(__file__).parent / "data" / "gitlab"
FORMATS = {"sarif": "report.sarif", "gitlab-sast": "gl-sast.json", "codequality": "gl-cq.json"}


def _monorepo(tmp: Path, urls: list[str]) -> tuple[Path, Path]:
    repo = tmp / "mono"
    service = repo / "services" / "api"
    shutil.copytree(SAMPLES / "insecure-fastapi", service, symlinks=True)
    config = service / "hardcheck.toml"
    config.write_text(
        config.read_text().replace('vuln-db = "../vulndb"', f'vuln-db = "{SAMPLES / "vulndb"}"')
        + f"\n[headers]\nurls = {json.dumps(urls)}\n"
    )
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "sample"], check=True)
    return repo, service


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("consumers")
    silent = f"http://127.0.0.1:{free_port()}/"  # nothing listens: an item that could not look
    with uvicorn_app("insecure-fastapi") as live:
        repo, service = _monorepo(tmp, [live + "/", silent])
        args = [f"--format={fmt}:{tmp / name}" for fmt, name in FORMATS.items()]
        json_out = tmp / "report.json"
        run = run_cli("audit", str(service), "-q", "--no-cache", f"--format=json:{json_out}", *args)
    assert run.code == 1, run.stderr[-500:]
    outputs = {fmt: json.loads((tmp / name).read_text()) for fmt, name in FORMATS.items()}
    return {
        "tmp": tmp, "repo": repo, "service": service, "live": live, "paths": FORMATS,
        "report": json.loads(json_out.read_text()), **outputs,
    }  # fmt: skip


def _config_line(audited, number: int) -> str:
    return (audited["service"] / "hardcheck.toml").read_text().splitlines()[number - 1]


def test_the_sarif_multitool_with_github_rules_accepts_the_report(audited):
    multitool = real_consumer(MULTITOOL, "the SARIF multitool")
    checked = audited["tmp"] / "validation.sarif"
    validate = subprocess.run(
        [str(multitool), "validate", "--rule-kind", "Gh;Sarif", "-o", str(checked),
         str(audited["tmp"] / FORMATS["sarif"])],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert validate.returncode == 0, validate.stdout + validate.stderr
    problems = [
        (r["ruleId"], r.get("level", "warning"), r["message"].get("text", r["message"]))
        for run_ in json.loads(checked.read_text())["runs"]
        for r in run_["results"]
        if r.get("level", "warning") in ("error", "warning")
    ]
    assert problems == [], problems[:5]


def test_sarif_locations_are_what_code_scanning_can_show(audited):
    repo, sarif = audited["repo"], audited["sarif"]["runs"][0]
    assert sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    assert all(r["helpUri"].startswith("https://") for r in sarif["tool"]["driver"]["rules"])
    places = [r["locations"][0]["physicalLocation"] for r in sarif["results"]]
    files = [p["artifactLocation"]["uri"] for p in places if "uriBaseId" in p["artifactLocation"]]
    # relative to the checkout root, each a file there, each with a region
    assert files and all((repo / uri).exists() for uri in files)
    assert all(uri.startswith("services/api/") for uri in files)
    assert all(p["region"]["startLine"] >= 1 for p in places)
    # a live-headers result points at the config line that names its URL
    live = [
        r for r in sarif["results"]
        if r["locations"][0].get("logicalLocations", [{}])[0].get("kind") == "resource"
    ]  # fmt: skip
    assert live and all(r["properties"]["audit"] == "headers" for r in live)
    for r in live:
        place = r["locations"][0]["physicalLocation"]
        assert place["artifactLocation"]["uri"] == "services/api/hardcheck.toml"
        assert audited["live"] in _config_line(audited, place["region"]["startLine"])
    # the URL that did not answer is a notification with its reason, not a silent gap
    notes = sarif["invocations"][0]["toolExecutionNotifications"]
    unanswered = [n for n in notes if n.get("associatedRule", {}).get("id") == "HDR018"]
    assert unanswered and "cannot connect" in unanswered[0]["message"]["text"]
    assert sarif["invocations"][0]["executionSuccessful"] is False


def test_gitlabs_own_schema_accepts_the_sast_report(audited):
    schema = json.loads((GITLAB / "sast-report-format-15.0.7.json").read_text())
    report, sast = audited["report"], audited["gitlab-sast"]
    jsonschema.Draft7Validator(schema).validate(sast)  # GitLab's own schema, as GitLab checks
    assert sast["version"] == schema["self"]["version"]
    failing = [f for f in report["findings"] if f["status"] == "fail"]
    vulns = sast["vulnerabilities"]
    assert len(vulns) == len(failing) and len({v["id"] for v in vulns}) == len(vulns)
    wanted = {(f["rule_id"], f["severity"].capitalize()) for f in failing}
    assert {(v["identifiers"][0]["value"], v["severity"]) for v in vulns} == wanted
    files = [v["location"]["file"] for v in vulns if v["location"]]
    assert files and all((audited["repo"] / path).exists() for path in files)
    for v in vulns:
        if v["location"].get("file") == "services/api/hardcheck.toml":
            assert audited["live"] in _config_line(audited, v["location"]["start_line"])
    cwe = [i for v in vulns for i in v["identifiers"] if i["type"] == "cwe"]
    assert cwe and all(i["url"].startswith("https://cwe.mitre.org/") for i in cwe)
    messages = sast["scan"]["messages"]
    assert any(m["value"].startswith("HDR018") and "cannot connect" in m["value"] for m in messages)
    assert sast["scan"]["status"] == "success"  # incomplete, not failed: the rest was audited


def test_the_code_quality_report_is_the_subset_gitlab_documents(audited):
    schema = json.loads((GITLAB / "codequality.schema.json").read_text())
    issues, report = audited["codequality"], audited["report"]
    jsonschema.Draft7Validator(schema).validate(issues)
    assert len({i["fingerprint"] for i in issues}) == len(issues)  # GitLab merges repeats
    assert all((audited["repo"] / i["location"]["path"]).is_file() for i in issues)
    scale = {
        "critical": "blocker",
        "high": "critical",
        "medium": "major",
        "low": "minor",
        "info": "info",
    }
    failing = [f for f in report["findings"] if f["status"] == "fail"]
    by_fingerprint = {f["fingerprint"]: f for f in failing}
    for issue in issues:
        finding = by_fingerprint[issue["fingerprint"]]
        assert issue["severity"] == scale[finding["severity"]]
        assert issue["check_name"] == finding["rule_id"]
    # every failure with a file is there; a live-URL one at the config line naming it
    assert len(issues) == len(failing)
    assert any(i["location"]["path"] == "services/api/hardcheck.toml" for i in issues)
