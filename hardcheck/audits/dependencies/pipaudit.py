"""pip-audit as a subprocess (it has no stable API): pinned requirements in, JSON out.

A run is valid only when the `-o` file exists and parses; pip-audit exits 1 both for
"vulnerable" and for "crashed", and prints a traceback (creating no file) when the
service is unreachable. Every flag is passed explicitly and PIP_AUDIT_* variables are
removed, so the environment cannot change the output format.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .osv import Vulnerability


class PipAuditError(Exception):
    """pip-audit did not produce a result; the message says why (no secret can be in it:
    only package names and versions are sent)."""


def run_pip_audit(
    pins: list[tuple[str, str]],
    *,
    service: str = "pypi",
    osv_url: str | None = None,
    timeout: int = 15,
) -> tuple[dict[tuple[str, str], list[Vulnerability]], dict[str, str]]:
    """Audit `name==version` pins. Returns vulnerabilities per pin and skip reasons by name."""
    with tempfile.TemporaryDirectory(prefix="hardcheck-pip-audit-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{n}=={v}\n" for n, v in pins), encoding="utf-8")
        out = Path(tmp) / "result.json"
        cmd = [
            sys.executable, "-m", "pip_audit", "-r", str(req), "--no-deps", "--disable-pip",
            "-f", "json", "-o", str(out), "--progress-spinner", "off", "--desc", "on",
            "--aliases", "on", "--cache-dir", str(Path(tmp) / "cache"), "--timeout", str(timeout),
        ]  # fmt: skip
        if osv_url:
            cmd += ["-s", "osv", "--osv-url", osv_url]
        else:
            cmd += ["-s", service]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_AUDIT_")}
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout * max(1, len(pins)) + 60,
            )
        except subprocess.TimeoutExpired:
            raise PipAuditError("pip-audit did not finish in time") from None
        except OSError as exc:
            raise PipAuditError(f"pip-audit could not be started: {exc}") from None
        try:
            data = json.loads(out.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise PipAuditError(_reason(proc)) from None
    if proc.returncode not in (0, 1) or not isinstance(data, dict):
        raise PipAuditError(_reason(proc))
    results: dict[tuple[str, str], list[Vulnerability]] = {}
    skipped: dict[str, str] = {}
    for dep in data.get("dependencies", []):
        name = str(dep.get("name", ""))
        if "skip_reason" in dep:
            skipped[name] = str(dep["skip_reason"])
            continue
        vulns = [
            Vulnerability(
                id=str(v["id"]),
                aliases=tuple(sorted(v.get("aliases", []))),
                summary=" ".join(str(v.get("description", "N/A")).split())[:300],
                fix_versions=tuple(v.get("fix_versions", [])),
                severity=None,  # pip-audit reports no severity
                score="",
                published=None,
            )
            for v in dep.get("vulns", [])
        ]
        results[(name, str(dep.get("version", "")))] = vulns
    if proc.returncode == 1 and not any(results.values()):
        raise PipAuditError(_reason(proc))  # exit 1 without a vulnerability: it failed
    return results, skipped


def _reason(proc: subprocess.CompletedProcess) -> str:
    lines = [
        ln
        for ln in (proc.stderr or "").splitlines()
        if ln.strip() and not ln.startswith("WARNING:")
    ]
    tail = lines[-1].strip() if lines else f"exit code {proc.returncode}"
    if "ConnectionError" in tail or "Max retries" in tail or "Connection refused" in tail:
        return f"the vulnerability service could not be reached ({tail[:200]})"
    return f"pip-audit failed: {tail[:300]}"
