"""The command line as a user meets it: flags, config errors, output formats, init."""

from __future__ import annotations

import json
import os
import re

import pytest

from tests.conftest import SAMPLES, copy_sample, findings_of, make_tree, run_cli

ANSI = re.compile(r"\x1b\[")


def test_version_and_module_entry_point():
    run = run_cli("--version")
    assert run.code == 0
    assert re.fullmatch(r"hardcheck \d+\.\d+\.\d+\n", run.stdout)


def test_console_script_version_loads_neither_cli_nor_engines():
    """`hardcheck --version` is the console script's fast path: same text as the CLI's,
    without importing click, rich or an engine; `rules` and `explain` load no engine."""
    import subprocess
    import sys

    fast = subprocess.run(
        [sys.executable, "-X", "importtime", "-c",
         "import sys; sys.argv = ['hardcheck', '--version']; from hardcheck.entry import main; main()"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert fast.stdout == run_cli("--version").stdout
    imported = {line.split("|")[-1].strip() for line in fast.stderr.splitlines()}
    assert not imported & {"click", "rich", "typing", "hardcheck.cli", "bandit", "detect_secrets"}
    for args in (["rules"], ["explain", "B602"]):
        slow = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "hardcheck", *args],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        modules = {line.split("|")[-1].strip() for line in slow.stderr.splitlines()}
        assert "click" in modules  # the measurement sees imports
        assert not {m for m in modules if m.split(".")[0] in ("bandit", "detect_secrets", "httpx")}


def test_one_audit_imports_only_what_it_and_its_config_tables_need(tmp_path):
    """A headers-only JSON run imports no other audit and no console renderer; an audit
    whose table the config has is still imported, so its table is still validated."""
    import json
    import subprocess
    import sys

    tree, listing = tmp_path / "svc", tmp_path / "modules.json"
    tree.mkdir()
    script = (
        "import json, sys\n"
        f"sys.argv = ['hardcheck', 'audit', {str(tree)!r}, '--only', 'headers', '--format', 'json', '--no-cache']\n"
        "from hardcheck.cli import main\n"
        "try:\n    main()\n"
        f"finally:\n    open({str(listing)!r}, 'w').write(json.dumps(sorted(sys.modules)))\n"
    )

    def imported(config: str) -> tuple[set[str], subprocess.CompletedProcess]:
        (tree / "hardcheck.toml").write_text(config)
        run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
        return set(json.loads(listing.read_text())), run

    modules, run = imported("[headers]\nprofile = 'strict'\n")
    assert run.returncode == 0, run.stderr[-500:]
    packages = {m.split(".")[2] for m in modules if m.startswith("hardcheck.audits.")}
    assert packages == {"base", "headers"}  # no other audit's package is loaded
    assert "hardcheck.report.json_report" in modules
    assert "hardcheck.report.console" not in modules
    assert "multiprocessing" not in modules  # worker pools start only for the tree audits

    modules, run = imported("[code]\nseverity = 'loud'\n")
    assert run.returncode == 2, run.stderr[-500:]
    assert "hardcheck.audits.code.audit" in modules and "code" in run.stderr


def test_help_has_examples_and_exit_codes():
    run = run_cli("audit", "--help")
    assert run.code == 0
    assert "hardcheck audit . --format json --output report.json" in run.stdout
    assert "3  incomplete" in run.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["audit", "--fail-on", "severe"], "Invalid value for '--fail-on'"),
        (["audit", "--bogus"], "No such option"),
        (["audit", "--only", "permisions"], "did you mean 'permissions'?"),
        (["audit", "--format", "yaml"], "unknown format 'yaml'"),
        (["audit", "/nonexistent/service"], "target not found"),
        (["audit", "--config", "/nonexistent/hardcheck.toml"], "config file not found"),
    ],
)
def test_usage_errors_exit_2_without_traceback(args, needle, tmp_path):
    run = run_cli(*args, cwd=tmp_path)
    assert run.code == 2, run
    assert needle in run.stderr
    assert "Traceback" not in run.stderr + run.stdout


def _config_error(tmp_path, text: str, name: str = "hardcheck.toml") -> str:
    make_tree(tmp_path, {name: text, "app.py": "x = 1\n"})
    run = run_cli("audit", str(tmp_path))
    assert run.code == 2, run
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, lines  # one readable line
    return lines[0]


def test_unknown_key_names_file_key_and_suggestion(tmp_path):
    line = _config_error(tmp_path, 'fial-on = "high"\n')
    assert "hardcheck.toml" in line
    assert "unknown key 'fial-on'" in line
    assert "did you mean 'fail-on'?" in line


