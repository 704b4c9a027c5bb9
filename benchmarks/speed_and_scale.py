"""A full audit against its engines run one by one, reruns through the result cache,
start-up, and a tree ten times larger, on the Django 5.2 sdist.

    python benchmarks/speed_and_scale.py [--repeat N]

Every figure comes from this one run, on this machine:
- baseline: `bandit -r .` then `detect-secrets scan --all-files .` (one after the other);
- cold: `hardcheck audit` with permissions, secrets, uploads, logging, code and the
  dependencies audit offline (sample_configs/vulndb), into an empty cache directory; it
  must find the same bandit issues (path, line, test id) and cover every detect-secrets
  result (see corpus.secrets_missed);
- warm: the same command again, unchanged tree; touched: after appending a unique comment
  to one Python module (restored afterwards); both must give the cold run's findings
  (touched: plus nothing new);
- start-up: `hardcheck --version` against `python -c pass`, medians of 30;
- scale: ten copies of the tree side by side (hard links), cold, into a fresh cache.
Peak memory is the resident size of the whole process tree (hardcheck and its worker
processes), sampled every 0.1 s. Output lines are stable, key=value.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import (
    BIN,
    bandit_differences,
    machine,
    measured,
    prepared_tree,
    secrets_missed,
)

REPO = Path(__file__).resolve().parents[1]
TOUCHED = "django/core/handlers/base.py"
COPIES = 10


def hardcheck(tree: Path, cache: Path, report: Path) -> list[str]:
    return [
        str(BIN / "hardcheck"), "audit", str(tree), "--skip", "headers",
        "--vuln-db", str(REPO / "sample_configs" / "vulndb"),
        "--cache-dir", str(cache), "--format", f"json:{report}", "-q",
    ]  # fmt: skip


def findings(report: Path) -> list[dict]:
    return [
        {k: v for k, v in f.items() if k != "fingerprint"}
        for f in json.loads(report.read_text())["findings"]
    ]


def median_seconds(cmd: list[str], n: int = 30) -> float:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def ten_copies(tree: Path, dest: Path) -> Path:
    for i in range(COPIES):
        shutil.copytree(tree, dest / f"copy{i}", copy_function=os.link)
    return dest


def main() -> int:
    tree, repeat = prepared_tree()
    tmp = Path(tempfile.mkdtemp(prefix="hardcheck-bench-"))
    ok = True
    try:
        # --- baseline: the engines one after the other -----------------------------------
        b_json, ds_json = tmp / "bandit.json", tmp / "detect-secrets.json"
        base = []
        for _ in range(repeat):
            t_bandit, _, _ = measured(
                [str(BIN / "bandit"), "-r", ".", "-f", "json", "-o", str(b_json), "-q"], tree
            )
            scan = f"{shlex.quote(str(BIN / 'detect-secrets'))} scan --all-files . > {ds_json}"
            t_ds, _, _ = measured(["sh", "-c", scan], tree)
            base.append((t_bandit, t_ds))
        t_bandit = statistics.median(b for b, _ in base)
        t_ds = statistics.median(d for _, d in base)
        baseline = t_bandit + t_ds

        # --- cold, warm, touched ---------------------------------------------------------
        colds, warms, toucheds = [], [], []
        module = tree / TOUCHED
        original = module.read_bytes()
        for i in range(repeat):
            cache = tmp / f"cache{i}"
            cold_json, warm_json, touched_json = (tmp / f"{n}{i}.json" for n in "cwt")
            colds.append(measured(hardcheck(tree, cache, cold_json)))
            warms.append(measured(hardcheck(tree, cache, warm_json)))
            try:
                module.write_bytes(original + f"\n# benchmark {time.time_ns()}\n".encode())
                toucheds.append(measured(hardcheck(tree, cache, touched_json)))
            finally:
                module.write_bytes(original)
        report = json.loads(cold_json.read_text())
        differ = bandit_differences(json.loads(b_json.read_text()), report)
        compared, missed = secrets_missed(json.loads(ds_json.read_text())["results"], report)
        same_warm = findings(warm_json) == findings(cold_json)
        same_touched = findings(touched_json) == findings(cold_json)
        t_cold = statistics.median(w for w, _, _ in colds)
        t_warm = statistics.median(w for w, _, _ in warms)
        t_touched = statistics.median(w for w, _, _ in toucheds)
        mem_cold = max(m for _, m, _ in colds)

        # --- start-up ---------------------------------------------------------------------
        t_pass = median_seconds([sys.executable, "-c", "pass"])
        t_version = median_seconds([str(BIN / "hardcheck"), "--version"])

        # --- scale ------------------------------------------------------------------------
        big = ten_copies(tree, tmp / "ten")
        big_json = tmp / "ten.json"
        t_big, mem_big, _ = measured(hardcheck(big, tmp / "cache-ten", big_json))
        big_report = json.loads(big_json.read_text())
        files_1 = report["run"]["inventory"]["files"]
        files_10 = big_report["run"]["inventory"]["files"]

        ratios = {
            "cold_over_baseline": (t_cold / baseline, 0.35),
            "warm_over_cold": (t_warm / t_cold, 0.05),
            "touched_over_cold": (t_touched / t_cold, 0.10),
            "version_over_python": (t_version / t_pass, 2.0),
            "ten_x_wall_over_one_x": (t_big / t_cold, 11.0),
            "ten_x_memory_over_one_x": (mem_big / mem_cold, 2.0),
        }
        print(f"machine={machine()}")
        print(f"tree={tree.name} files={files_1} repeat={repeat}")
        print(
            f"bandit_seconds={t_bandit:.2f} issues={len(json.loads(b_json.read_text())['results'])}"
        )
        print(
            f"detect_secrets_seconds={t_ds:.2f} results={sum(len(v) for v in json.loads(ds_json.read_text())['results'].values())}"
        )
        print(f"baseline_seconds={baseline:.2f}")
        print(
            f"cold_seconds={t_cold:.2f} findings={len(report['findings'])} exit={colds[-1][2]} peak_mb={mem_cold / 2**20:.0f}"
        )
        print(f"same_bandit_issues={not differ} differences={len(differ)}")
        print(f"detect_secrets_covered={compared - len(missed)}/{compared}")
        print(f"warm_seconds={t_warm:.2f} same_findings={same_warm}")
        print(f"touched_seconds={t_touched:.2f} file={TOUCHED} same_findings={same_touched}")
        print(f"python_pass_ms={t_pass * 1000:.1f} version_ms={t_version * 1000:.1f}")
        print(
            f"ten_x_files={files_10} ten_x_seconds={t_big:.2f} ten_x_findings={len(big_report['findings'])} ten_x_peak_mb={mem_big / 2**20:.0f}"
        )
        for name, (value, target) in ratios.items():
            met = value <= target if "memory" not in name else value < target
            ok &= met
            print(
                f"ratio_{name}={value:.3f} target{'<' if 'memory' in name else '<='}{target:g} met={met}"
            )
        for item in list(differ.items())[:10]:
            print(f"bandit_difference={item}")
        for item in missed[:10]:
            print(f"detect_secrets_missed={item}")
        ok &= not differ and not missed and same_warm and same_touched
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
