"""#18's attacks, one regression test each: what a hostile tree, environment or careless
user did to hardcheck, and what it must do instead."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time

import pytest

import hardcheck
from hardcheck.report import FORMATS
from tests.conftest import make_tree, run_cli
from tests.faultserver import RawServer
from tests.robustness.conftest import STATS


def test_an_nginx_include_is_held_to_max_file_size(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"nginx.conf": "events {}\nhttp {\n    include big.conf;\n    server { listen 80; }\n}\n"},
    )
    with open(root / "big.conf", "wb") as fh:
        fh.truncate(100 * 1024 * 1024)  # 100 MB, sparse: nothing is read if the size is checked
    t0 = time.monotonic()
    report = hardcheck.audit(root, only=["headers", "uploads", "logging"], cache=False)
    assert time.monotonic() - t0 < 10
    errors = [f for f in report.findings if f.status.value == "error"]
    assert errors and all("big.conf" in f.message for f in errors), [f.message for f in errors]
    assert any("larger than max-file-size" in f.message for f in errors)
    STATS["trees"] += 1


def _all_formats(root, tmp_path, *extra):
    args = [f"--format={fmt}:{tmp_path / ('out.' + fmt)}" for fmt in FORMATS]
    run = run_cli("audit", str(root), "--no-cache", *args, *extra)
    assert "Traceback" not in run.stderr, run.stderr[-2000:]
    return run, {fmt: (tmp_path / f"out.{fmt}").read_bytes() for fmt in FORMATS}


def test_a_lone_surrogate_from_the_tree_is_escaped_in_every_format(tmp_path):
    config = {
        "version": 1,
        "handlers": {"h": {"class": "logging.StreamHandler", "level": "DEBUG"}},
        "loggers": {"evil\udc80\ud800name": {"level": "DEBUG", "handlers": ["h"]}},
    }
    root = make_tree(tmp_path / "t", {})
    (root / "logging.json").write_text(json.dumps(config))  # JSON escapes keep the surrogates
    run, outputs = _all_formats(root, tmp_path, "--only", "logging")
    assert run.code in (0, 1), run.stderr
    for fmt, data in outputs.items():
        data.decode("utf-8")  # well-formed UTF-8: no raw surrogate could be written
        if fmt != "openmetrics":  # counts only
            assert b"ud800" in data, fmt  # and the name is shown, escaped
    STATS["trees"] += 1


def test_control_characters_from_the_tree_and_the_config_never_reach_a_report(tmp_path):
    import junitparser

    config = {
        "version": 1,
        "handlers": {"h": {"class": "logging.StreamHandler", "level": "DEBUG"}},
        "loggers": {"evil\x1b[31mname\x07": {"level": "DEBUG", "handlers": ["h"]}},
    }
    root = make_tree(
        tmp_path / "t",
        {
            "settings.py": "DEBUG = True\nINSTALLED_APPS = []\n",
            "hardcheck.toml": '[owners]\nAPP001 = "\\u001b[2Jteam"\n\n'
            '[[suppress]]\nrule = "APP002"\nreason = "\\u001b]0;pwned\\u0007 ok"\n',
        },
    )
    (root / "logging.json").write_text(json.dumps(config))
    _, outputs = _all_formats(root, tmp_path, "--only", "logging,permissions")
    for fmt, data in outputs.items():
        assert b"\x1b" not in data and b"\x07" not in data, fmt
    junitparser.JUnitXml.fromfile(str(tmp_path / "out.junit"))  # well-formed XML 1.0
    assert b"\\x1b[2Jteam" in outputs["console"]  # shown, escaped


def test_a_fifo_where_history_has_a_file_does_not_hang_the_run(tmp_path):
    root = make_tree(tmp_path / "t", {"old.py": 'TOKEN = "ghp_' + "Zq8Rt2Lm9Vx4" * 3 + '"\n'})
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "secret"], check=True)
    subprocess.run([*git, "rm", "-q", "old.py"], check=True)
    subprocess.run([*git, "commit", "-qm", "gone"], check=True)
    os.mkfifo(root / "old.py")
    t0 = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "hardcheck", "audit", str(root), "--only", "secrets",
         "--history", "5", "--no-cache", "--format", f"json:{tmp_path / 'r.json'}"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert time.monotonic() - t0 < 60 and "Traceback" not in run.stderr, run.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text())
    assert any(f["rule_id"] == "SEC004" for f in report["findings"])  # history still read
    STATS["trees"] += 1


def test_bad_reports_configs_and_outputs_are_one_line_and_exit_2(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    good = tmp_path / "good.json"
    assert run_cli("audit", str(root), "-q", "--no-cache", f"--format=json:{good}").code == 0
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    minimal = tmp_path / "min.json"
    minimal.write_text('{"schema_version": "1.0", "findings": []}')
    string_score = tmp_path / "str.json"
    data = json.loads(good.read_text())
    data["summary"]["score"] = "high"
    string_score.write_text(json.dumps(data))
    nested_toml = make_tree(
        tmp_path / "toml", {"hardcheck.toml": "a = " + "[" * 600 + "]" * 600 + "\n"}
    )
    cases = [
        ("audit", str(nested_toml), "-q"),
        ("diff", str(deep), str(good)),
        ("merge", str(deep)),
        ("diff", str(minimal), str(good)),
        ("merge", str(minimal)),
        ("audit", str(root), "-q", "--trend", str(string_score)),
        ("audit", str(root), "-q", "--baseline", str(deep)),
        ("merge", str(good), "-o", "/dev/full"),
        ("merge", str(good), "-o", str(tmp_path / "no-such-dir" / "x.json")),
    ]
    for args in cases:
        run = run_cli(*args)
        assert run.code == 2, (args, run.code, run.stderr[-500:])
        assert "Traceback" not in run.stderr and len(run.stderr.strip().splitlines()) == 1, args


def _key_home(tmp_path, name):
    home = tmp_path / name
    (home / "hardcheck").mkdir(parents=True, mode=0o700)
    return home, home / "hardcheck" / "fingerprint.key"


def test_a_fingerprint_key_others_can_write_is_not_trusted(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": 'TOKEN = "ghp_' + "Zq8Rt2Lm9Vx4" * 3 + '"\n'})
    cases = {}
    home, key = _key_home(tmp_path, "world-writable")
    key.write_bytes(b"k" * 32)
    os.chmod(key, 0o666)
    cases["writable by others"] = home
    home, key = _key_home(tmp_path, "short")
    key.write_bytes(b"short")
    os.chmod(key, 0o600)
    cases["holds no 32-byte key"] = home
    home, key = _key_home(tmp_path, "directory")
    key.mkdir()
    cases["not a regular file"] = home
    for why, home in cases.items():
        out = tmp_path / f"{home.name}.json"
        run = run_cli(
            "audit", str(root), "--only", "secrets", "-q", f"--format=json:{out}",
            "--cache-dir", str(tmp_path / f"cache-{home.name}"),
            env={"XDG_DATA_HOME": str(home), "HARDCHECK_FINGERPRINT_KEY": "", "HARDCHECK_NO_CACHE": ""},
        )  # fmt: skip
        assert "Traceback" not in run.stderr, run.stderr[-1500:]
        report = json.loads(out.read_text())
        assert report["run"]["cache"]["note"].startswith("cache off"), report["run"]["cache"]
        assert why in report["run"]["cache"]["note"]
        assert any(f["rule_id"] == "SEC001" for f in report["findings"])


def test_credentials_in_urls_are_redacted_in_every_format(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": "x = 1\n",
            "requirements.txt": "requests @ git+https://oauth2:ghp_"
            + "Zq8Rt2Lm9Vx4" * 3
            + "@github.com/psf/requests.git\n",
        },
    )
    url = "http://admin:pw-s3cr3t@127.0.0.1:9/?page=2&token=t0k3n-s3cr3t"
    _, outputs = _all_formats(root, tmp_path, "--only", "headers,dependencies", "--url", url)
    for fmt, data in outputs.items():
        assert b"s3cr3t" not in data and b"ghp_" not in data, fmt
    assert b"REDACTED@127.0.0.1:9/?page=2&token=REDACTED" in outputs["json"]
    assert b"REDACTED@github.co" in outputs["json"]  # the message is cut at 160 characters


def test_a_credential_bearing_log_format_is_shown_by_its_field_names(tmp_path):
    config = {
        "version": 1,
        "formatters": {"f": {"format": "token=s3cr3t-l1t3ral %(asctime)s %(request)s"}},
        "handlers": {"h": {"class": "logging.StreamHandler", "formatter": "f"}},
        "root": {"level": "INFO", "handlers": ["h"]},
    }
    root = make_tree(tmp_path / "t", {})
    (root / "logging.json").write_text(json.dumps(config))
    _, outputs = _all_formats(root, tmp_path, "--only", "logging")
    report = json.loads(outputs["json"])
    (log007,) = [f for f in report["findings"] if f["rule_id"] == "LOG007"]
    assert log007["evidence"] == "fields: asctime, request"
    for fmt, data in outputs.items():
        assert b"s3cr3t" not in data, fmt


class _Recorder(RawServer):
    """https and http on one port (TLS is sniffed from the first byte), recording each
    request's headers; `/go-elsewhere` redirects to another origin, `other` records too."""

    def __init__(self, context, redirect_to: str = ""):
        super().__init__()
        self.context, self.redirect_to, self.seen = context, redirect_to, []

    def _handle(self, conn):
        import socket
        import ssl

        try:
            first = conn.recv(1, socket.MSG_PEEK)
            scheme = "http"
            if first == b"\x16":
                conn = self.context.wrap_socket(conn, server_side=True)
                scheme = "https"
            head = self.read_head(conn) or b""
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1] if " " in lines[0] else "/"
            headers = {
                k.lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:]) if k
            }
            self.seen.append((scheme, path, headers))
            if path.startswith("/go-elsewhere") and self.redirect_to:
                answer = (
                    f"HTTP/1.1 302 Found\r\nLocation: {self.redirect_to}\r\nContent-Length: 0\r\n"
                )
            else:
                answer = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2\r\n"
            conn.sendall(
                (answer + "Connection: close\r\n\r\n" + ("ok" if "200" in answer else "")).encode()
            )
        except (OSError, ssl.SSLError):
            pass
        finally:
            conn.close()


