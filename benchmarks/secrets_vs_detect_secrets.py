"""Secrets audit vs `detect-secrets scan` on the Django 5.2 sdist: wall time and recall.

    python benchmarks/secrets_vs_detect_secrets.py [--repeat N]

Both tools run on the same tree after a warm-up read. detect-secrets runs with its
defaults (`scan --all-files`, which uses every core); hardcheck runs `audit --only secrets`
with its defaults and no result cache (worker processes on every core, translation catalogues, minified
bundles and lock files excluded and counted). Recall: every secret detect-secrets reports
in a file hardcheck scanned must have a hardcheck finding in that file at or before its
line (hardcheck keeps one finding per secret per file). Output lines are stable, key=value.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import BIN, machine, prepared_tree, secrets_missed, timed


def main() -> int:
    tree, repeat = prepared_tree()
    out = Path(tempfile.mkdtemp()) / "report.json"
    ds_times, hc_times = [], []
    for _ in range(repeat):
        t, ds = timed([str(BIN / "detect-secrets"), "scan", "--all-files", "."], tree)
        ds_times.append(t)
        t, _ = timed(
            [
                str(BIN / "hardcheck"),
                "audit",
                ".",
                "--only",
                "secrets",
                "--no-cache",
                "--format",
                f"json:{out}",
                "-q",
            ],
            tree,
        )
        hc_times.append(t)
    theirs = json.loads(ds.stdout)["results"]
    report = json.loads(out.read_text())
    audit = report["audits"][0]
    findings = [f for f in report["findings"] if f["rule_id"] in ("SEC001", "SEC003")]
    compared, missed = secrets_missed(theirs, report)
    for item in missed:
        print(f"missed={item}")
    ds_wall, hc_wall = statistics.median(ds_times), statistics.median(hc_times)
    print(f"machine={machine()}")
    print(
        f"tree={tree.name} files_scanned={audit['stats'].get('files_scanned')} files_excluded={audit['stats'].get('files_excluded')}"
    )
    print(f"detect_secrets_seconds={ds_wall:.2f} results={sum(len(v) for v in theirs.values())}")
    print(f"hardcheck_secrets_seconds={hc_wall:.2f} findings={len(findings)}")
    print(f"recall_compared={compared} recall_missed={len(missed)}")
    print(f"ratio_hardcheck_over_detect_secrets={hc_wall / ds_wall:.3f} target<=0.15")
    return 0 if not missed else 1


if __name__ == "__main__":
    sys.exit(main())
