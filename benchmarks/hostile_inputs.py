"""Hostile inputs, measured: peak memory and time of one hardcheck run per case, each in a
fresh child process (so its peak resident memory is its own), against the bounds of #18:
200 MB and 5 s per case.

    python benchmarks/hostile_inputs.py            # a table, exit 1 if a case is over

Cases: YAML alias bombs of growing depth in logging.yaml and docker-compose.yml; TOML
and JSON nested past the recursion limit (a config, a report given to diff); an nginx
include of a 100 MB (sparse) file; a logging level that is a 150,000-item list.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

MEMORY_LIMIT_MB = 200
TIME_LIMIT_S = 5.0


def bomb(levels: int, head: str) -> str:
    lines = [head, "l0: &l0 [" + ", ".join(["x"] * 9) + "]"]
    for i in range(1, levels + 1):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def cases(base: Path) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for levels in (6, 9, 12):
        root = write(
            base / f"bomb{levels}",
            {
                "logging.yaml": bomb(levels, "version: 1\nhandlers: {}"),
                "docker-compose.yml": bomb(levels, "services: {}"),
            },
        )
        out.append((f"YAML alias bomb, 9^{levels + 1} values", ["audit", str(root)]))
    toml = write(base / "toml", {"hardcheck.toml": "a = " + "[" * 600 + "]" * 600 + "\n"})
    out.append(("TOML config nested 600 deep", ["audit", str(toml)]))
    deep = base / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    out.append(("JSON report nested 100,000 deep (diff)", ["diff", str(deep), str(deep)]))
    nginx = write(
        base / "nginx",
        {"nginx.conf": "events {}\nhttp { include big.conf; server { listen 80; } }\n"},
    )
    with open(nginx / "big.conf", "wb") as fh:
        fh.truncate(100 * 1024 * 1024)
    out.append(("nginx include of a 100 MB file", ["audit", str(nginx)]))
    big = "[" + ", ".join(["verbose"] * 150_000) + "]"
    level = write(
        base / "level", {"logging.yaml": f"version: 1\nhandlers: {{}}\nroot:\n  level: {big}\n"}
    )
    out.append(("logging level of 150,000 items", ["audit", str(level)]))
    return out


def measure(args: list[str]) -> tuple[float, float, int]:
    """Seconds, peak RSS in MB of the child (and its children), exit code."""
    code = (
        "import resource, subprocess, sys, time; t = time.monotonic(); "
        "r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL); "
        "print(time.monotonic() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, sys.executable, "-m", "hardcheck", *args,
         "--no-cache", "-q"] if args[0] == "audit" else
        [sys.executable, "-c", code, sys.executable, "-m", "hardcheck", *args],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    seconds, kb, rc = run.stdout.split()
    return float(seconds), int(kb) / 1024, int(rc)


def main() -> int:
    over = 0
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'case':<42} {'time (s)':>9} {'peak (MB)':>10} {'exit':>5}  verdict")
        for name, args in cases(Path(tmp)):
            seconds, mb, rc = measure(args)
            ok = seconds <= TIME_LIMIT_S and mb <= MEMORY_LIMIT_MB and rc in (0, 1, 2, 3)
            over += not ok
            print(f"{name:<42} {seconds:>9.2f} {mb:>10.1f} {rc:>5}  {'ok' if ok else 'OVER'}")
    print(f"bounds: {TIME_LIMIT_S:g} s and {MEMORY_LIMIT_MB} MB per case; {over} over")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