def test_configured_request_headers_go_only_to_the_origin_named(tmp_path):
    import ssl

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with _Recorder(context) as other, _Recorder(context) as named:
        named.redirect_to = f"{other.url}/landing"
        root = make_tree(
            tmp_path / "t",
            {"hardcheck.toml": f'[headers]\nca-file = "{ca_file}"\n'
             '[headers.request-headers]\nX-Api-Key = "k3y-s3cr3t"\n'},
        )  # fmt: skip
        https = f"https://127.0.0.1:{named.port}"
        hardcheck.audit(root, only=["headers"], urls=[f"{https}/", f"{https}/go-elsewhere"])
    to_named = [(s, p, h.get("x-api-key")) for s, p, h in named.seen]
    assert ("https", "/", "k3y-s3cr3t") in to_named  # sent where the user named it
    assert all(key is None for scheme, _, key in to_named if scheme == "http")  # not the twin
    assert other.seen and all("x-api-key" not in h for _, _, h in other.seen)  # nor elsewhere


def test_an_inline_ignore_of_a_secret_follows_the_inline_ignore_rules(tmp_path):
    token = "ghp_" + "Zq8Rt2Lm9Vx4" * 3
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": f'API_TOKEN = "{token}"  # hardcheck: ignore[SEC001]\n'
            f'TEST_TOKEN = "{token[:-1]}Q"  # hardcheck: ignore[SEC001] a test fixture, never deployed\n'
        },
    )
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    fails = sorted(
        (f.rule_id, f.location.line) for f in report.findings if f.status.value == "fail"
    )
    assert fails == [("CFG001", 1), ("SEC001", 1)]  # no reason: suppresses nothing, and says so
    assert [(s.finding.rule_id, s.finding.location.line, s.reason) for s in report.suppressed] == [
        ("SEC001", 2, "a test fixture, never deployed")
    ]


