"""Coverage is data: no rule passes unless it looked at what it needs.

Each case here was a wrong verdict before the audit interface returned coverage: a
target ignored by the git checkout around it, pins the vulnerability service could not
look up, a missing vulnerability database, unlistable directories and unreadable files,
UTF-16 text, a headers audit with nothing to read, an upload probe met with silence.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import textwrap
import threading

import hardcheck
from hardcheck.audits.dependencies import audit as dependencies_audit
from hardcheck.audits.dependencies.sources import Answer, VulnerabilitySource
from tests.conftest import SAMPLES, findings_of, make_tree, run_cli, without_dac_override

AWS_LINE = 'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPL3"\n'
VULNDB = SAMPLES / "vulndb"


def _statuses(report, rule: str) -> set[str]:
    return {f.status.value for f in report.findings if f.rule_id == rule}


def test_a_target_the_checkout_around_it_ignores_is_walked(tmp_path):
    repo = tmp_path / "workspace"
    make_tree(
        repo,
        {
            ".gitignore": "build/\n",
            "build/settings.py": (
                "import subprocess\nDEBUG = True\n"
                + AWS_LINE
                + "subprocess.call(input(), shell=True)\n"
            ),
        },
    )
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    report = hardcheck.audit(repo / "build", cache=False)
    assert report.inventory["source"] == "walk"
    assert "ignored by the git checkout" in report.inventory["note"]
    assert "fail" in _statuses(report, "SEC001")
    assert "fail" in _statuses(report, "COD006")  # B602, shell=True
    assert "fail" in _statuses(report, "APP001")
    assert report.exit_code == 1
    # the checkout's own root is still listed by git: nothing changes there
    assert hardcheck.audit(repo, only=["permissions"], cache=False).inventory["source"] == "git"


class _NothingFound(VulnerabilitySource):
    """What pip-audit's PyPI service answers for versions it does not know: every pin
    skipped. (Its PyPI endpoint cannot be pointed at loopback, so the answer is given here.)"""

    where = "pip-audit (pypi)"

    def query(self, pins):
        return Answer({}, {name: "Dependency not found on PyPI" for name, _ in pins}, "pypi")


def test_pins_the_service_could_not_look_up_are_not_a_pass(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "svc", {"requirements.txt": "requests==2.19.0\njinja2==2.10\n"})
    monkeypatch.setattr(dependencies_audit, "source_for", lambda options, base: _NothingFound())
    report = hardcheck.audit(root, only=["dependencies"], cache=False)
    assert _statuses(report, "DEP001") == {"skip"}
    errors = [f.message for f in report.findings if f.status.value == "error"]
    assert any("none of the 2 pinned dependency version(s) could be looked up" in m for m in errors)
    assert report.to_dict()["summary"]["complete"] is False
    assert report.exit_code == 3


def test_a_missing_vulnerability_database_is_no_pass(tmp_path):
    root = make_tree(tmp_path / "svc", {"requirements.txt": "requests==2.19.0\n"})
    report = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": tmp_path / "nonexistent"}}
    )
    assert "pass" not in _statuses(report, "DEP001")
    assert "error" in _statuses(report, "DEP001")
    assert report.exit_code == 3
    # with the database there, the same tree passes what it looked up
    good = hardcheck.audit(
        root, only=["dependencies"], options={"dependencies": {"vuln-db": VULNDB}}
    )
    assert _statuses(good, "DEP001") <= {"fail", "pass"}


def _audit_json(root, *args):
    run = run_cli(
        "audit", str(root), "--no-cache", "--format", "json", *args, prefix=without_dac_override()
    )
    assert "Traceback" not in run.stderr, run.stderr
    return run.code, json.loads(run.stdout)


def test_a_directory_the_process_cannot_list_fails_no_content_rule(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n", "conf/settings.py": AWS_LINE})
    os.chmod(root / "conf", 0o000)
    try:
        code, report = _audit_json(root, "--only", "secrets")
    finally:
        os.chmod(root / "conf", 0o755)
    assert code == 3
    sec001 = findings_of(report, "SEC001", "error")
    assert sec001 and "conf (cannot list directory" in sec001[0]["message"]
    assert not findings_of(report, "SEC001", "pass")
    assert report["audits"][0]["status"] == "error"


def test_an_unreadable_python_file_fails_no_code_rule(tmp_path):
    root = make_tree(tmp_path / "t", {"ok.py": "x = 1\n", "locked.py": "import os\n"})
    os.chmod(root / "locked.py", 0o000)
    code, report = _audit_json(root, "--only", "code")
    assert code == 3
    assert not [f for f in report["findings"] if f["status"] == "pass"]
    errors = findings_of(report, "COD006", "error")
    assert errors and "locked.py" in errors[0]["message"]
    assert findings_of(report, "RUN002", "error")


def test_utf16_env_file_is_scanned(tmp_path):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    root = make_tree(tmp_path / "t", {"README.md": "x\n"})
    (root / ".env").write_bytes(f"GITHUB_TOKEN={token}\r\n".encode("utf-16"))
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    hits = [f for f in report.findings if f.rule_id == "SEC001" and f.status.value == "fail"]
    assert [f.location.path for f in hits] == [".env"]
    assert token not in json.dumps(report.to_dict())


def test_headers_with_nothing_to_read_is_a_skip_and_says_what_ran(tmp_path):
    empty = make_tree(tmp_path / "empty", {"README.md": "x\n"})
    report = hardcheck.audit(empty, only=["headers"], cache=False)
    (summary,) = report.audits
    assert summary.status.value == "skip"
    assert not [f for f in report.findings if f.status.value == "pass"]
    with_nginx = make_tree(
        tmp_path / "nginx",
        {
            "nginx.conf": "events {}\nhttp { server { listen 80; add_header X-Frame-Options DENY always; } }\n"
        },
    )
    report = hardcheck.audit(with_nginx, only=["headers"], cache=False)
    (summary,) = report.audits
    assert summary.status.value == "pass"
    assert "2 of 25 checks ran; 23 did not" in summary.message, summary.message
    assert "no URL given" in summary.message
    reasons = {f.rule_id: f.message for f in report.findings if f.status.value == "skip"}
    assert reasons["HDR020"] == "not applicable: no Django settings module found"
    assert reasons["HDR021"] == "not applicable: no Flask app found"


@contextlib.contextmanager
def _never_reads():
    """Accepts connections and never reads from them: the kernel's buffers fill, then
    the sender blocks."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/upload"
    finally:
        stop.set()
        with contextlib.suppress(OSError):
            server.shutdown(socket.SHUT_RDWR)
        server.close()
        for conn in held:
            conn.close()


