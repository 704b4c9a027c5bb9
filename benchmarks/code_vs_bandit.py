"""Code audit vs `bandit -r` on the Django 5.2 sdist: wall time and the same issues.

    python benchmarks/code_vs_bandit.py [--repeat N]

bandit runs single-process (it has no parallel mode); hardcheck runs `audit --only code`
with its defaults (worker processes on every core). Parity: the issue counts per bandit
test id must be equal. Output lines are stable, key=value.
"""

from __future__ import annotations

import collections
import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import BIN, machine, prepared_tree, timed


def main() -> int:
    tree, repeat = prepared_tree()
    tmp = Path(tempfile.mkdtemp())
    b_out, h_out = tmp / "bandit.json", tmp / "hardcheck.json"
    b_times, h_times = [], []
    for _ in range(repeat):
        b_times.append(
            timed([str(BIN / "bandit"), "-r", ".", "-f", "json", "-o", str(b_out), "-q"], tree)[0]
        )
        h_times.append(
            timed(
                [
                    str(BIN / "hardcheck"),
                    "audit",
                    ".",
                    "--only",
                    "code",
                    "--format",
                    f"json:{h_out}",
                    "-q",
                ],
                tree,
            )[0]
        )
    theirs = collections.Counter(r["test_id"] for r in json.loads(b_out.read_text())["results"])
    report = json.loads(h_out.read_text())
    ours = collections.Counter(
        f["upstream_id"] for f in report["findings"] if f["status"] == "fail"
    )
    differ = {k: (theirs[k], ours[k]) for k in set(theirs) | set(ours) if theirs[k] != ours[k]}
    b_wall, h_wall = statistics.median(b_times), statistics.median(h_times)
    print(f"machine={machine()}")
    print(
        f"tree={tree.name} python_files={report['audits'][0]['stats'].get('python_files')} loc={report['audits'][0]['stats'].get('loc')}"
    )
    print(f"bandit_seconds={b_wall:.2f} issues={sum(theirs.values())}")
    print(f"hardcheck_code_seconds={h_wall:.2f} issues={sum(ours.values())}")
    print(f"same_issues_by_test_id={not differ} differences={differ}")
    print(f"ratio_hardcheck_over_bandit={h_wall / b_wall:.3f} target<=0.6")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