def test_unknown_key_in_pyproject_table(tmp_path):
    line = _config_error(
        tmp_path, "[tool.hardcheck.permissions]\nexpected_modes = {}\n", name="pyproject.toml"
    )
    assert "pyproject.toml" in line
    assert "tool.hardcheck.permissions.expected_modes" in line
    assert "did you mean 'expected-modes'?" in line


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('fail-on = "hgh"\n', "did you mean 'high'?"),
        ('timeout = "soon"\n', "'timeout' must be of type number"),
        ('max-file-size = "2 parsecs"\n', "expected bytes, or a string with a unit"),
        ('[[suppress]]\nrule = "PRM002"\nreason = "x"\nexpires = "someday"\n', "YYYY-MM-DD"),
        ('[[suppress]]\nrule = "PRM999"\nreason = "x"\n', "'PRM999' is not a known rule"),
        ('[owners]\npermisions = "me"\n', "did you mean 'permissions'?"),
        ('[permissions.expected-modes]\n".env" = { mode = "rw-------" }\n', "mode"),
        ("fail-on = [\n", "invalid TOML"),
    ],
)
def test_bad_values_are_one_clear_line(tmp_path, text, needle):
    assert needle in _config_error(tmp_path, text)


def test_cli_overrides_config_file(tmp_path):
    root = copy_sample("insecure-fastapi", tmp_path)
    (root / "hardcheck.toml").write_text('fail-on = "critical"\nonly = ["permissions"]\n')
    assert run_cli("audit", str(root)).code == 0  # nothing critical among permissions
    assert run_cli("audit", str(root), "--fail-on", "high").code == 1
    assert run_cli("audit", str(root), "--only", "secrets").code == 1  # critical secrets


def test_json_to_stdout_is_only_json(tmp_path, validate_report):
    run = run_cli("audit", str(SAMPLES / "insecure-fastapi"), "--format", "json")
    assert run.code == 1
    report = validate_report(run.json())
    assert report["summary"]["exit_code"] == 1


def test_json_to_file_keeps_console_on_terminal(tmp_path, validate_report):
    out = tmp_path / "r.json"
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--format", "json", "--output", str(out)
    )
    assert run.code == 1
    assert "summary:" in run.stdout and "✘" in run.stdout
    report = validate_report(json.loads(out.read_text()))
    fails = [f for f in report["findings"] if f["status"] == "fail"]
    assert fails
    for f in fails:
        assert f["owner"] and f["expected"] and f["rollback"], f
    assert not list(tmp_path.glob(".r.json.*"))  # atomic write left no temporary file


def test_format_with_path_syntax(tmp_path, validate_report):
    out = tmp_path / "sub.json"
    run = run_cli("audit", str(SAMPLES / "hardened-fastapi"), "--format", f"json:{out}", "--quiet")
    assert run.code == 0
    validate_report(json.loads(out.read_text()))
    assert "✔ pass" not in run.stdout  # --quiet hides passing items
    assert "result: PASS" in run.stdout


def test_unwritable_output_is_a_usage_error(tmp_path):
    run = run_cli(
        "audit", str(SAMPLES / "hardened-fastapi"), "--format", "json", "-o", "/nonexistent/r.json"
    )
    assert run.code == 2
    assert "cannot write the json report" in run.stderr


def test_no_color_and_pipes_are_plain(tmp_path):
    for env, args in (({}, []), ({"NO_COLOR": "1"}, []), ({}, ["--no-color"])):
        run = run_cli("audit", str(SAMPLES / "insecure-fastapi"), *args, env=env)
        assert not ANSI.search(run.stdout)
        assert not re.search("[─━│┃┌┐└┘]", run.stdout)  # no box drawing


def test_console_checklist_content():
    run = run_cli("audit", str(SAMPLES / "insecure-fastapi"))
    assert run.code == 1
    out = run.stdout
    assert "✘ HIGH     PRM002" in out
    assert "owner: platform" in out and "rollback:" in out and "expected:" in out
    assert re.search(r"summary: \d+ fail \(\d+ critical, \d+ high", out)
    assert out.rstrip().endswith("(exit 1)") and "result: FAIL" in out
    # the summary comes first, then the failures most severe first across audits
    lines = out.splitlines()
    assert out.index("summary:") < out.index("failures, most severe first")
    severities = [
        m.group(1) for m in (re.match(r"  ✘ (\w+) +[A-Z]{3}\d{3} ", line) for line in lines) if m
    ]
    assert severities[0] == "CRITICAL" and len(severities) == 59
    order = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFO"]
    assert [order.index(s) for s in severities] == sorted(order.index(s) for s in severities)
    # passes and skips are one line per audit, not an item each
    assert "✔ pass" not in out and "– skip" not in out
    headers = next(line for line in lines if line.startswith("  ✔ headers"))
    assert "2 of 25 checks ran" in headers and "no URL given" in out
    # one service in the tree: named once in the header, not on every item
    assert lines[0].count("service insecure-fastapi") == 1
    assert "(service insecure-fastapi)" not in out