def _children_of(pid: int) -> set[int]:
    """Every live descendant of `pid`, from /proc (Linux)."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    parents[int(entry)] = int(fh.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
    found, frontier = set(), {pid}
    while frontier:
        frontier = {c for c, p in parents.items() if p in frontier} - found
        found |= frontier
    return found


def _slow_tree(tmp_path):
    """3,000 modules of shell calls: bandit and the whole-tree audits take many seconds,
    in worker processes with --jobs 2."""
    body = "import subprocess\n\n" + "".join(
        f"def f{j}(x):\n    return subprocess.call(x, shell=True)\n\n" for j in range(20)
    )
    files = {f"pkg{d}/m{i}.py": body for d in range(20) for i in range(150)}
    return make_tree(tmp_path / "t", files)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc (Linux)")
def test_sigterm_to_the_main_process_alone_closes_the_pipe_within_two_seconds(tmp_path):
    import signal

    root = _slow_tree(tmp_path)
    proc = subprocess.Popen(
        [sys.executable, "-m", "hardcheck", "audit", str(root), "--no-cache", "--jobs", "2", "-q"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while not _children_of(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)  # until the worker process runs (the main process is the other)
    assert proc.poll() is None and _children_of(proc.pid), "the run ended before it had workers"
    children = _children_of(proc.pid)
    t0 = time.monotonic()
    os.kill(proc.pid, signal.SIGTERM)  # the main process only, as a CI runner's timeout does
    out, closed = _read_until_eof(proc.stdout, within=5.0)
    try:
        assert closed and time.monotonic() - t0 < 2, "children held the pipe open"
    finally:
        for pid in children:  # never leave them behind, whatever the verdict
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    assert proc.wait() == 143 and b"interrupted (SIGTERM)" in out
    time.sleep(0.2)
    assert not {pid for pid in children if _alive(pid)}, "orphans left"


def _read_until_eof(stream, within: float) -> tuple[bytes, bool]:
    """What the pipe delivers until EOF (True) or until `within` seconds pass (False)."""
    import select

    data, end = b"", time.monotonic() + within
    while time.monotonic() < end:
        ready, _, _ = select.select([stream], [], [], max(0.0, end - time.monotonic()))
        if ready:
            chunk = os.read(stream.fileno(), 65536)
            if not chunk:
                return data, True
            data += chunk
    return data, False


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for init to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_a_run_past_its_timeout_ends_within_seconds_and_says_it_is_incomplete(tmp_path):
    root = _slow_tree(tmp_path)
    out = tmp_path / "r.json"
    t0 = time.monotonic()
    run = run_cli(
        "audit", str(root), "--no-cache", "--jobs", "2", "--timeout", "1", "-q",
        f"--format=json:{out}",
    )  # fmt: skip
    assert time.monotonic() - t0 < 1 + 4, "the deadline did not stop the run"
    assert run.code == 3, run.stderr[-1000:]
    report = json.loads(out.read_text())
    timed_out = [f for f in report["findings"] if f["rule_id"] == "RUN001"]
    assert timed_out and all("timed out after 1s" in f["message"] for f in timed_out)


def test_a_report_never_replaces_a_file_of_the_tree_nor_follows_a_link_there(tmp_path):
    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    outside = tmp_path / "outside.json"
    (root / "link.json").symlink_to(outside)
    refused = run_cli("audit", str(root), "-q", "--format", "json", "-o", str(root / "app.py"))
    assert refused.code == 2 and "not a hardcheck report" in refused.stderr
    assert (root / "app.py").read_text() == "x = 1\n"  # untouched
    linked = run_cli("audit", str(root), "-q", f"--format=json:{root / 'link.json'}")
    assert linked.code == 2 and "symlink" in linked.stderr and not outside.exists()
    for fmt in FORMATS:  # a report in the checkout is fine, and so is replacing it next run
        if fmt == "console":
            continue
        target = root / f"report.{fmt}"
        for _ in range(2):
            run = run_cli("audit", str(root), "-q", "--no-cache", f"--format={fmt}:{target}")
            assert run.code == 0, (fmt, run.stderr)
    forced = run_cli(
        "audit", str(root), "-q", "--format", "json", "-o", str(root / "app.py"),
        "--overwrite-in-target",
    )  # fmt: skip
    assert forced.code == 0 and '"schema_version"' in (root / "app.py").read_text()


def test_config_error_messages_escape_what_they_quote_even_on_a_terminal(tmp_path):
    import pty

    root = make_tree(tmp_path / "t", {"app.py": "x = 1\n"})
    for config in (
        '"\\u001b[2Jbad" = 1\n',
        '[owners]\n"\\u001b[2Jx" = "y"\n',
        '[[suppress]]\nrule = "\\u001b]0;pwned\\u0007APP001"\nreason = "r"\n',
    ):
        (root / "hardcheck.toml").write_text(config)
        leader, follower = pty.openpty()
        proc = subprocess.Popen(
            [sys.executable, "-m", "hardcheck", "audit", str(root), "-q"],
            stdin=follower, stdout=follower, stderr=follower,
        )  # fmt: skip
        os.close(follower)
        assert proc.wait(timeout=60) == 2
        said = b""
        with contextlib.suppress(OSError):
            while chunk := os.read(leader, 65536):
                said += chunk
        os.close(leader)
        assert b"hardcheck: error:" in said
        # (the spinner's own colour codes are hardcheck's; the quoted sequences must not be)
        assert b"\x1b[2J" not in said and b"\x1b]0;" not in said and b"\x07" not in said
        assert b"\\x1b" in said  # shown, escaped


def test_a_yaml_list_of_150000_items_is_scanned_for_secrets_line_by_line(tmp_path):
    """detect-secrets' pure-Python YAML transformer took 5 s on one such list (the hostile
    inputs benchmark's last case): a YAML file past 50,000 values is read as lines, and a
    secret in it is still found."""
    items = ", ".join(["verbose"] * 150_000)
    root = make_tree(
        tmp_path / "t",
        {
            "logging.yaml": f"version: 1\nhandlers: {{}}\nroot:\n  level: [{items}]\n"
            "aws_key: AKIAZ4X7Q2LMNB3VRT6P\n"
        },
    )
    t0 = time.monotonic()
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    assert time.monotonic() - t0 < 30  # a safety net; the counter below is what must hold
    secrets_stats = next(a for a in report.audits if a.name == "secrets").stats
    assert secrets_stats["yaml_read_as_lines"] == 1
    assert [f.location.line for f in report.findings if f.rule_id == "SEC001"] == [5]
