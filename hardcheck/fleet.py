"""Comparing and combining JSON reports: `hardcheck diff` (run to run) and
`hardcheck merge` (many services into one fleet report for dashboards)."""

from __future__ import annotations

import datetime as dt
import json

from .config import ConfigError, read_json_file
from .model import Severity

FLEET_SCHEMA_VERSION = "1.1.0"  # hardcheck/report/fleet_schema.json; 1.1.0: run_id, duplicates


def load_report(path: str) -> dict:
    """A hardcheck JSON report, validated against the published report schema first, so
    diff, merge and --trend never meet a field that is missing or of the wrong type."""
    data = read_json_file(path, "report")
    version = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if not version.startswith("1."):
        raise ConfigError(
            f"{path} is not a hardcheck report this version knows (schema_version {version or 'missing'})"
        )
    error = _schema_error(data)
    if error:
        raise ConfigError(f"{path} is not a valid hardcheck report: {error}")
    return data


def _schema_error(data: dict) -> str | None:
    import jsonschema

    from .report import SCHEMA_PATH

    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    try:
        found = jsonschema.exceptions.best_match(
            jsonschema.Draft202012Validator(schema).iter_errors(data)
        )
    except RecursionError:
        return "nested too deeply"
    if found is None:
        return None
    where = "/".join(str(p) for p in found.absolute_path) or "the top level"
    return f"at {where}: {found.message[:200]}"


def _failing(report: dict) -> dict[str, dict]:
    return {f["fingerprint"]: f for f in report["findings"] if f.get("status") == "fail"}


def diff(old: dict, new: dict) -> dict:
    before, after = _failing(old), _failing(new)
    changed = []
    for fp in sorted(set(before) & set(after)):
        a, b = before[fp], after[fp]
        deltas = {
            k: [a.get(k), b.get(k)]
            for k in ("severity", "message", "owner")
            if a.get(k) != b.get(k)
        }
        if deltas:
            changed.append(
                {
                    "fingerprint": fp,
                    "rule_id": b["rule_id"],
                    "location": b["location"],
                    "changes": deltas,
                }
            )
    old_scores = {a["name"]: a["score"] for a in old["audits"]}
    new_scores = {a["name"]: a["score"] for a in new["audits"]}
    audits = [
        {"name": name, "old": old_scores.get(name), "new": new_scores.get(name)}
        for name in sorted(set(old_scores) | set(new_scores))
    ]
    return {
        "audits": audits,
        "old": {
            "target": old["run"]["target"],
            "finished": old["run"]["finished"],
            "score": old["summary"]["score"],
        },
        "new": {
            "target": new["run"]["target"],
            "finished": new["run"]["finished"],
            "score": new["summary"]["score"],
        },
        "new_findings": _worst_first(after[fp] for fp in set(after) - set(before)),
        "fixed_findings": _worst_first(before[fp] for fp in set(before) - set(after)),
        "changed_findings": _worst_first(changed, lambda c: after[c["fingerprint"]]),
    }


def _worst_first(items, finding=lambda f: f) -> list[dict]:
    """Critical first, then by rule and place: what needs a look comes first."""

    def key(item: dict) -> tuple:
        f = finding(item)
        loc = f["location"]
        return (
            -Severity(f["severity"]).rank,
            f["rule_id"],
            loc.get("path") or loc.get("url") or "",
            loc.get("line") or 0,
            f["fingerprint"],
        )

    return sorted(items, key=key)


def where(location: dict) -> str:
    """path:line, else the URL, else the setting; and the service when named."""
    place = location.get("path") or location.get("url") or location.get("setting") or "-"
    if location.get("path") and location.get("line"):
        place = f"{place}:{location['line']}"
    if location.get("service"):
        place += f" (service {location['service']})"
    return place


def new_at_or_above(result: dict, threshold: Severity) -> list[dict]:
    return [f for f in result["new_findings"] if Severity(f["severity"]).rank >= threshold.rank]


def run_identity(report: dict) -> tuple[str, str]:
    """What makes two reports the same run: the target and the run id (schema 1.6.0),
    or, for older reports, the target and when the run started and finished."""
    run = report["run"]
    return run["target"], run.get("id") or f"{run['started']}/{run['finished']}"


def merge(reports: list[dict]) -> dict:
    services, findings = [], []
    seen: set[tuple[str, str]] = set()
    duplicates = 0
    for r in reports:
        identity = run_identity(r)
        if identity in seen:  # the same report given twice (a glob and a path, a copy)
            duplicates += 1
            continue
        seen.add(identity)
        target = r["run"]["target"]
        run_id = r["run"].get("id")
        services.append(
            {
                "target": target,
                "run_id": run_id,
                "tool_version": r["tool"]["version"],
                "finished": r["run"]["finished"],
                "score": r["summary"]["score"],
                "grade": r["summary"]["grade"],
                "exit_code": r["summary"]["exit_code"],
                "complete": r["summary"]["complete"],
                "by_status": r["summary"]["by_status"],
                "failing_by_severity": r["summary"]["failing_by_severity"],
                "audits": [
                    {k: a[k] for k in ("name", "status", "score", "duration_seconds")}
                    for a in r["audits"]
                ],
            }
        )
        findings += [{**f, "target": target, "run_id": run_id} for f in r["findings"]]
    totals: dict[str, int] = {}
    for s in services:
        for k, v in s["by_status"].items():
            totals[k] = totals.get(k, 0) + v
    return {
        "schema_version": FLEET_SCHEMA_VERSION,
        "kind": "hardcheck-fleet",
        "generated": dt.datetime.now(dt.timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "summary": {
            "services": len(services),
            "by_status": totals,
            "failing_services": sum(1 for s in services if s["exit_code"] == 1),
            "incomplete_services": sum(1 for s in services if not s["complete"]),
            "mean_score": round(sum(s["score"] for s in services) / len(services), 1)
            if services
            else 0,
            "duplicates": duplicates,
        },
        "services": services,
        "findings": findings,
    }