def test_verbose_console_shows_every_item_by_audit_with_what_it_read():
    run = run_cli("audit", str(SAMPLES / "insecure-fastapi"), "--verbose", "--no-cache")
    assert run.code == 1
    out = run.stdout
    assert re.search(r"^permissions ✘ fail  \(\d+\.\d\ds\)", out, re.M)
    assert "✔ pass     PRM001" in out and "– skip     HDR001" in out
    assert re.search(r"read: .*paths checked 22", out)
    # the summary closes the verbose checklist
    assert out.index("permissions ✘ fail") < out.index("summary:")
    short = run_cli("audit", str(SAMPLES / "insecure-fastapi"), "-v", "--no-cache")
    assert short.stdout.replace(" ", "")[:200] == out.replace(" ", "")[:200]


def test_init_writes_then_refuses(tmp_path):
    run = run_cli("init", str(tmp_path))
    assert run.code == 0
    written = (tmp_path / "hardcheck.toml").read_text()
    assert 'fail-on = "high"' in written and written.count("#") > 10
    again = run_cli("init", str(tmp_path))
    assert again.code == 2 and "not overwriting" in again.stderr
    assert (tmp_path / "hardcheck.toml").read_text() == written
    # the starter config is itself valid
    make_tree(tmp_path, {"app.py": "x = 1\n"})
    assert run_cli("audit", str(tmp_path)).code == 0


def test_init_refuses_when_pyproject_has_table(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.hardcheck]\nfail-on = 'low'\n")
    run = run_cli("init", str(tmp_path))
    assert run.code == 2
    assert not (tmp_path / "hardcheck.toml").exists()


def test_init_pyproject_appends_a_valid_section(tmp_path):
    original = '[project]\nname = "svc"\nversion = "1"\n'
    (tmp_path / "pyproject.toml").write_text(original)
    assert run_cli("init", "--pyproject", str(tmp_path)).code == 0
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)  # existing content untouched
    assert "[tool.hardcheck]" in text and "[tool.hardcheck.owners]" in text
    assert "# [[tool.hardcheck.suppress]]" in text
    make_tree(tmp_path, {"app.py": "x = 1\n"})
    run = run_cli("audit", str(tmp_path), "--format", "json")
    assert run.code == 0, run.stderr
    assert run.json()["run"]["config"]["file"].endswith("pyproject.toml")
    assert run_cli("init", "--pyproject", str(tmp_path)).code == 2


def test_schema_command_prints_both_schemas():
    report = run_cli("schema")
    assert report.code == 0 and json.loads(report.stdout)["title"] == "hardcheck report"
    config = run_cli("schema", "config")
    schema = json.loads(config.stdout)
    assert "permissions" in schema["properties"] and "fail-on" in schema["properties"]


def test_environment_development_downgrades_debug(tmp_path):
    root = make_tree(
        tmp_path / "t", {"app/main.py": "from fastapi import FastAPI\napp = FastAPI(debug=True)\n"}
    )
    prod = run_cli("audit", str(root), "--only", "permissions", "--format", "json")
    dev = run_cli(
        "audit",
        str(root),
        "--only",
        "permissions",
        "--format",
        "json",
        "--environment",
        "development",
    )
    assert [f["severity"] for f in findings_of(prod.json(), "APP001", "fail")] == ["high"]
    assert [f["severity"] for f in findings_of(dev.json(), "APP001", "fail")] == ["info"]
    assert prod.code == 1 and dev.code == 0


def test_progress_only_on_a_terminal(tmp_path):
    """Piped stderr stays silent; under a pseudo-terminal the spinner shows on stderr."""
    import pty

    run = run_cli("audit", str(SAMPLES / "hardened-fastapi"), "-q")
    assert run.stderr == ""
    out = tmp_path / "out.txt"
    code = pty.spawn(
        [
            "/bin/sh",
            "-c",
            f"{__import__('sys').executable} -m hardcheck audit {SAMPLES / 'hardened-fastapi'} -q --format json:{tmp_path / 'r.json'} > {out}",
        ]
    )
    assert os.waitstatus_to_exitcode(code) == 0
    assert "result: PASS" in out.read_text()


