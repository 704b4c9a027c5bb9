"""The secrets audit. Every secret value in this file is made up (pragma: allowlist secret)."""

from __future__ import annotations

import hashlib
import json
import string
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import hardcheck
from hardcheck.audits.secrets.scan import VERIFICATION_FILTER, ScanOptions, settings_config
from tests.conftest import SAMPLES, copy_sample, make_tree, run_cli
from tests.test_inventory import GIT_ENV, _git

# Values planted in fixtures; none of them may ever appear in any output.
PLANTED = {
    "aws_id": "AKIAQ4R7T2LMN5XP8W3Z",
    "stripe_live": "sk_live_51HqR8sL2k9Xw3Vn7Tp4Bz6Ym0Qa",
    "stripe_test": "sk_test_51HqR8sL2k9Xw3Vn7Tp4Bz6Ym0Qb",
    "stripe_restricted": "rk_live_51HqR8sL2k9Xw3Vn7Tp4Bz6Ym0Qc",
    "google": "AIzaSyD4kR8sL2k9Xw3Vn7Tp4Bz6Ym0Qa5Cd1Ef",
    "openai": "sk-proj-R8sL2k9Xw3Vn7Tp4Bz6Ym0Qa5Cd1Ef2Gh3",
    "github_pat": "github_pat_11ABCDEFG0R8sL2k9Xw3Vn_7Tp4Bz6Ym0Qa5Cd1Ef2Gh3Jk4Lm5Np6Qr7St8Uv9Wx0Yz1Ab2Cd3Ef4Gh5",
    "access_token": "Tq8Rz2Lm9Vx4Kp7Wn3Yb6",
    "slack": "xoxb-2048193847-1039482756123-Qm9Kx2Lr8Vt3Np6Zs4Wy7Hb1",
    "db_password": "Zq8Rt2Lm9Vx4",
    "django_key": "k3$9vq!z7w@u2m#x8c1n6b4v0p5r2t9y",
    "env_password": "hunter2hunter2",
    "short": "hunter2",
}

SOURCE = f"""
aws_access_key_id = "{PLANTED["aws_id"]}"
STRIPE_LIVE = "{PLANTED["stripe_live"]}"
STRIPE_TEST = "{PLANTED["stripe_test"]}"
STRIPE_RESTRICTED = "{PLANTED["stripe_restricted"]}"
GOOGLE = "{PLANTED["google"]}"
OPENAI = "{PLANTED["openai"]}"
GH = "{PLANTED["github_pat"]}"
config = {{"access_token": "{PLANTED["access_token"]}"}}
SLACK = "{PLANTED["slack"]}"
"""


def _fails(report, rule=None):
    return [
        f
        for f in report.findings
        if f.status.value == "fail" and (rule is None or f.rule_id == rule)
    ]


def _detect_secrets_scan(root) -> dict:
    """detect-secrets' own verdict on a tree, for comparison: its results by file."""
    proc = subprocess.run(
        [sys.executable, "-m", "detect_secrets", "scan", "--all-files", "."],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout)["results"]


def test_hardcheck_detectors_find_what_detect_secrets_misses(tmp_path):
    root = make_tree(tmp_path / "t", {"app/keys.py": SOURCE})
    report = hardcheck.audit(root, only=["secrets"])
    by_line = {f.location.line: f for f in _fails(report, "SEC001")}
    assert len(by_line) == len(_fails(report, "SEC001"))  # one finding per token and line
    expected = {
        2: "AWSKeyDetector",
        3: "StripeAnyKeyDetector",
        4: "StripeAnyKeyDetector",
        5: "StripeAnyKeyDetector",
        6: "GoogleApiKeyDetector",
        7: "OpenAIProjectKeyDetector",
        8: "GitHubFineGrainedTokenDetector",
        9: "AccessTokenAssignmentDetector",
        10: "SlackDetector",
    }
    for line, detector in expected.items():
        assert line in by_line, (line, detector)
        assert detector in by_line[line].evidence, by_line[line].evidence
    assert by_line[2].severity.value == "critical"
    assert by_line[4].severity.value == "medium"  # a Stripe test-mode key


