"""Bad input: each case gives a clear skip/error item, never a traceback, and the run
completes with the other results intact."""

from __future__ import annotations

import json
import os
import socket

import pytest

from tests.conftest import findings_of, make_tree, run_cli, tree_digest, without_dac_override

INSECURE_SETTINGS = "DEBUG = True\nINSTALLED_APPS = []\n"


def _audit(root, *extra, prefix=()):
    run = run_cli("audit", str(root), "--format", "json", *extra, prefix=prefix)
    assert "Traceback" not in run.stderr, run.stderr
    assert run.code in (0, 1, 3), run
    return run, json.loads(run.stdout)


def test_unreadable_file_and_directory(tmp_path, validate_report):
    root = make_tree(
        tmp_path / "t",
        {
            "mysite/settings.py": INSECURE_SETTINGS,
            "private/notes.txt": "n\n",
            "locked.py": "DEBUG = True\n",
        },
    )
    os.chmod(root / "private", 0o000)
    os.chmod(root / "locked.py", 0o000)
    try:
        run, report = _audit(root, prefix=without_dac_override())
    finally:
        os.chmod(root / "private", 0o755)
    validate_report(report)
    errors: dict[str, list[str]] = {}
    for f in findings_of(report, "RUN002", "error"):
        errors.setdefault(f["location"]["path"], []).append(f["message"])
    assert any("cannot list directory" in m for m in errors["private"])
    assert any("Permission denied" in m for m in errors["locked.py"])
    assert {
        f["audit"]
        for f in findings_of(report, "RUN002", "error")
        if f["location"]["path"] == "locked.py"
    } >= {"permissions", "secrets"}
    # the readable settings file was still audited, and its finding decides the exit code
    assert findings_of(report, "APP001", "fail")
    assert run.code == 1
    assert report["summary"]["complete"] is False  # the audit says it could not look everywhere


def test_unreadable_only_gives_exit_3(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n", "private/a.txt": "a\n"})
    os.chmod(root / "private", 0o000)
    try:
        run, report = _audit(root, prefix=without_dac_override())
    finally:
        os.chmod(root / "private", 0o755)
    assert run.code == 3
    assert report["audits"][0]["status"] == "error"


def test_symlinks_dangling_looping_and_to_root(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"app.py": "x = 1\n"},
        links={"dangling": "does-not-exist", "loop_a": "loop_b", "loop_b": "loop_a", "root": "/"},
    )
    run, report = _audit(root)
    skipped = {f["location"]["path"]: f["message"] for f in findings_of(report, "RUN003", "skip")}
    assert "symlink loop" in skipped["loop_a"] and "symlink loop" in skipped["loop_b"]
    assert [f["location"]["path"] for f in findings_of(report, "PRM005", "fail")] == ["root"]
    assert "dangling" not in skipped  # a dangling link inside the tree is harmless
    assert run.code == 0  # PRM005 is medium


def test_non_utf8_and_control_character_file_names(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    bad = os.fsencode(root) + b"/caf\xe9\x1b[31m.env"
    with open(bad, "wb") as fh:
        fh.write(b"SECRET=1\n")
    os.chmod(bad, 0o644)
    _, report = _audit(root)
    paths = [f["location"]["path"] for f in findings_of(report, "PRM002", "fail")]
    assert paths == ["caf\\xe9\\x1b[31m.env"]
    console = run_cli("audit", str(root))
    assert "\x1b" not in console.stdout
    assert "caf\\xe9\\x1b[31m.env" in console.stdout


def test_binary_and_huge_python_files(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"blob.py": b"DEBUG = True\x00\x01\x02" * 10, "mysite/settings.py": INSECURE_SETTINGS},
    )
    with open(root / "huge.py", "wb") as fh:  # 200 MB, sparse: costs no disk
        fh.truncate(200 * 1024 * 1024)
    run, report = _audit(root)
    skipped = {f["location"]["path"]: f["message"] for f in findings_of(report, "RUN003", "skip")}
    assert "binary" in skipped["blob.py"]
    assert "larger than max-file-size" in skipped["huge.py"]
    assert findings_of(report, "APP001", "fail")  # the rest was still audited
    for audit in report["audits"]:
        if audit["name"] in ("permissions", "code"):
            assert audit["stats"]["inputs_skipped"] == 2, audit
    assert run.code == 1


def test_settings_with_syntax_error(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "mysite/settings.py": "DEBUG = (\nALLOWED_HOSTS = ['*']\n",
            "other/settings.py": INSECURE_SETTINGS,
        },
    )
    _, report = _audit(root)
    errors = findings_of(report, "RUN002", "error")
    assert {f["location"]["path"] for f in errors} == {"mysite/settings.py"}
    assert {f["audit"] for f in errors} >= {
        "permissions",
        "uploads",
    }  # every audit that lost it says so
    assert "syntax error at line" in errors[0]["message"]
    assert [f["location"]["path"] for f in findings_of(report, "APP001", "fail")] == [
        "other/settings.py"
    ]


def test_settings_that_would_run_code_is_never_imported(tmp_path):
    marker = tmp_path / "executed"
    root = make_tree(
        tmp_path / "t",
        {
            "mysite/settings.py": f"open({str(marker)!r}, 'w').write('x')\nDEBUG = True\nINSTALLED_APPS = []\n"
        },
    )
    _audit(root)
    assert not marker.exists()


def test_fifo_and_socket_are_never_opened(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    os.mkfifo(root / "pipe.py")  # named like Python: a naive reader would block here forever
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(root / "sock.py"))
    try:
        run, report = _audit(root)
    finally:
        sock.close()
    assert run.code == 0
    assert report["run"]["inventory"]["entries"] >= 3


@pytest.mark.parametrize("kind", ["file", "missing"])
def test_target_that_is_not_a_directory(tmp_path, kind):
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("x")
    run = run_cli("audit", str(target))
    assert run.code == 2
    assert ("cannot audit" if kind == "file" else "not found") in run.stderr


def test_bad_input_leaves_tree_untouched(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"mysite/settings.py": "DEBUG = (\n", "blob.py": b"\x00DEBUG"},
        links={"loop": "loop"},
    )
    before = tree_digest(root)
    _audit(root)
    assert tree_digest(root) == before


def test_a_syntax_error_says_which_python_read_it():
    # PEP 758 (Python 3.14) allows `except A, B:`; an older parser must not call it a bug
    import sys

    from hardcheck.readers.pyast import SourceError, parse_source

    code = b"try:\n    pass\nexcept ValueError, TypeError:\n    pass\n"
    if sys.version_info >= (3, 14):
        assert parse_source(code, "deps.py")
        return
    with pytest.raises(SourceError) as raised:
        parse_source(code, "deps.py")
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"read as Python {version}" in str(raised.value) and "line 3" in str(raised.value)