def test_cli_conventions_short_options_case_and_exit_zero(tmp_path):
    root = make_tree(tmp_path / "t", {"settings.py": "DEBUG = True\nINSTALLED_APPS = []\n"})
    out = tmp_path / "r.json"
    config = tmp_path / "hc.toml"
    config.write_text('fail-on = "critical"\n')
    run = run_cli("audit", str(root), "-q", "-f", "json", "-o", str(out), "-c", str(config))
    assert run.code == 0 and json.loads(out.read_text())["run"]["config"]["fail_on"] == "critical"
    assert run_cli("audit", str(root), "-q", "--fail-on", "HIGH").code == 1  # case-insensitive
    assert run_cli("audit", str(root), "-q", "--exit-zero").code == 0  # as ruff and bandit


def test_usage_mistakes_say_what_was_meant(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    run = run_cli("audit", str(root), "-q", "--url", "staging.example.com")
    assert run.code == 2 and "did you mean 'https://staging.example.com'?" in run.stderr
    run = run_cli("audit", str(root / "app.py"), "-q")
    assert run.code == 2 and "is a file hardcheck cannot audit" in run.stderr


def test_the_config_used_is_named_and_a_shadowed_one_is_said(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": "x = 1\n",
            "hardcheck.toml": 'fail-on = "low"\n',
            "pyproject.toml": '[tool.hardcheck]\nfail-on = "critical"\n',
        },
    )
    run = run_cli("audit", str(root), "--only", "permissions")
    assert "config hardcheck.toml" in run.stdout and "fail-on low" in run.stdout
    assert "[tool.hardcheck] is ignored" in run.stderr
    (root / "hardcheck.toml").unlink()
    run = run_cli("audit", str(root), "--only", "permissions")
    assert "config pyproject.toml" in run.stdout and "is ignored" not in run.stderr


def test_fail_on_never_reports_everything_and_exits_0_unless_incomplete(tmp_path):
    out = tmp_path / "r.json"
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--fail-on", "NEVER", "-f", f"json:{out}"
    )
    assert run.code == 0 and "--fail-on never" in run.stdout
    report = json.loads(out.read_text())
    assert report["run"]["fail_on"] == "never" and report["summary"]["exit_code"] == 0
    assert report["summary"]["by_status"]["fail"] == 59  # nothing hidden
    # the config file takes it too; an audit that cannot look still says so (exit 3)
    root = make_tree(tmp_path / "t", {"hardcheck.toml": 'fail-on = "never"\n', "app.py": "x = 1\n"})
    assert run_cli("audit", str(root)).code == 0
    (root / "requirements.txt").write_text("flask==2.0.0\n")
    missing = str(tmp_path / "no-such-db")
    assert run_cli("audit", str(root), "--only", "dependencies", "--vuln-db", missing).code == 3


def test_severity_filters_the_checklist_not_the_machine_formats_or_the_gate(tmp_path):
    out = tmp_path / "r.json"
    md = tmp_path / "r.md"
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--severity", "Critical,low",
        "-f", f"json:{out}", "-f", f"markdown:{md}", "-f", "console",
    )  # fmt: skip
    assert run.code == 1  # the 30 high findings still fail the run
    shown = re.findall(r"^  ✘ ([A-Z]+) +[A-Z]{3}\d{3} ", run.stdout, re.M)
    assert set(shown) == {"CRITICAL", "LOW"} and len(shown) == 15
    assert "44 failure(s) of other severities not shown (--severity critical,low)" in run.stdout
    assert json.loads(out.read_text())["summary"]["by_status"]["fail"] == 59
    assert "<b>HIGH</b>" not in md.read_text() and "<b>CRITICAL</b>" in md.read_text()
    bad = run_cli("audit", str(SAMPLES / "insecure-fastapi"), "--severity", "crit")
    assert bad.code == 2 and "unknown crit" in bad.stderr


def test_failures_in_test_code_are_one_line_by_default_and_listed_with_verbose(tmp_path):
    asserts = "".join(f"def test_{i}():\n    assert {i}\n" for i in range(5))
    root = make_tree(tmp_path / "t", {"app.py": "assert True\n", "tests/test_app.py": asserts})
    run = run_cli("audit", str(root), "--only", "code", "--no-cache")
    assert "  ✘ LOW      COD001" in run.stdout  # app code: listed
    assert "… and 5 in test code, at info (COD001 ×5): -v lists them" in run.stdout
    assert "tests/test_app.py" not in run.stdout
    verbose = run_cli("audit", str(root), "--only", "code", "--no-cache", "-v")
    assert verbose.stdout.count("tests/test_app.py:") == 5
