"""SARIF as code-scanning UIs take it, checked by Microsoft's SARIF multitool with its
GitHub rules (the validator GitHub points SARIF producers to): zero errors and warnings,
on a report with file, URL and could-not-look items, from a service in a subdirectory
of a git checkout (a monorepo)."""

from __future__ import annotations

import json
import shutil
import subprocess

from tests.conftest import NODE_MODULES, SAMPLES, real_consumer, run_cli
from tests.servers import free_port, uvicorn_app

MULTITOOL = NODE_MODULES / "@microsoft" / "sarif-multitool-linux" / "Sarif.Multitool"


def _monorepo(tmp_path, urls: list[str]):
    repo = tmp_path / "mono"
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


def test_the_sarif_multitool_with_github_rules_accepts_the_report(tmp_path):
    multitool = real_consumer(MULTITOOL, "the SARIF multitool")
    silent = f"http://127.0.0.1:{free_port()}/"  # nothing listens: an item that could not look
    with uvicorn_app("insecure-fastapi") as live:
        repo, service = _monorepo(tmp_path, [live + "/", silent])
        out = tmp_path / "report.sarif"
        run = run_cli("audit", str(service), "-q", "--no-cache", f"--format=sarif:{out}")
    assert run.code == 1, run.stderr[-500:]
    checked = tmp_path / "validation.sarif"
    validate = subprocess.run(
        [str(multitool), "validate", "--rule-kind", "Gh;Sarif", "-o", str(checked), str(out)],
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

    sarif = json.loads(out.read_text())["runs"][0]
    assert sarif["originalUriBaseIds"]["%SRCROOT%"]["uri"] == repo.resolve().as_uri() + "/"
    rules = sarif["tool"]["driver"]["rules"]
    assert all(r["helpUri"].startswith("https://") for r in rules)
    places = [r["locations"][0]["physicalLocation"] for r in sarif["results"]]
    files = [p["artifactLocation"]["uri"] for p in places if "uriBaseId" in p["artifactLocation"]]
    # relative to the checkout root, each a file there, each with a region
    assert files and all((repo / uri).exists() for uri in files)
    assert all(uri.startswith("services/api/") for uri in files)
    assert all(p["region"]["startLine"] >= 1 for p in places)
    # a live-headers result points at the config line that names its URL
    live_results = [
        r for r in sarif["results"] if r["properties"]["audit"] == "headers"
        and r["locations"][0].get("logicalLocations", [{}])[0].get("kind") == "resource"
    ]  # fmt: skip
    assert live_results
    config_lines = (service / "hardcheck.toml").read_text().splitlines()
    for r in live_results:
        place = r["locations"][0]["physicalLocation"]
        assert place["artifactLocation"]["uri"] == "services/api/hardcheck.toml"
        assert live in config_lines[place["region"]["startLine"] - 1]
    # the URL that did not answer is a notification with its reason, not a silent gap
    notes = sarif["invocations"][0]["toolExecutionNotifications"]
    unanswered = [n for n in notes if n.get("associatedRule", {}).get("id") == "HDR018"]
    assert unanswered and "cannot connect" in unanswered[0]["message"]["text"]
    assert sarif["invocations"][0]["executionSuccessful"] is False