def test_placeholders_and_keyless_key_headers_are_quiet(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "docs/example.py": (
                'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"\n'
                'GITHUB_TOKEN = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"\n'
                'API_KEY = "<your-api-key>"\n'
                'password = "${DB_PASSWORD}"\n'
            ),
            # the full-stack FastAPI template's .env: its app refuses to start with these
            ".env": "SECRET_KEY=changethis\nFIRST_SUPERUSER_PASSWORD=changethis\n",
            "docs/keys.md": "Put your key after the header:\n\n-----BEGIN RSA PRIVATE KEY-----\n...\n",
        },
    )
    report = hardcheck.audit(root, only=["secrets"])
    assert _fails(report) == [], [(f.location.display(), f.evidence) for f in _fails(report)]


def test_dotenv_with_percent_is_still_scanned(tmp_path):
    text = f"DISCOUNT=10%\nDB_PASSWORD={PLANTED['env_password']}\nAPI_SECRET=Kp7WRt2Lm9VxQ4Lm\nEMPTY=\nREF=${{OTHER}}\n"
    root = make_tree(tmp_path / "t", {".env": text})
    report = hardcheck.audit(root, only=["secrets"])
    lines = sorted(f.location.line for f in _fails(report, "SEC001"))
    assert lines == [2, 3]
    # detect-secrets alone reports nothing for this file (the '%' breaks its config transformer);
    # without the '%' line it reports both keyword secrets
    assert _detect_secrets_scan(root) == {}


def test_latin1_file_is_scanned_not_skipped(tmp_path):
    data = f'# caf\xe9\nAWS = "{PLANTED["aws_id"]}"\n'.encode("latin-1")
    root = make_tree(tmp_path / "t", {"legacy.py": data})
    report = hardcheck.audit(root, only=["secrets"])
    assert [f.location.line for f in _fails(report, "SEC001")] == [2]
    assert report.audits[0].stats["decoded_latin1"] == 1


def test_yaml_alias_bomb_is_scanned_as_lines_and_small_aliases_are_not(tmp_path):
    # 9 levels of 9 references: detect-secrets' YAML transformer walked it for ~50 s
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(8)
    )
    secret = f'aws: "{PLANTED["aws_id"]}"\n'
    small = "base: &base {timeout: 3}\nprod: *base\n"
    root = make_tree(tmp_path / "t", {"bomb.yaml": bomb + secret, "ok.yml": small + secret})
    report = hardcheck.audit(root, only=["secrets"], timeout=30)
    assert sorted((f.location.path, f.location.line) for f in _fails(report, "SEC001")) == [
        ("bomb.yaml", 10),
        ("ok.yml", 3),
    ]
    assert report.audits[0].stats["yaml_read_as_lines"] == 1  # the bomb only


def test_pragma_allowlist_is_honoured(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "a.py": f'KEY = "{PLANTED["aws_id"]}"  # pragma: allowlist secret\n',
            ".env": f"# pragma: allowlist nextline secret\nDB_PASSWORD={PLANTED['env_password']}\n",
        },
    )
    assert _fails(hardcheck.audit(root, only=["secrets"])) == []


def test_framework_secrets_through_the_ast(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "mysite/settings.py": (
                "import os\n"
                f"SECRET_KEY = '{PLANTED['django_key']}'\n"
                f"DATABASES = {{'default': {{'ENGINE': 'x', 'PASSWORD': '{PLANTED['db_password']}'}}}}\n"
                "JWT_SECRET = os.getenv('JWT_SECRET', 'fallback-signing-key-123')\n"
                "API_SECRET = os.environ['API_SECRET']\n"
            ),
            "app.py": (
                "from flask import Flask\nimport jwt\napp = Flask(__name__)\n"
                "app.config['SECRET_KEY'] = 'Vx4Zq8Rt2Lm9Kp7W'\n"
                "tok = jwt.encode({}, 'Rt2Lm9Vx4Zq8Kp7W', algorithm='HS256')\n"
                "DB = create_engine('postgresql://app:Kp7WRt2Lm9Vx@db/app')\n"
            ),
        },
    )
    report = hardcheck.audit(root, only=["secrets"])
    sec3 = {(f.location.path, f.location.line): f for f in _fails(report, "SEC003")}
    assert set(sec3) == {
        ("mysite/settings.py", 2),
        ("mysite/settings.py", 3),
        ("mysite/settings.py", 4),
        ("app.py", 4),
        ("app.py", 5),
        ("app.py", 6),
    }
    assert sec3[("mysite/settings.py", 4)].severity.value == "medium"  # env with a literal fallback
    assert "falls back" in sec3[("mysite/settings.py", 4)].message
    # the same secret is not also reported as a generic SEC001 on that line
    assert not {(f.location.path, f.location.line) for f in _fails(report, "SEC001")} & set(sec3)


