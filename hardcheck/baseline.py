"""Baselines: the fingerprints of a run's failing findings, so that later runs gate only
on what is new. Fingerprints carry no line numbers, so edits elsewhere in a file do not
make a known finding look new."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path

from .config import ConfigError, read_json_file
from .model import Status

KIND = "hardcheck-baseline"


@dataclass
class Baseline:
    file: str
    entries: dict[str, dict] = field(default_factory=dict)  # fingerprint -> summary

    def state(self, fingerprint: str) -> str:
        return "known" if fingerprint in self.entries else "new"


def create(report) -> str:
    entries = [
        {
            "fingerprint": f.fingerprint,
            "rule_id": f.rule_id,
            "severity": f.severity.value,
            "location": f.location.display(service=False),  # stable if services are renamed
            "title": f.title,
        }
        for f in report.findings
        if f.status is Status.FAIL
    ]
    data = {
        "kind": KIND,
        "version": 1,
        "created": dt.datetime.now(dt.timezone.utc)
        .isoformat(timespec="seconds")
        .replace("+00:00", "Z"),
        "tool_version": report.tool_version,
        "target": report.target,
        "findings": sorted(entries, key=lambda e: (e["rule_id"], e["location"], e["fingerprint"])),
    }
    return json.dumps(data, indent=2) + "\n"


def load(path: str | Path) -> Baseline:
    data = read_json_file(path, "baseline")
    if (
        not isinstance(data, dict)
        or data.get("kind") != KIND
        or not isinstance(data.get("findings"), list)
    ):
        raise ConfigError(
            f"{path} is not a hardcheck baseline (create one with `hardcheck baseline create`)"
        )
    entries = {
        e["fingerprint"]: e for e in data["findings"] if isinstance(e, dict) and "fingerprint" in e
    }
    return Baseline(str(path), entries)
