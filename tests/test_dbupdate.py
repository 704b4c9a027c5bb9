"""`hardcheck db update` against a real HTTP server on 127.0.0.1 serving OSV exports built
from ../shared/osv-pypi: a good archive is installed and then read by default; a truncated
download, a corrupt archive, a record that is not OSV, a path out of the archive and a
zip bomb are refused, each leaving the installed database exactly as it was."""

from __future__ import annotations

import http.server
import io
import json
import os
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from hardcheck.audits.dependencies.osv import osv_json
from tests.conftest import SAMPLES, SHARED, copy_sample, run_cli

OSV = SHARED / "osv-pypi" / "vulns"
PACKAGES = ("fastapi", "jinja2", "urllib3", "requests", "pyyaml", "django", "flask")


def _export() -> bytes:
    """OSV's all.zip shape: one <id>.json per advisory, flat."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for package in PACKAGES:
            for path in sorted((OSV / package).glob("*.yaml")):
                record = osv_json(yaml.safe_load(path.read_text()))
                zf.writestr(f"{record['id']}.json", json.dumps(record))
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _corrupt(archive: bytes) -> bytes:
    """Flip a byte inside the first member's compressed data: its CRC check fails."""
    info = zipfile.ZipFile(io.BytesIO(archive)).infolist()[0]
    at = info.header_offset + 30 + len(info.filename) + len(info.extra) + 10
    return archive[:at] + bytes([archive[at] ^ 0xFF]) + archive[at + 1 :]


@pytest.fixture(scope="module")
def server():
    good = _export()
    record = json.dumps({"id": "PYSEC-0000-1", "modified": "2024-01-01T00:00:00Z"}).encode()
    bodies = {
        "/all.zip": good,
        "/corrupt.zip": _corrupt(good),
        "/not-a-zip.zip": b"<html>maintenance</html>",
        "/not-osv.zip": _zip({"a.json": b'{"hello": "world"}'}),
        "/escape.zip": _zip({"../../escape.json": record}),
        "/bomb.zip": _zip({"big.json": b" " * (64 * 1024 * 1024)}),
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/truncated.zip":  # promises the whole export, sends half
                self.send_response(200)
                self.send_header("Content-Length", str(len(good)))
                self.end_headers()
                self.wfile.write(good[: len(good) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            body = bodies.get(self.path)
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _state(directory: Path) -> tuple[str, list[tuple[str, int]]]:
    """Where the database link points and every file under it, with sizes."""
    real = os.path.realpath(directory)
    files = sorted((str(p.relative_to(real)), p.stat().st_size) for p in Path(real).rglob("*"))
    return real, files


def test_db_update_installs_and_audits_read_it_by_default(server, tmp_path):
    data = tmp_path / "data"
    env = {"HARDCHECK_DATA_DIR": str(data), "HARDCHECK_OSV_URL": ""}
    run = run_cli("db", "update", "--from", f"{server}/all.zip", env=env)
    assert run.code == 0, run.stderr
    db = data / "osv-pypi"
    assert db.is_symlink() and "installed" in run.stdout
    provenance = json.loads((db / "hardcheck-db.json").read_text())
    assert provenance["records"] == len(list(db.glob("*.json"))) - 1
    assert provenance["newest"].startswith("2024-")
    # the sample without its own vuln-db setting: the installed database is the default
    root = copy_sample("insecure-fastapi", tmp_path)
    config = root / "hardcheck.toml"
    config.write_text(config.read_text().replace('vuln-db = "../vulndb"', ""))
    out = tmp_path / "r.json"
    audit = run_cli("audit", str(root), "--only", "dependencies", f"--format=json:{out}", env=env)
    report = json.loads(out.read_text())
    (deps,) = report["audits"]
    assert "offline OSV database osv-pypi" in deps["message"], deps
    vulnerable = {f["location"]["setting"] for f in report["findings"] if f["rule_id"] == "DEP001"}
    assert {"fastapi", "jinja2", "urllib3", "requests", "pyyaml"} <= vulnerable
    # its age is said, and past max-db-age it is a warning on the console
    assert deps["stats"]["vuln_db_age_days"] > 7 and "STALE" in deps["message"]
    assert "warning: the vulnerability database is" in audit.stdout
    config.write_text(config.read_text() + "\n[dependencies]\nmax-db-age = 100000\n")
    fresh = run_cli("audit", str(root), "--only", "dependencies", env=env)
    assert "warning: the vulnerability database" not in fresh.stdout
    # a second update swaps in a new version and removes the old one
    before = os.path.realpath(db)
    assert run_cli("db", "update", "--from", f"{server}/all.zip", env=env).code == 0
    assert os.path.realpath(db) != before and not os.path.exists(before)
    assert sorted(p.name for p in data.iterdir() if not p.name.startswith("osv-pypi.")) == [
        "osv-pypi"
    ]


@pytest.mark.parametrize(
    "path, why",
    [
        ("/truncated.zip", "truncated"),
        ("/corrupt.zip", "Error"),
        ("/not-a-zip.zip", "not a zip archive"),
        ("/not-osv.zip", "not an OSV record"),
        ("/escape.zip", "unexpected file in the archive"),
        ("/bomb.zip", "refused"),
        ("/missing.zip", "HTTP 404"),
    ],
)
def test_a_bad_download_leaves_the_installed_database_as_it_was(server, tmp_path, path, why):
    data = tmp_path / "data"
    env = {"HARDCHECK_DATA_DIR": str(data)}
    assert run_cli("db", "update", "--from", f"{server}/all.zip", env=env).code == 0
    before = _state(data / "osv-pypi")
    run = run_cli("db", "update", "--from", server + path, env=env)
    assert run.code == 1 and why in run.stderr and "unchanged" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr
    assert _state(data / "osv-pypi") == before
    leftovers = [p.name for p in data.iterdir() if p.name.startswith(".")]
    assert leftovers == []  # the temporary download is gone
    assert not (tmp_path / "escape.json").exists()


def test_db_update_refuses_a_directory_it_did_not_install(server, tmp_path):
    mine = tmp_path / "my-db"
    mine.mkdir()
    (mine / "keep.json").write_text("{}")
    run = run_cli("db", "update", "--dir", str(mine), "--from", f"{server}/all.zip")
    assert run.code == 1 and "not a database installed by" in run.stderr
    assert (mine / "keep.json").read_text() == "{}"
    assert SAMPLES.exists()


def test_db_update_refuses_a_url_that_is_not_http_before_touching_anything(tmp_path):
    data = tmp_path / "data"
    run = run_cli(
        "db",
        "update",
        "--from",
        "ftp://example.invalid/all.zip",
        env={"HARDCHECK_DATA_DIR": str(data)},
    )
    assert run.code == 2 and "not an http(s) URL" in run.stderr
    assert not data.exists()