def test_default_excludes_binary_and_oversize_are_counted(tmp_path):
    secret_line = f'KEY = "{PLANTED["aws_id"]}"\n'
    root = make_tree(
        tmp_path / "t",
        {
            "locale/fr/LC_MESSAGES/django.po": f'msgid "{PLANTED["aws_id"]}"\n',
            "static/app.min.js": f'var k="{PLANTED["aws_id"]}";',
            "poetry.lock": secret_line,
            "img.png": b"\x89PNG\x00\x00" + PLANTED["aws_id"].encode(),
            "big.py": secret_line * 50,
            "hardcheck.toml": "max-file-size = 1000\n",
        },
    )
    report = hardcheck.audit(root, only=["secrets"])
    stats = report.audits[0].stats
    assert (
        stats["files_excluded"] == 3
        and stats["skipped_binary"] == 1
        and stats["skipped_too_large"] == 1
    )
    assert _fails(report) == []
    assert [f.location.path for f in report.findings if f.rule_id == "RUN003"] == ["big.py"]
    (root / "hardcheck.toml").write_text("[secrets]\ndefault-excludes = false\n")
    assert len(_fails(hardcheck.audit(root, only=["secrets"]))) == 3


def test_config_patterns_keywords_and_plugins(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "a.py": 'INTERNAL = "acme_Xq9Lm2Vt8Rz4"\nmy_credential_blob = "Bq7Tz2Lm9Wx"\n',
            "hardcheck.toml": (
                '[secrets]\npatterns = { acme = "(acme_[A-Za-z0-9]{12})" }\n'
                'keywords = ["my_credential_blob"]\ndisable-plugins = ["KeywordDetector"]\n'
            ),
        },
    )
    report = hardcheck.audit(root, only=["secrets"])
    detectors = {f.location.line: f.evidence for f in _fails(report, "SEC001")}
    assert "pattern:acme" in detectors[1]
    assert "pattern:keyword my_credential_blob" in detectors[2]


def test_baseline_false_positives_stay_quiet_and_corrupt_baseline_is_an_error(tmp_path):
    value = PLANTED["aws_id"]
    root = make_tree(tmp_path / "t", {"a.py": f'K = "{value}"\n', "b.py": f'K = "{value}"\n'})
    baseline = {
        "version": "1.5.0",
        "plugins_used": [{"name": "EvilPlugin", "path": "file:///nonexistent/evil.py"}],
        "filters_used": [],
        "results": {
            "a.py": [
                {
                    "type": "AWS Access Key",
                    "filename": "a.py",
                    "hashed_secret": hashlib.sha1(value.encode()).hexdigest(),
                    "is_verified": False,
                    "line_number": 1,
                    "is_secret": False,
                }
            ]
        },
    }
    (root / ".secrets.baseline").write_text(json.dumps(baseline))
    report = hardcheck.audit(root, only=["secrets"])
    assert [f.location.path for f in _fails(report, "SEC001")] == ["b.py"]
    assert report.audits[0].stats["baseline_false_positives"] == 1
    (root / ".secrets.baseline").write_text("{not json")
    report = hardcheck.audit(root, only=["secrets"])
    errors = [f for f in report.findings if f.rule_id == "RUN002"]
    assert errors and errors[0].location.path == ".secrets.baseline"
    assert "cannot be used" in errors[0].message
    assert sorted(f.location.path for f in _fails(report, "SEC001")) == ["a.py", "b.py"]
    assert report.exit_code == 1


