"""The uploads audit: the nginx parser on real-world shapes, static verdicts on the
samples, and the live probe against real nginx and uvicorn agreeing with the static
verdict."""

from __future__ import annotations

import pytest

import hardcheck
from hardcheck.readers import nginx
from tests.conftest import SAMPLES, copy_sample, make_tree
from tests.servers import nginx_server, uvicorn_app

APP = (SAMPLES / "insecure-fastapi" / "app" / "main.py").read_text()


def _fails(report, rule=None):
    return [
        f
        for f in report.findings
        if f.status.value == "fail" and (rule is None or f.rule_id == rule)
    ]


def test_nginx_parser_on_real_deployment_shapes(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "etc/nginx/nginx.conf": (
                "user www-data;\nevents { worker_connections 768; }\n"
                "http {\n    include mime.types;\n    client_max_body_size 4m;\n"
                "    map $http_upgrade $connection_upgrade { default upgrade; '' close; }\n"
                "    include conf.d/*.conf;\n    include sites-enabled/*;\n}\n"
            ),
            "etc/nginx/mime.types": "types { text/html html; }\n",
            "etc/nginx/conf.d/gzip.conf": "gzip on;\n",
            "etc/nginx/sites-enabled/app": (
                "server {\n    listen 443 ssl;\n    include snippets/proxy.conf;\n"
                "    location / {\n        if ($request_method = TRACE) { return 405; }\n        proxy_pass http://app;\n"
                "        location /api/upload { client_max_body_size 20m; proxy_pass http://app; }\n    }\n"
                "    location /static/ { alias /srv/static/; }\n}\n"
            ),
            "etc/nginx/snippets/proxy.conf": "proxy_set_header Host $host;\nclient_max_body_size 2m;\n",
        },
    )
    cfg = nginx.load(root, "etc/nginx/nginx.conf")
    assert cfg.errors == []
    assert set(cfg.files) >= {
        "etc/nginx/nginx.conf",
        "etc/nginx/sites-enabled/app",
        "etc/nginx/snippets/proxy.conf",
    }
    limits = {}
    for _server, location, chain in nginx.iter_locations(cfg):
        if any(d.name == "proxy_pass" for d in location.block or []):
            setting = nginx.inherited(chain, "client_max_body_size")
            limits[location.args[0]] = nginx.parse_size(setting.args[0])
    # server-level include (2m) overrides http (4m); a nested location overrides again
    assert limits == {"/": 2 * 1024**2, "/api/upload": 20 * 1024**2}


@pytest.mark.parametrize(
    ("files", "needle"),
    [
        (
            {
                "nginx.conf": "http { include a.conf; }\n",
                "a.conf": "include b.conf;\n",
                "b.conf": "include a.conf;\n",
            },
            "include cycle",
        ),
        (
            {
                "nginx.conf": "http { include missing.conf; server { listen 80; location / { proxy_pass http://a; } } }\n"
            },
            "file not found",
        ),
        (
            {
                "nginx.conf": "http { include /etc/passwd; server { listen 80; location / { proxy_pass http://a; } } }\n"
            },
            "leaves the audited tree",
        ),
        (
            {
                "nginx.conf": "http { client_max_body_size 10x; server { listen 80; location / { proxy_pass http://a; } } }\n"
            },
            "is not a size",
        ),
        (
            {"nginx.conf": "http { server { listen 80; location / { proxy_pass http://a; }\n"},
            "nginx:",
        ),
    ],
)
def test_bad_nginx_configs_are_errors_not_crashes(tmp_path, files, needle):
    root = make_tree(
        tmp_path / "t", {**files, "app.py": "from fastapi import FastAPI\napp = FastAPI()\n"}
    )
    report = hardcheck.audit(root, only=["uploads"])
    errors = [f.message for f in report.findings if f.status.value == "error"]
    assert any(needle in m for m in errors), errors
    assert report.exit_code in (1, 3)


def test_django_and_flask_samples_read_their_settings():
    django = hardcheck.audit(SAMPLES / "django-app", only=["uploads"])
    (disagree,) = _fails(django, "UPL005")
    assert "DATA_UPLOAD_MAX_MEMORY_SIZE rejects at 2.5 MiB" in disagree.message
    flask = hardcheck.audit(SAMPLES / "flask-app", only=["uploads"])
    (above,) = _fails(flask, "UPL003")
    assert "MAX_CONTENT_LENGTH is 16 MiB" in above.message


def test_modules_without_upload_signals_are_not_parsed_and_change_nothing(tmp_path, monkeypatch):
    """Only modules that can say something about request size are parsed: the verdicts
    equal parsing every module, and a broken module that says nothing is not an error."""
    from hardcheck.audits.uploads.layers import LayerReader

    files = {
        **{
            f"{sample}/{rel}": (SAMPLES / sample / rel).read_text()
            for sample, rel in (
                ("insecure-fastapi", "app/main.py"),
                ("insecure-fastapi", "gunicorn.conf.py"),
                ("insecure-fastapi", "deploy/nginx.conf"),
            )
        },
        "web/views.py": "import flask\n\ndef index():\n    return 'hi'\n",
        "lib/util.py": "def helper(x):\n    return x * 2\n",
        "lib/broken.py": "def oops(:\n",
        "svc/settings.py": "DEBUG = (\n",  # a settings module is always parsed
    }
    root = make_tree(tmp_path / "t", files)

    def verdicts(report):
        # a rule's "could not read" item lists the inputs it could not read: compared apart
        return sorted(
            (f.rule_id, f.status.value, f.location.path, "" if f.key == "unread" else f.message)
            for f in report.findings
        )

    fast = hardcheck.audit(root, only=["uploads"])
    monkeypatch.setattr(LayerReader, "worth_parsing", lambda self, rel, text: True)
    every = hardcheck.audit(root, only=["uploads"])
    broken = ("RUN002", "error", "lib/broken.py")
    assert [v for v in verdicts(every) if v[:3] != broken] == verdicts(fast)
    assert any(v[:3] == broken for v in verdicts(every))
    errors = {f.location.path for f in fast.findings if f.rule_id == "RUN002"}
    assert errors == {"svc/settings.py"}
    partial = [f for f in every.findings if f.rule_id == "UPL001" and f.key == "unread"]
    assert "lib/broken.py" in partial[0].message and "svc/settings.py" in partial[0].message
    assert any("flask" in f.message.lower() for f in fast.findings)  # found by its import alone


