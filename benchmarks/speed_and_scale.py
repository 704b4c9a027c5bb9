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
- the secrets audit alone (`--only secrets`, cold) against `detect-secrets scan`, with
  the floor beside it: the time to read and decode every file of the tree once;
- scale: ten copies of the tree side by side (hard links), cold, into a fresh cache; each
  audit's time at 1x and 10x and its ratio, two ways: within the full run (the report's
  `audits[].duration_seconds`: the audits share two cores, so this includes waiting for
  one) and alone (`--only NAME --no-cache`, its own duration): the target is on the latter,
  which is the audit's own cost.
Peak memory is the resident size of the whole process tree (hardcheck and its worker
processes), sampled every 0.1 s: the sum of RSS (the target) and of PSS, which counts a
page shared by several processes once, and hardcheck's own process's share of the peak
(the rest is its worker processes). Output lines are stable, key=value.
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


def audit_seconds(report: dict) -> dict[str, float]:
    return {a["name"]: a["duration_seconds"] for a in report["audits"] if a["status"] != "skip"}


ALONE = ("code", "logging", "permissions", "secrets", "uploads")  # headers: skipped above


def alone_seconds(tree: Path, tmp: Path, name: str) -> float:
    """One audit on its own, uncached: its duration as its report gives it."""
    out = tmp / f"alone-{name}.json"
    cmd = hardcheck(tree, tmp / "cache-unused", out)
    cmd[cmd.index("--skip") : cmd.index("--skip") + 2] = ["--only", name]
    subprocess.run([*cmd, "--no-cache"], capture_output=True, check=False)
    return audit_seconds(json.loads(out.read_text()))[name]


def read_floor(tree: Path) -> float:
    """Seconds to read every file of the tree once and decode it as text: what any
    secrets scanner pays before its first detector runs."""
    t0 = time.perf_counter()
    for dirpath, _, names in os.walk(tree):
        for name in names:
            try:
                with open(os.path.join(dirpath, name), "rb") as fh:
                    fh.read().decode("utf-8", "replace")
            except OSError:
                pass
    return time.perf_counter() - t0


def main() -> int:
    tree, repeat = prepared_tree()
    tmp = Path(tempfile.mkdtemp(prefix="hardcheck-bench-"))
    ok = True
    mb = 2**20
    try:
        # --- baseline: the engines one after the other -----------------------------------
        b_json, ds_json = tmp / "bandit.json", tmp / "detect-secrets.json"
        base = []
        for _ in range(repeat):
            t_bandit = measured(
                [str(BIN / "bandit"), "-r", ".", "-f", "json", "-o", str(b_json), "-q"], tree
            ).wall
            scan = f"{shlex.quote(str(BIN / 'detect-secrets'))} scan --all-files . > {ds_json}"
            t_ds = measured(["sh", "-c", scan], tree).wall
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
        t_cold = statistics.median(m.wall for m in colds)
        t_warm = statistics.median(m.wall for m in warms)
        t_touched = statistics.median(m.wall for m in toucheds)
        rss_cold = max(m.peak_rss for m in colds)
        pss_cold = max(m.peak_pss for m in colds)
        main_cold = max(colds, key=lambda m: m.peak_rss).main_at_peak

        # --- the secrets audit alone, against detect-secrets and the read floor ------------
        secrets_json = tmp / "secrets.json"
        only_secrets = hardcheck(tree, tmp / "cache-secrets", secrets_json)
        only_secrets[only_secrets.index("--skip") : only_secrets.index("--skip") + 2] = [
            "--only",
            "secrets",
        ]
        t_secrets = statistics.median(measured(only_secrets).wall for _ in range(repeat))
        t_floor = statistics.median(read_floor(tree) for _ in range(repeat))

        # --- start-up ---------------------------------------------------------------------
        t_pass = median_seconds([sys.executable, "-c", "pass"])
        t_version = median_seconds([str(BIN / "hardcheck"), "--version"])

        # --- scale ------------------------------------------------------------------------
        big = ten_copies(tree, tmp / "ten")
        big_json = tmp / "ten.json"
        ten = measured(hardcheck(big, tmp / "cache-ten", big_json))
        big_report = json.loads(big_json.read_text())
        files_1 = report["run"]["inventory"]["files"]
        files_10 = big_report["run"]["inventory"]["files"]
        one_x, ten_x = audit_seconds(report), audit_seconds(big_report)
        alone_1 = {name: alone_seconds(tree, tmp, name) for name in ALONE}
        alone_10 = {name: alone_seconds(big, tmp, name) for name in ALONE}

        ratios = {
            "cold_over_baseline": (t_cold / baseline, 0.20),
            "secrets_over_detect_secrets": (t_secrets / t_ds, 0.15),
            "warm_over_cold": (t_warm / t_cold, 0.05),
            "touched_over_cold": (t_touched / t_cold, 0.10),
            "version_over_python": (t_version / t_pass, 2.0),
            "ten_x_wall_over_one_x": (ten.wall / t_cold, 11.0),
            **{
                f"ten_x_{name}_alone_over_one_x": (alone_10[name] / max(alone_1[name], 1e-3), 11.0)
                for name in ALONE
            },
            "one_x_peak_rss_mb": (rss_cold / mb, 200.0),
            "ten_x_memory_over_one_x": (ten.peak_rss / rss_cold, 1.3),
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
            f"cold_seconds={t_cold:.2f} findings={len(report['findings'])} exit={colds[-1].exit} "
            f"peak_rss_mb={rss_cold / mb:.0f} peak_pss_mb={pss_cold / mb:.0f} "
            f"main_process_at_peak_mb={main_cold / mb:.0f}"
        )
        print(f"same_bandit_issues={not differ} differences={len(differ)}")
        print(f"detect_secrets_covered={compared - len(missed)}/{compared}")
        print(f"warm_seconds={t_warm:.2f} same_findings={same_warm}")
        print(f"touched_seconds={t_touched:.2f} file={TOUCHED} same_findings={same_touched}")
        print(
            f"secrets_only_seconds={t_secrets:.2f} read_floor_seconds={t_floor:.2f} "
            f"detect_secrets_seconds={t_ds:.2f}"
        )
        print(f"python_pass_ms={t_pass * 1000:.1f} version_ms={t_version * 1000:.1f}")
        print(
            f"ten_x_files={files_10} ten_x_seconds={ten.wall:.2f} "
            f"ten_x_findings={len(big_report['findings'])} "
            f"ten_x_peak_rss_mb={ten.peak_rss / mb:.0f} ten_x_peak_pss_mb={ten.peak_pss / mb:.0f} "
            f"ten_x_main_process_at_peak_mb={ten.main_at_peak / mb:.0f}"
        )
        for name in sorted(one_x):
            in_run = ten_x.get(name, float("nan")) / max(one_x[name], 1e-3)
            line = (
                f"audit={name} in_run_one_x_seconds={one_x[name]:.2f} "
                f"in_run_ten_x_seconds={ten_x.get(name, float('nan')):.2f} in_run_ratio={in_run:.2f}"
            )
            if name in alone_1:
                line += (
                    f" alone_one_x_seconds={alone_1[name]:.2f} "
                    f"alone_ten_x_seconds={alone_10[name]:.2f} "
                    f"alone_ratio={alone_10[name] / max(alone_1[name], 1e-3):.2f}"
                )
            print(line)
        for name, (value, target) in ratios.items():
            met = value <= target
            ok &= met
            print(f"ratio_{name}={value:.3f} target<={target:g} met={met}")
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