def test_pool_and_in_process_give_the_same_findings(tmp_path):
    filler = "".join(f"value_{i} = compute({i})  # ordinary code line\n" for i in range(3000))
    files = {f"pkg/mod{i}.py": filler + (SOURCE if i % 5 == 0 else "") for i in range(12)}
    root = make_tree(tmp_path / "t", files)
    one = hardcheck.audit(root, only=["secrets"], jobs=1)
    two = hardcheck.audit(root, only=["secrets"], jobs=2)
    assert two.audits[0].stats["worker_processes"] == 2
    assert one.audits[0].stats["worker_processes"] == 0
    key = lambda r: sorted((f.location.path, f.location.line, f.evidence) for f in _fails(r))  # noqa: E731
    assert key(one) == key(two) and len(key(one)) == 27


def test_recall_parity_with_detect_secrets(tmp_path):
    """Every secret `detect-secrets scan` reports is reported by hardcheck (same files)."""
    root = make_tree(
        tmp_path / "t",
        {
            "app/keys.py": SOURCE,
            "config/settings.yaml": f"db:\n  password: {PLANTED['db_password']}\nhex: 'a8f5f167f44f4964e6c998dee827110c'\n",
            "config/app.ini": f"[db]\npassword = {PLANTED['env_password']}\n",
            "deploy/run.sh": f"export TOKEN='{PLANTED['access_token']}'\ncurl https://user:{PLANTED['db_password']}@example.com/\n",
            "web/app.js": f'const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.{PLANTED["django_key"][:10]}abc";\n',
        },
    )
    theirs = _detect_secrets_scan(root)
    assert sum(len(v) for v in theirs.values()) >= 8
    ours: dict[str, list[int]] = {}
    for f in _fails(hardcheck.audit(root, only=["secrets"])):
        ours.setdefault(f.location.path, []).append(f.location.line)
    for filename, results in theirs.items():
        for r in results:
            # hardcheck keeps one finding per secret per file, at its first line
            assert any(line <= r["line_number"] for line in ours.get(filename, [])), (filename, r)


def test_verification_is_never_enabled():
    config = settings_config(ScanOptions())
    assert VERIFICATION_FILTER not in {f["path"] for f in config["filters_used"]}
    assert any("is_placeholder" in f["path"] for f in config["filters_used"])


def _repo(tmp_path, monkeypatch, files):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    root = make_tree(tmp_path / "repo", files)
    _git(root, "init", "-q")
    return root


def test_committed_and_unignored_secret_files(tmp_path, monkeypatch):
    root = _repo(
        tmp_path,
        monkeypatch,
        {
            ".gitignore": ".env\n",
            ".env": "X=1\n",
            ".env.local": "X=1\n",
            "certs/tls.key": "k\n",
            ".env.example": "X=\n",
        },
    )
    _git(root, "add", ".gitignore", ".env.example")
    _git(root, "add", "-f", "certs/tls.key")
    _git(root, "commit", "-qm", "init")
    report = hardcheck.audit(root, only=["secrets"])
    sec2 = {f.location.path: f.severity.value for f in _fails(report, "SEC002")}
    assert sec2 == {"certs/tls.key": "high", ".env.local": "medium"}


def test_history_scan_reports_removed_secrets_with_commit(tmp_path, monkeypatch):
    root = _repo(tmp_path, monkeypatch, {"app.py": "x = 1\n"})
    _git(root, "add", ".")
    _git(root, "commit", "-qm", "init")
    (root / "app.py").write_text(f'x = 1\nAWS = "{PLANTED["aws_id"]}"\n')
    _git(root, "commit", "-qam", "add key")
    added = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    (root / "app.py").write_text("x = 1\n")
    _git(root, "commit", "-qam", "remove key")
    without = hardcheck.audit(root, only=["secrets"])
    assert [f.status.value for f in without.findings if f.rule_id == "SEC004"] == ["skip"]
    run = run_cli("audit", str(root), "--only", "secrets", "--history", "10", "--format", "json")
    sec4 = [f for f in run.json()["findings"] if f["rule_id"] == "SEC004" and f["status"] == "fail"]
    assert (
        len(sec4) == 1
        and added[:12] in sec4[0]["evidence"]
        and sec4[0]["location"]["path"] == "app.py"
    )
    assert PLANTED["aws_id"] not in run.stdout + run.stderr