def test_an_upload_probe_met_with_silence_is_not_a_refusal(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "hardcheck.toml": '[uploads]\nprobe-limit = "48MiB"\nprobe-timeout = 1\n',
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
    )
    with _never_reads() as url:
        report = hardcheck.audit(
            root, only=["uploads"], options={"uploads": {"probe": [url]}}, cache=False
        )
    verdict = [f for f in report.findings if f.rule_id == "UPL007"]
    assert [f.status.value for f in verdict] == ["error"], [f.message for f in verdict]
    assert "silent" in verdict[0].message
    assert report.exit_code in (1, 3) and not report.complete


# --- the property: an unreadable input never makes its rule pass ------------------------------
PROPERTY_SCRIPT = textwrap.dedent(
    """
    import datetime as dt, json, os, sys
    from pathlib import Path
    import hardcheck
    from hardcheck import audits
    from hardcheck.catalogue import load_catalogue
    sys.path.insert(0, sys.argv[2])
    from tests.conftest import make_tree

    base = Path(sys.argv[1])
    out = {}
    for rule in load_catalogue():
        if rule.audit not in audits.available():
            continue
        example = next((e for e in rule.examples if e.expect != "pass" and e.files), None)
        if example is None:
            continue
        for variant in ("unreadable-files", "unlistable-directory"):
            root = make_tree(base / rule.id / variant, dict(example.files), dict(example.modes))
            if variant == "unreadable-files":
                for rel, _ in example.files:
                    if not rel.endswith(("hardcheck.toml", "pyproject.toml")):
                        os.chmod(root / rel, 0)
            else:
                (root / "hidden").mkdir()
                (root / "hidden" / "x.py").write_text("x = 1\\n")
                os.chmod(root / "hidden", 0)
            report = hardcheck.audit(root, only=[rule.audit], environment=example.environment,
                                     today=dt.date(2026, 1, 1), cache=False)
            out[f"{rule.id}/{variant}"] = sorted(
                {f.status.value for f in report.findings if f.rule_id == rule.id})
    print(json.dumps(out))
    """
)
# Rules that judge names, modes and owners only: they read the inventory's lstat data,
# which an unreadable file still has. An unlistable directory takes even that away.
METADATA_ONLY = {f"PRM00{n}" for n in range(1, 8)} | {"LOG006", "SEC002"}


def test_no_rule_passes_when_its_input_cannot_be_read(tmp_path):
    prefix = without_dac_override()
    script = tmp_path / "property.py"
    script.write_text(PROPERTY_SCRIPT)
    run = subprocess.run(
        [*prefix, sys.executable, str(script), str(tmp_path / "trees"), os.getcwd()],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "HARDCHECK_NO_CACHE": "1"},
    )
    assert run.returncode == 0, run.stderr[-3000:]
    verdicts = json.loads(run.stdout)
    assert len(verdicts) >= 80  # every tree-reading rule with a failing example, twice
    passed = sorted(
        key
        for key, statuses in verdicts.items()
        if "pass" in statuses
        and not (key.endswith("/unreadable-files") and key.split("/")[0] in METADATA_ONLY)
    )
    assert passed == [], passed


def test_a_module_that_does_not_parse_charges_only_the_rules_that_read_such_content(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "app/deps.py": "def get(token):\n    try:\n        pass\n    except (:\n        pass\n",
            "app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n",
        },
    )
    report = hardcheck.audit(root, only=["logging"], cache=False)
    errors = sorted({f.rule_id for f in report.findings if f.status.value == "error"})
    assert errors == ["LOG008", "RUN002"]  # it may read a token from a URL; no logging config
    assert report.exit_code == 3
