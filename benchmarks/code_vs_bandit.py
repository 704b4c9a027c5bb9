"""Code audit vs `bandit -r` on the Django 5.2 sdist: wall time and the same issues.

    python benchmarks/code_vs_bandit.py [--repeat N]

bandit runs single-process (it has no parallel mode); hardcheck runs `audit --only code`
with its defaults and no result cache (worker processes on every core). Parity: the
same issues by path, line and test id. Output lines are stable, key=value.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import BIN, bandit_differences, machine, prepared_tree, timed


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
                    "--no-cache",
                    "--format",
                    f"json:{h_out}",
                    "-q",
                ],
                tree,
            )[0]
        )
    bandit_report = json.loads(b_out.read_text())
    report = json.loads(h_out.read_text())
    ours = [f for f in report["findings"] if f["status"] == "fail"]
    differ = bandit_differences(bandit_report, report)
    b_wall, h_wall = statistics.median(b_times), statistics.median(h_times)
    print(f"machine={machine()}")
    print(
        f"tree={tree.name} python_files={report['audits'][0]['stats'].get('python_files')} loc={report['audits'][0]['stats'].get('loc')}"
    )
    print(f"bandit_seconds={b_wall:.2f} issues={len(bandit_report['results'])}")
    print(f"hardcheck_code_seconds={h_wall:.2f} issues={len(ours)}")
    print(f"same_issues_by_path_line_test_id={not differ} differences={len(differ)}")
    print(f"ratio_hardcheck_over_bandit={h_wall / b_wall:.3f} target<=0.6")
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