def test_insecure_sample_secrets_are_all_found():
    report = hardcheck.audit(SAMPLES / "insecure-fastapi", only=["secrets"])
    found = {(f.rule_id, f.location.path, f.location.line): f for f in _fails(report)}
    assert ("SEC001", ".env", 3) in found  # AWS access key id
    assert ("SEC001", ".env", 4) in found  # AWS secret access key
    assert ("SEC001", ".env", 5) in found  # database URL with password
    assert ("SEC001", ".env", 6) in found  # Slack token
    assert ("SEC001", "certs/server.key", 1) in found  # RSA private key
    assert ("SEC001", "app/settings.py", 6) in found  # GitHub token
    assert ("SEC001", "config/app.yaml", 7) in found  # high-entropy signing secret
    assert ("SEC003", "app/settings.py", 4) in found  # Django-style SECRET_KEY
    assert ("SEC002", ".env", None) in found  # committed .env
    assert found[("SEC001", "certs/server.key", 1)].severity.value == "critical"


def test_hardened_sample_has_no_secrets(tmp_path):
    report = hardcheck.audit(copy_sample("hardened-fastapi", tmp_path), only=["secrets"])
    assert _fails(report) == [] and report.complete


def test_ids_are_keyed_and_not_the_sha1_detect_secrets_stores(tmp_path, monkeypatch):
    root = make_tree(tmp_path / "t", {"a.py": f'K = "{PLANTED["aws_id"]}"\n'})
    monkeypatch.setenv("HARDCHECK_FINGERPRINT_KEY", "one")
    first = _fails(hardcheck.audit(root, only=["secrets"]))[0]
    monkeypatch.setenv("HARDCHECK_FINGERPRINT_KEY", "two")
    second = _fails(hardcheck.audit(root, only=["secrets"]))[0]
    sha1 = hashlib.sha1(PLANTED["aws_id"].encode()).hexdigest()
    assert first.evidence != second.evidence and first.fingerprint != second.fingerprint
    assert sha1[:12] not in first.evidence and sha1[:12] not in second.evidence


@pytest.mark.parametrize("fmt", ["console", "json", "quiet"])
def test_no_planted_value_appears_in_any_output(tmp_path, monkeypatch, fmt):
    """Redaction is a hard guarantee: stdout, stderr and report files, every format."""
    monkeypatch.setenv("HARDCHECK_FINGERPRINT_KEY", "test")
    root = copy_sample("insecure-fastapi", tmp_path)
    (root / "app" / "keys.py").write_text(SOURCE)
    (root / ".env.staging").write_text(
        f"DB_PASSWORD={PLANTED['env_password']}\nSHORT_PASSWORD={PLANTED['short']}\n"
    )
    (root / "mysite").mkdir()
    (root / "mysite" / "settings.py").write_text(
        f"SECRET_KEY = '{PLANTED['django_key']}'\nDATABASES = {{'default': {{'PASSWORD': '{PLANTED['db_password']}'}}}}\n"
    )
    out = tmp_path / "r.json"
    args = {"console": [], "json": ["--format", f"json:{out}"], "quiet": ["-q"]}[fmt]
    run = run_cli("audit", str(root), *args)
    assert run.code == 1
    texts = [run.stdout, run.stderr, out.read_text() if out.exists() else ""]
    sample_values = [
        "AKIAQ4R7T2LMN5XP8W3Z",
        "Lm9Vx4Zq8Rt2wJalrXUtnFEMI7MDENGbPxRfiCYQ4",
        "xoxb-2048193847-1039482756123-Qm9Kx2Lr8Vt3Np6Zs4Wy7Hb1",
        "ghp_R8sL2k9Xw3Vn7Tp4Bz6Ym0Qa5Cd1Ef2Gh3Jk",
        "9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a",
        "django-insecure-k3$9vq!z7w@u2m#x8c1n6b4v0p5r2t9y-a7f",
    ]
    key_body = (root / "certs" / "server.key").read_text().splitlines()[1]
    for value in [*PLANTED.values(), *sample_values, key_body]:
        for text in texts:
            assert value not in text, value
    assert "SEC001" in run.stdout


