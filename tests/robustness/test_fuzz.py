"""Property: every parser hardcheck owns turns any input into a result or a documented
error (ConfigError, CatalogueError, error/skip items) — never an uncaught exception —
within the per-example deadline."""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

import hardcheck
from hardcheck import audits
from hardcheck.audits.dependencies.declared import Declared, parse_lock, parse_requirements
from hardcheck.audits.headers.checks import check_cookies, parse_set_cookie
from hardcheck.audits.headers.csp import evaluate
from hardcheck.audits.headers.fetch import Fetched, Hop
from hardcheck.audits.logging.logmodel import from_dict
from hardcheck.catalogue import RULE_FIELDS, CatalogueError, parse_rule
from hardcheck.config import ConfigError, build_config
from hardcheck.readers import nginx
from tests.robustness.conftest import STATS

SCHEMAS = {name: audits.load(name).config_schema for name in audits.available()}
CONFIG_KEYS = [
    "fail-on",
    "environment",
    "exclude",
    "timeout",
    "max-file-size",
    "jobs",
    "[owners]",
    "[[suppress]]",
    "rule",
    "reason",
    "expires",
    "[permissions.expected-modes]",
    "[secrets]",
    "history",
    "[uploads]",
    "max-body",
    "[headers]",
    "urls",
]
VALUES = [
    '"high"',
    "1",
    "-1",
    "0",
    "true",
    '"x"',
    "[]",
    '["a", 1]',
    "2027-01-01",
    '"10MiB"',
    "{}",
    '{ mode = "0600" }',
    '"\\u0000"',
    "1e400",
]
NGINX_TOKENS = [
    "http",
    "server",
    "location",
    "/",
    "{",
    "}",
    ";",
    "include",
    "*.conf",
    "client_max_body_size",
    "0",
    "10m",
    "10x",
    "add_header",
    "X-Frame-Options",
    "DENY",
    "always",
    "if",
    "($a = b)",
    "map",
    "$x",
    '"quoted ; }"',
    "#",
    "\n",
    "proxy_pass",
    "http://a",
]
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers(-10, 10**6) | st.text(max_size=20),
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "version",
                    "handlers",
                    "loggers",
                    "root",
                    "formatters",
                    "filters",
                    "class",
                    "level",
                    "formatter",
                    "()",
                    "propagate",
                    "incremental",
                    "disable_existing_loggers",
                    "filename",
                    "format",
                    "x",
                ]
            ),
            kids,
            max_size=5,
        )
    ),
    max_leaves=25,
)


def _count(name: str) -> None:
    STATS["fuzz"][name] += 1


def _tree(files: dict[str, str | bytes]) -> Path:
    root = Path(tempfile.mkdtemp(prefix="hc-fuzz-"))
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
        )
    return root


def _no_crash(report) -> None:
    crashed = [f.message for f in report.findings if f.rule_id == "RUN001"]
    assert not crashed, crashed
    assert all(f.status.value in ("pass", "fail", "skip", "error") for f in report.findings)


@given(
    st.lists(st.sampled_from(CONFIG_KEYS + VALUES + ["=", "\n", " ", '"', "]"]), max_size=30)
    | st.text(max_size=200)
)
def test_config_toml(parts):
    _count("config")
    text = (
        "".join(p + (" " if isinstance(parts, list) else "") for p in parts)
        if isinstance(parts, list)
        else parts
    )
    root = _tree({"hardcheck.toml": text})
    with contextlib.suppress(ConfigError):
        build_config(root, config_file=root / "hardcheck.toml", overrides={}, audit_schemas=SCHEMAS)


@given(
    st.dictionaries(
        st.sampled_from(sorted(RULE_FIELDS | {"x"})),  # every real field and an unknown one
        JSONISH,
        max_size=14,
    )
)
def test_rule_catalogue_entries(raw):
    _count("catalogue")
    with contextlib.suppress(CatalogueError):
        parse_rule(raw, "fuzz.toml")


@given(st.lists(st.sampled_from(NGINX_TOKENS), max_size=60))
def test_nginx_configs(tokens):
    _count("nginx")
    root = _tree(
        {
            "nginx.conf": " ".join(tokens),
            "conf.d/a.conf": "server { " + " ".join(tokens[:10]) + " }",
        }
    )
    cfg = nginx.load(root, "nginx.conf")
    list(nginx.iter_locations(cfg))
    report = hardcheck.audit(root, only=["uploads", "headers"])
    _no_crash(report)


@given(JSONISH)
def test_logging_dictconfig_model(data):
    _count("logging-dict")
    if isinstance(data, dict):
        from_dict(data, "fuzz.json")


@given(
    st.sampled_from(["logging.yaml", "logging.json", "logging.toml", "logging.ini"]),
    st.text(max_size=300),
)
def test_logging_files(name, text):
    _count("logging-files")
    prefix = {
        "logging.ini": "[loggers]\n",
        "logging.yaml": "version: 1\nhandlers:\n",
        "logging.json": '{"version": 1, "handlers": ',
        "logging.toml": "version = 1\n[handlers]\n",
    }[name]
    _no_crash(hardcheck.audit(_tree({name: prefix + text}), only=["logging"]))


@given(
    st.lists(
        st.sampled_from(
            [
                "DEBUG = ",
                "True",
                "ALLOWED_HOSTS = [",
                "'*'",
                "]",
                "os.getenv('X', '1')",
                "(",
                ")",
                "\n",
                "SECRET_KEY = 'k3$9vq!z7w@u2m#x8'",
                "app.run(debug=True)",
                "CORSMiddleware",
                "allow_origins=['*']",
                "INSTALLED_APPS = []",
                "LOGGING = {",
                "}",
                "MAX_CONTENT_LENGTH = 2 ** ",
                "99999",
                "lambda: ",
                "\t",
                "\\",
            ]
        ),
        max_size=40,
    )
)
def test_python_settings_through_the_ast(parts):
    _count("python-ast")
    report = hardcheck.audit(
        _tree({"mysite/settings.py": "".join(parts)}),
        only=["permissions", "uploads", "logging", "headers"],
    )
    _no_crash(report)


@given(st.text(max_size=300))
def test_requirements_and_locks(text):
    _count("requirements")
    root = _tree({"requirements.txt": text, "poetry.lock": text, "uv.lock": "[[package]]\n" + text})
    out = Declared()
    parse_requirements(root, "requirements.txt", out)
    parse_lock(root, "poetry.lock", out)
    parse_lock(root, "uv.lock", out)


@given(
    st.lists(st.text(max_size=120), max_size=3),
    st.lists(st.text(max_size=60), max_size=2),
    st.binary(max_size=300),
)
def test_csp_values(policies, report_only, body):
    _count("csp")
    evaluate(policies, report_only, body)


@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n\x00"),
            max_size=120,
        ),
        max_size=4,
    )
)
def test_set_cookie_values(lines):
    _count("set-cookie")
    import httpx

    for line in lines:
        parse_set_cookie(line)
    try:
        headers = httpx.Headers([("set-cookie", line) for line in lines])
    except (UnicodeEncodeError, ValueError):
        return  # not a header httpx would ever hand us
    check_cookies(
        Fetched("https://a.example/", chain=[Hop("https://a.example/", 200, headers)]), hsts=False
    )
