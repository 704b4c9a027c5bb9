"""What a scheduled CI job relies on: baselines (new vs known, fixed), inline ignores,
run-to-run diff and fleet merge, on real reports of the samples."""

from __future__ import annotations

import json
import os

import jsonschema

from tests.conftest import copy_sample, make_tree, run_cli


def _report(path) -> dict:
    return json.loads(path.read_text())


def test_baseline_round_trip(tmp_path, validate_report):
    root = copy_sample("insecure-fastapi", tmp_path)
    baseline = tmp_path / "baseline.json"
    created = run_cli("baseline", "create", str(root), "-o", str(baseline))
    assert created.code == 0 and "failing finding(s) baselined" in created.stdout
    assert run_cli("audit", str(root), "--baseline", str(baseline), "-q").code == 0

    # plant one new problem: exit 1, and only that finding is new
    (root / "app" / "extra.py").write_text(
        "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
    )
    out = tmp_path / "r.json"
    run = run_cli("audit", str(root), "--baseline", str(baseline), "--format", f"json:{out}", "-q")
    assert run.code == 1
    report = validate_report(_report(out))
    new = [f for f in report["findings"] if f["baseline"] == "new"]
    # the planted file's two findings (B602 shell=True, B404 import), nothing else
    assert sorted((f["rule_id"], f["location"]["path"]) for f in new) == [
        ("COD004", "app/extra.py"),
        ("COD006", "app/extra.py"),
    ]
    assert report["baseline"]["known"] == report["summary"]["by_status"]["fail"] - 2

    # fix one baselined finding: it is listed as fixed
    os.chmod(root / "config" / "app.yaml", 0o644)
    run = run_cli("audit", str(root), "--baseline", str(baseline), "--format", f"json:{out}", "-q")
    fixed = _report(out)["baseline"]["fixed"]
    assert [(e["rule_id"], e["location"]) for e in fixed] == [("PRM004", "config/app.yaml")]


def test_bad_baseline_is_a_usage_error(tmp_path):
    (tmp_path / "b.json").write_text('{"kind": "something-else"}')
    run = run_cli("audit", str(tmp_path), "--baseline", str(tmp_path / "b.json"))
    assert run.code == 2 and "is not a hardcheck baseline" in run.stderr


def test_inline_ignore_needs_a_reason(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "a.py": "import subprocess\nsubprocess.call('/bin/true', shell=True)  # hardcheck: ignore[COD006] fixed command, no input\n",
            "b.py": "import subprocess\nsubprocess.call('/bin/true', shell=True)  # hardcheck: ignore[injection]\n",
        },
    )
    out = tmp_path / "r.json"
    run_cli("audit", str(root), "--only", "code", "--format", f"json:{out}", "-q")
    report = _report(out)
    suppressed = [
        (s["finding"]["location"]["path"], s["source"], s["reason"]) for s in report["suppressed"]
    ]
    assert suppressed == [("a.py", "inline", "fixed command, no input")]
    still = [
        f["location"]["path"]
        for f in report["findings"]
        if f["rule_id"] == "COD006" and f["status"] == "fail"
    ]
    assert still == ["b.py"]
    assert any(
        f["rule_id"] == "CFG001" and f["location"]["path"] == "b.py" for f in report["findings"]
    )


def test_diff_and_merge_on_real_reports(tmp_path):
    insecure = copy_sample("insecure-fastapi", tmp_path)
    hardened = copy_sample("hardened-fastapi", tmp_path)
    before, after, good = tmp_path / "before.json", tmp_path / "after.json", tmp_path / "good.json"
    run_cli("audit", str(insecure), "--format", f"json:{before}", "-q")
    (insecure / "app" / "extra.py").write_text("assert True\n")
    os.chmod(insecure / "config" / "app.yaml", 0o644)
    run_cli("audit", str(insecure), "--format", f"json:{after}", "-q")
    run_cli("audit", str(hardened), "--format", f"json:{good}", "-q")

    d = run_cli("diff", str(before), str(after), "--format", "json")
    result = json.loads(d.stdout)
    assert [(f["rule_id"], f["location"]["path"]) for f in result["new_findings"]] == [
        ("COD001", "app/extra.py")
    ]
    assert [(f["rule_id"], f["location"]["path"]) for f in result["fixed_findings"]] == [
        ("PRM004", "config/app.yaml")
    ]
    assert d.code == 0  # the new finding is low: under the default --fail-on high
    assert run_cli("diff", str(before), str(after), "--fail-on", "low").code == 1
    text = run_cli("diff", str(before), str(after)).stdout
    assert "new: 1" in text
    # where, with the line and the service, and which audits' scores moved
    assert "COD001 app/extra.py:1 (service insecure-fastapi)" in text
    assert "permissions " in text.splitlines()[0] and "->" in text.splitlines()[0]
    moved = {a["name"]: (a["old"], a["new"]) for a in result["audits"] if a["old"] != a["new"]}
    assert "permissions" in moved and moved["permissions"][1] > moved["permissions"][0]
    worst_first = run_cli("diff", str(good), str(after), "--format", "json")
    ranks = ["info", "low", "medium", "high", "critical"]
    severities = [
        ranks.index(f["severity"]) for f in json.loads(worst_first.stdout)["new_findings"]
    ]
    assert severities == sorted(severities, reverse=True) and severities[0] == 4

    fleet_file = tmp_path / "fleet.json"
    m = run_cli("merge", str(after), str(good), str(after), "-o", str(fleet_file))
    assert m.code == 0 and "1 duplicate report(s) counted once" in m.stdout
    fleet = json.loads(fleet_file.read_text())
    schema = json.loads(run_cli("schema", "fleet").stdout)
    jsonschema.Draft202012Validator(schema).validate(fleet)
    assert fleet["summary"]["duplicates"] == 1
    a, g = _report(after), _report(good)
    assert fleet["summary"]["services"] == 2 and fleet["summary"]["failing_services"] == 1
    assert len(fleet["findings"]) == len(a["findings"]) + len(g["findings"])
    assert {f["target"] for f in fleet["findings"]} == {a["run"]["target"], g["run"]["target"]}
    assert (
        fleet["summary"]["by_status"]["fail"]
        == a["summary"]["by_status"]["fail"] + g["summary"]["by_status"]["fail"]
    )
    assert run_cli("merge", str(tmp_path / "missing.json")).code == 2