def test_huge_single_line_file_is_scanned_to_the_end(tmp_path):
    line = "".join(f'var a{i}="{i:08d}";' for i in range(80000)) + f'var k="{PLANTED["aws_id"]}";'
    root = make_tree(tmp_path / "t", {"static/bundle.js": line})
    report = hardcheck.audit(root, only=["secrets"])
    assert [
        f.location.line for f in _fails(report, "SEC001") if "AWSKeyDetector" in f.evidence
    ] == [1]
    assert report.complete


_GATE_FRAGMENTS = [
    *PLANTED.values(),
    "AKCp5budTFpbypBqQbGJPz3pGCi28pPivfWczqjfYb9drAmd9LbRZbj6UpKFxJXA8ksWGc9fM",
    "AP6xxxxxxxxxx",
    "-----BEGIN RSA PRIVATE KEY-----",
    "https://admin:Zq8Rt2Lm9Vx4@db.example.com/",
    "8.8.8.8",
    "ibm_cloud_iam_key = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQR'",
    "cloudant_password='" + "a" * 24 + "'",
    "=",
    '"',
    " ",
    "password = '",
    "API_KEY: ",
    'API_KEY = "Zq8Rt2Lm9Vx4abc"',
    "Db_Password: 'hunter2hunter2'",
    "my_Secret",
    "db_pass=",
    "Contraseña ",
    "'Zq8Rt2Lm9Vx4Wp6Ks3Dn7Hy5Jc1Fb0Gt8Ev2'",
    '"8f14e45fceea167a"',
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.dozjgNryP4J3jVmNHl0w5N",
    "93.184.216.34",
    "cloudant_apikey = ",
]


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.lists(
            st.one_of(st.sampled_from(_GATE_FRAGMENTS), st.text(string.printable, max_size=12)),
            max_size=4,
        ).map("".join),
        max_size=10,
    )
)
def test_the_prefilter_never_hides_what_a_line_scan_finds(lines):
    """The prefilter (per-line plugin gates) is an optimisation only: with it, detect-secrets' pipeline
    yields exactly what asking every plugin about every line yields."""
    from hardcheck.audits.secrets import scan as _secretscan

    options = ScanOptions()
    _secretscan.init_worker(settings_config(options), b"k" * 32, frozenset(), options)
    gated = _secretscan._pipeline()
    ungated = _secretscan._Pipeline(prefilter=False)
    numbered = list(enumerate(lines, 1))

    def found(pipeline):
        return sorted(
            (type(p).__name__, s.secret_value or "", s.line_number)
            for p, s, _ in pipeline.process(numbered, "app/config.py")
        )

    assert found(gated) == found(ungated)


def test_a_weak_or_placeholder_signing_key_in_use_is_a_finding(tmp_path):
    """#17: the placeholder filter hid the keys an application signs with; a placeholder in
    use is public. Passwords and URLs keep the filter."""
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n"
            "app.config['SECRET_KEY'] = 'aaaaaaa'\napp.secret_key = 'your-secret-key-here'\n",
            "mysite/settings.py": "import os\nSECRET_KEY = 'changeme'\n"
            "DATABASES = {'default': {'PASSWORD': 'changeme'}}\n"
            "JWT_SECRET = os.getenv('JWT_SECRET', 'dev')\n",
            "other/settings.py": "SECRET_KEY = 'django-insecure-k3$9vq!z7w@u2m#x8c1n6b4v0p5r2t9yq8r7'\n",
        },
    )
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    found = {
        (f.location.path, f.location.line): (f.severity.value, f.message)
        for f in report.findings
        if f.rule_id == "SEC003"
    }
    assert set(found) == {
        ("app.py", 3),
        ("app.py", 4),
        ("mysite/settings.py", 2),
        ("mysite/settings.py", 4),
        ("other/settings.py", 1),
    }
    assert (
        found[("app.py", 4)][0] == "high"
        and "weak key in use (a placeholder)" in found[("app.py", 4)][1]
    )
    assert "development key" in found[("other/settings.py", 1)][1]
    assert found[("mysite/settings.py", 4)][0] == "medium"  # a fallback stays medium


