"""The result cache: a rerun gives the same report from stored results, a changed file is
scanned again alone, an entry this user did not write is never trusted, the cache fails
open to an uncached run, and it holds no secret."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time

import pytest

import hardcheck
from hardcheck.cache import DB_NAME
from tests.conftest import copy_sample, make_tree, run_cli, tree_digest, without_dac_override
from tests.test_secrets import PLANTED, SOURCE

ENGINES = ("secrets", "code")
WHOLE = ("permissions", "logging", "uploads")


@pytest.fixture()
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("HARDCHECK_NO_CACHE", raising=False)
    path = tmp_path / "cache"
    monkeypatch.setenv("HARDCHECK_CACHE_DIR", str(path))
    return path


@pytest.fixture()
def service(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    (root / "app" / "keys.py").write_text(SOURCE)
    return root


def _audit(root, **kw):
    return hardcheck.audit(root, skip=["headers", "dependencies"], **kw)


def _stats(report) -> dict[str, dict]:
    return {a.name: dict(a.stats) for a in report.audits}


def _comparable(report) -> list[dict]:
    return [f.to_record() for f in report.findings]


def test_rerun_is_the_same_report_from_the_cache(service, cache_dir):
    cold = _audit(service)
    assert cold.cache["written"] > 0 and cold.cache["hits"] == 0
    warm = _audit(service)
    assert _comparable(warm) == _comparable(cold)
    assert warm.exit_code == cold.exit_code == 1
    stats = _stats(warm)
    for name in ENGINES:
        assert stats[name]["cache_misses"] == 0 and stats[name]["cache_hits"] > 0
        assert stats[name]["cache_hits"] == _stats(cold)[name]["cache_misses"]
    for name in WHOLE:
        assert stats[name]["from_cache"] == 1
    assert warm.cache["written"] == 0 and warm.cache["ignored"] == 0
    assert not any(p.name == DB_NAME for p in service.rglob("*"))  # never in the tree


def test_a_changed_file_alone_is_scanned_again(service, cache_dir):
    _audit(service)
    keys = service / "app" / "keys.py"
    keys.write_text(keys.read_text() + f'DB_PASSWORD = "{PLANTED["db_password"]}"\n')
    report = _audit(service)
    stats = _stats(report)
    assert stats["secrets"]["cache_misses"] == 1 and stats["code"]["cache_misses"] == 1
    assert "from_cache" not in stats["uploads"]  # it reads every module
    assert "from_cache" not in stats["logging"]  # keys.py mentions tokens: it reads it
    assert stats["permissions"]["from_cache"] == 1  # none of the settings it looks for
    uncached = _audit(service, cache=False)
    assert _comparable(report) == _comparable(uncached)
    # a module they do read: both run again and see what changed
    keys.write_text(keys.read_text() + "DEBUG = True\nlogging.basicConfig(level='DEBUG')\n")
    report = _audit(service)
    stats = _stats(report)
    assert "from_cache" not in stats["permissions"] and "from_cache" not in stats["logging"]
    assert _comparable(report) == _comparable(_audit(service, cache=False))
    keys.write_text("X = 1\n")  # the secrets are gone: so are their findings
    after = _audit(service)
    assert not [
        f for f in after.findings if f.location.path == "app/keys.py" and f.status.value == "fail"
    ]


def _tamper(cache_dir, transform) -> int:
    conn = sqlite3.connect(cache_dir / DB_NAME)
    with conn:
        rows = conn.execute("SELECT key, value FROM entries").fetchall()
        for key, value in rows:
            conn.execute("UPDATE entries SET value = ? WHERE key = ?", (transform(value), key))
    conn.close()
    return len(rows)


def test_an_entry_this_user_did_not_write_is_ignored_and_rewritten(service, cache_dir):
    cold = _audit(service)
    # someone with write access to the cache claims every file is clean
    count = _tamper(
        cache_dir, lambda v: v.replace(b'"hits":[{', b'"hits":[],"x":[{').replace(b"SEC0", b"XXX0")
    )
    assert count > 0
    tampered = _audit(service)
    assert tampered.cache["ignored"] > 0
    assert _comparable(tampered) == _comparable(cold)
    assert _audit(service).cache["ignored"] == 0  # rewritten with valid entries


def test_entries_signed_with_another_key_are_not_trusted(service, cache_dir, monkeypatch):
    _audit(service)
    monkeypatch.setenv("HARDCHECK_FINGERPRINT_KEY", "another-machine")
    report = _audit(service)
    assert report.cache["hits"] == 0


def test_a_corrupt_database_is_replaced_and_the_run_goes_on(service, cache_dir):
    cold = _audit(service)
    (cache_dir / DB_NAME).write_bytes(b"this is not a database\0" * 100)
    run = run_cli("audit", str(service), "--skip", "headers,dependencies", "-q")
    assert run.code == 1 and "Traceback" not in run.stderr
    assert "cache off for this run" in run.stderr and "not a database" in run.stderr
    again = _audit(service)
    assert again.cache["written"] > 0 and again.cache["note"] == ""
    assert _comparable(again) == _comparable(cold)


def test_a_read_only_cache_is_read_and_not_written(service, cache_dir):
    _audit(service)
    os.chmod(cache_dir, 0o500)
    try:
        keys = service / "app" / "keys.py"
        keys.write_text(keys.read_text() + "Y = 2\n")
        run = run_cli(
            "audit", str(service), "--skip", "headers,dependencies", "--format", "json",
            prefix=without_dac_override(),
        )  # fmt: skip
        assert run.code == 1 and "Traceback" not in run.stderr
        assert "cache read-only" in run.stderr
        cache = run.json()["run"]["cache"]
        assert cache["hits"] > 0 and cache["written"] == 0
    finally:
        os.chmod(cache_dir, 0o700)


def test_a_cache_others_can_write_or_inside_the_tree_is_not_used(service, tmp_path, monkeypatch):
    monkeypatch.delenv("HARDCHECK_NO_CACHE", raising=False)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    report = _audit(service, cache_dir=shared)
    assert not report.cache["enabled"] and "writable by others" in report.cache["note"]
    before = tree_digest(service)
    report = _audit(service, cache_dir=service / ".cache")
    assert not report.cache["enabled"] and "inside the audited tree" in report.cache["note"]
    assert tree_digest(service) == before


def test_no_cache_and_cache_clear(service, cache_dir):
    run = run_cli("audit", str(service), "--no-cache", "-q")
    assert not (cache_dir / DB_NAME).exists() and "warning" not in run.stderr
    _audit(service)
    run = run_cli("cache", "clear")
    assert run.code == 0 and "cached result(s) removed" in run.stdout
    assert not (cache_dir / DB_NAME).exists()
    assert _audit(service).cache["hits"] == 0


def test_the_cache_holds_no_secret(service, cache_dir):
    (service / ".env.staging").write_text(f"DB_PASSWORD={PLANTED['env_password']}\n")
    _audit(service)
    data = b"".join(p.read_bytes() for p in cache_dir.iterdir() if p.is_file())
    assert data
    for value in PLANTED.values():
        assert value.encode() not in data, value
        # nor detect-secrets' unsalted SHA-1 of it, which a guess can be checked against
        assert hashlib.sha1(value.encode()).hexdigest().encode() not in data, value


def test_jobs_and_timeouts_do_not_change_what_is_cached(cache_dir, tmp_path):
    files = {
        f"pkg/m{i}.py": "import subprocess\nsubprocess.call(cmd, shell=True)\n" for i in range(60)
    }
    root = make_tree(tmp_path / "t", files)
    pooled = hardcheck.audit(root, only=["code"], jobs=2)
    assert dict(pooled.audits[0].stats)["worker_processes"] == 2
    inproc = hardcheck.audit(root, only=["code"], jobs=1)
    assert dict(inproc.audits[0].stats)["cache_hits"] == 60
    assert _comparable(inproc) == _comparable(pooled)


def test_unchanged_files_are_not_read_again_and_a_changed_one_always_is(service, cache_dir):
    """Like git's index: a settled file whose size, times, inode and device are as recorded
    is not read again. Content changed with the same size and the old mtime put back is
    still seen: its ctime moved."""
    past = 1_700_000_000
    for path in service.rglob("*"):
        if path.is_file() and not path.is_symlink():
            os.utime(path, (past, past))
    time.sleep(2.1)  # facts are kept only for files whose times have settled (ctime too)
    cold = _audit(service)
    assert cold.cache["unchanged"] == 0
    warm = _audit(service)
    # every file some audit read (empty files are read by none)
    files = sum(1 for p in service.rglob("*") if p.is_file() and p.stat().st_size > 0)
    assert warm.cache["unchanged"] == files
    assert _comparable(warm) == _comparable(cold)
    keys = service / "app" / "keys.py"
    text = keys.read_text()
    forged = text.replace(PLANTED["aws_id"], "AKIAZZZZZZZZZZZZZZZZ")
    assert len(forged) == len(text) and forged != text
    keys.write_text(forged)
    os.utime(keys, (past, past))
    after = _audit(service)
    assert after.cache["unchanged"] == files - 1
    assert _comparable(after) == _comparable(_audit(service, cache=False))
    assert _comparable(after) != _comparable(cold)
    # changed just now (ctime): not settled, so its new facts are not kept yet
    assert _audit(service).cache["unchanged"] == files - 1


def test_file_facts_are_not_counted_as_results(tmp_path):
    from hardcheck.cache import ResultCache

    (tmp_path / "c").mkdir()
    cache = ResultCache(tmp_path / "c", mac_key=b"k")
    cache.put_many({"fact": ["digest", []]}, count=False)
    assert cache.stats.written == 0
    cache.put_many({"result": {"hits": []}})
    assert cache.stats.written == 1
    assert cache.get_many(["fact"], count=False) == {"fact": ["digest", []]}
    assert (cache.stats.hits, cache.stats.misses) == (0, 0)


def test_the_headers_audit_without_a_url_is_cached_and_sees_a_changed_setting(tmp_path, cache_dir):
    root = copy_sample("django-app", tmp_path)
    (root / "notes.py").write_text("X = 1\n")
    first = hardcheck.audit(root, only=["headers"])
    again = hardcheck.audit(root, only=["headers"])
    assert _stats(again)["headers"].get("from_cache") == 1
    assert _comparable(again) == _comparable(first)
    # a module without settings markers stays out of the key; a settings module does not
    (root / "notes.py").write_text("X = 2\n")
    assert _stats(hardcheck.audit(root, only=["headers"]))["headers"].get("from_cache") == 1
    settings = next(p for p in root.rglob("settings*.py"))
    settings.write_text(settings.read_text() + "\nSESSION_COOKIE_SECURE = False\n")
    changed = hardcheck.audit(root, only=["headers"])
    assert "from_cache" not in _stats(changed)["headers"]
    assert _comparable(changed) == _comparable(hardcheck.audit(root, only=["headers"], cache=False))
    assert _comparable(changed) != _comparable(first)


def test_the_headers_audit_with_a_url_is_never_cached(tmp_path, cache_dir):
    root = copy_sample("django-app", tmp_path)
    url = ["http://127.0.0.1:9/"]  # nothing listens: the run is live all the same
    hardcheck.audit(root, only=["headers"], urls=url)
    again = hardcheck.audit(root, only=["headers"], urls=url)
    assert "from_cache" not in _stats(again)["headers"]


@pytest.mark.parametrize("audit", ["permissions", "headers"])
def test_a_settings_module_production_loads_is_in_the_key_whatever_its_name(
    tmp_path, cache_dir, audit
):
    # prod.py has none of the markers and no settings-like name: only the service model
    # (DJANGO_SETTINGS_MODULE in the Procfile) says production loads it
    root = make_tree(
        tmp_path / "t",
        {
            "Procfile": "web: DJANGO_SETTINGS_MODULE=mysite.prod gunicorn mysite.wsgi\n",
            "mysite/__init__.py": "",
            "mysite/wsgi.py": "application = None\n",
            "mysite/base.py": "MIDDLEWARE = ['django.middleware.security.SecurityMiddleware']\n"
            "ALLOWED_HOSTS = ['example.com']\nDEBUG = False\n",
            "mysite/staging.py": "MIDDLEWARE = []\nALLOWED_HOSTS = ['*']\nDEBUG = True\n",
            "mysite/prod.py": "from .base import *\n",
        },
    )
    first = hardcheck.audit(root, only=[audit])
    assert _stats(hardcheck.audit(root, only=[audit]))[audit].get("from_cache") == 1
    (root / "mysite/prod.py").write_text("from .staging import *\n")  # still no marker
    changed = hardcheck.audit(root, only=[audit])
    assert "from_cache" not in _stats(changed)[audit]
    assert _comparable(changed) == _comparable(hardcheck.audit(root, only=[audit], cache=False))
    assert _comparable(changed) != _comparable(first)