def test_insecure_and_hardened_samples(tmp_path):
    insecure = hardcheck.audit(SAMPLES / "insecure-fastapi", only=["uploads"])
    assert {f.rule_id for f in _fails(insecure)} == {"UPL001", "UPL002", "UPL006"}
    assert {f.location.path for f in _fails(insecure, "UPL002")} == {
        "deploy/nginx.conf",
        "gunicorn.conf.py",
    }
    hardened = hardcheck.audit(copy_sample("hardened-fastapi", tmp_path), only=["uploads"])
    assert _fails(hardened) == []


def test_enforced_by_turns_missing_limit_into_documented_skip(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "app.py": "from fastapi import FastAPI\napp = FastAPI()\n",
            "hardcheck.toml": '[uploads]\nenforced-by = "the AWS ALB (1 MiB)"\n',
        },
    )
    report = hardcheck.audit(root, only=["uploads"])
    (skip,) = [f for f in report.findings if f.rule_id == "UPL001"]
    assert skip.status.value == "skip" and "AWS ALB" in skip.message


def _tree_with_nginx(tmp_path, limit: str):
    http = f"    server {{\n        listen 127.0.0.1:{{port}};\n        client_max_body_size {limit};\n        location / {{ proxy_pass {{app}}; }}\n    }}"
    static = http.replace("{port}", "8080").replace("{app}", "http://127.0.0.1:8000")
    files = {"app/main.py": APP, "deploy/nginx.conf": "events {}\nhttp {\n" + static + "\n}\n"}
    return http, make_tree(tmp_path / "svc", files)


@pytest.mark.parametrize(
    ("limit", "static_unbounded", "probe"), [("1m", False, "pass"), ("0", True, "fail")]
)
def test_probe_through_nginx_agrees_with_static_verdict(tmp_path, limit, static_unbounded, probe):
    http, root = _tree_with_nginx(tmp_path, limit)
    static = hardcheck.audit(root, only=["uploads"])
    assert not [f for f in static.findings if f.status.value == "error"]
    assert static.audits[0].stats["body_limits"] == 1  # the nginx location was read
    expected = ["deploy/nginx.conf"] if static_unbounded else []
    assert [f.location.path for f in _fails(static, "UPL001")] == expected
    with (
        uvicorn_app() as app_url,
        nginx_server(http.replace("{app}", app_url), tmp_path / "nginx") as url,
    ):
        report = hardcheck.audit(
            root, only=["uploads"], options={"uploads": {"probe": [f"{url}/echo"]}}
        )
    (verdict,) = [f for f in report.findings if f.rule_id == "UPL007"]
    assert verdict.status.value == probe, verdict.message
    stats = report.audits[0].stats
    if probe == "pass":
        assert "413" in verdict.message and "before the body" in verdict.message
        assert stats["probe_requests"] == 2  # just over (refused), then just under (accepted)
        assert stats["probe_bytes_sent"] < 1024 * 1024  # over: nothing sent; under: 1 MiB - 1 KiB
    else:
        assert "accepted with 200" in verdict.message
        assert stats["probe_bytes_sent"] == 10 * 1024 * 1024 + 1  # the policy maximum + 1, no more


def test_probe_uvicorn_alone_agrees_with_static_verdict(tmp_path):
    root = make_tree(
        tmp_path / "svc",
        {"app/main.py": APP, "Procfile": "web: uvicorn app.main:app --host 127.0.0.1\n"},
    )
    assert _fails(hardcheck.audit(root, only=["uploads"]), "UPL001")
    with uvicorn_app() as url:
        report = hardcheck.audit(
            root, only=["uploads"], options={"uploads": {"probe": [f"{url}/echo"]}}
        )
    (verdict,) = [f for f in report.findings if f.rule_id == "UPL007"]
    assert verdict.status.value == "fail" and verdict.severity.value == "high"


def test_probe_of_an_endpoint_that_does_not_read_the_body(tmp_path):
    root = make_tree(tmp_path / "svc", {"app/main.py": APP})
    with uvicorn_app() as url:
        report = hardcheck.audit(
            root, only=["uploads"], options={"uploads": {"probe": [f"{url}/no-such-endpoint"]}}
        )
    (verdict,) = [f for f in report.findings if f.rule_id == "UPL007"]
    assert verdict.status.value == "skip" and "tests nothing" in verdict.message


def test_probe_of_a_closed_port_is_an_error(tmp_path):
    from tests.servers import free_port

    root = make_tree(tmp_path / "svc", {"app/main.py": APP})
    report = hardcheck.audit(
        root,
        only=["uploads"],
        options={"uploads": {"probe": [f"http://127.0.0.1:{free_port()}/echo"]}},
    )
    (verdict,) = [f for f in report.findings if f.rule_id == "UPL007"]
    assert verdict.status.value == "error" and "cannot connect" in verdict.message
    assert report.exit_code in (1, 3)