def test_digests_and_revision_ids_are_not_secrets_but_a_token_beside_them_is(tmp_path):
    """#17: SRI and CSP hashes, pip --hash lines, Alembic revision ids and pre-commit revs
    were medium high-entropy findings."""
    root = make_tree(
        tmp_path / "t",
        {
            "index.html": '<script src="b.js" integrity="sha384-oqVuAfXRKap7fdgcCY5uykM6+R9GqQ8K/uxy9rx7HNQlGYl1kPzQho1wx4JwY8wC"></script>\n'
            '<meta http-equiv="Content-Security-Policy" content="script-src \'sha256-B2yPHKaXnvFWtRChIbabYmUBFZdVfKKXHbWtWidDVF8=\'">\n',
            "requirements.txt": "django==5.2.1 \\\n    --hash=sha256:a9b0c7ea3e8a1f2d4c6b8e0f1a3c5e7d9b1f3a5c7e9b1d3f5a7c9e1b3d5f7a9c\n",
            "migrations/versions/9c0a_add.py": '"""add\n\nRevision ID: 9c0a54914c78\nRevises: 1a2b3c4d5e6f\n"""\n'
            'revision = "9c0a54914c78"\ndown_revision = "1a2b3c4d5e6f"\n',
            ".pre-commit-config.yaml": "repos:\n  - repo: https://github.com/pre-commit/pre-commit-hooks\n"
            "    rev: 0f3b4d2a9c1e7f5b3d2a9c1e7f5b3d2a9c1e7f5b\n",
            "real.py": 'token = "Zq8Rt2Lm9Vx4Wp6Ks3Dn7Hy5Jc1Fb0Gt8Ev2"\nrev = "AKIAZ4X7Q2LMNB3VRT6P"\n',
        },
    )
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    found = sorted(
        (f.location.path, f.location.line) for f in report.findings if f.rule_id == "SEC001"
    )
    assert found == [("real.py", 1), ("real.py", 2)]


def test_a_file_named_like_a_database_is_one_only_if_it_holds_one(tmp_path):
    """#17: `Dockerfile.db` (the Dockerfile of a service called db) was a committed,
    world-readable database for PRM002 and SEC002."""
    import sqlite3

    root = make_tree(
        tmp_path / "t", {"Dockerfile.db": "FROM postgres:16\n", "empty.db": "", "a.sqlite3": "x"}
    )
    connection = sqlite3.connect(root / "app.db")
    connection.execute("create table t(x)")
    connection.commit()
    connection.close()
    for name in ("Dockerfile.db", "app.db", "empty.db", "a.sqlite3"):
        (root / name).chmod(0o644)
    report = hardcheck.audit(root, only=["permissions"], cache=False)
    flagged = sorted(f.location.path for f in report.findings if f.rule_id == "PRM002")
    assert flagged == ["a.sqlite3", "app.db", "empty.db"]  # an empty one: the database to be


def test_an_encryption_key_is_critical_and_a_commented_secret_a_step_lower(tmp_path):
    """#17: a Fernet key in code was a medium entropy string; a commented-out credential
    read like a live one."""
    root = make_tree(
        tmp_path / "t",
        {
            "crypto.py": "from cryptography.fernet import Fernet\n"
            'FERNET_KEY = b"q3V0bEhPZ2JmT2xVbGJ6d0N3aFdqUWZ5b1ZtR0F0cTQ="\n'
            'f = Fernet(b"q3V0bEhPZ2JmT2xVbGJ6d0N3aFdqUWZ5b1ZtR0F1cTQ=")\n'
            '# AWS_KEY = "AKIAZ4X7Q2LMNB3VRT6P"\n'
            'AWS_KEY = "AKIAQW3RT7YU8IO9PA0S"\n',
        },
    )
    report = hardcheck.audit(root, only=["secrets"], cache=False)
    found = {
        f.location.line: (f.rule_id, f.severity.value, f.message)
        for f in report.findings
        if f.status.value == "fail"
    }
    assert found[2][:2] == ("SEC003", "critical") and "encryption key FERNET_KEY" in found[2][2]
    assert found[3][:2] == ("SEC003", "critical")
    assert found[4][:2] == ("SEC001", "high") and "(in a comment)" in found[4][2]
    assert found[5][:2] == ("SEC001", "critical") and "comment" not in found[5][2]
