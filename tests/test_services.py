"""The service model: the tree judged as it is deployed.

The layouts under tests/data/services/ are written for these tests (each reproduces what
real projects do); each has its exact expected findings, and every layout with an nginx
main config is read by the real nginx (`nginx -T`) to check that hardcheck reads the same
files nginx does.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import hardcheck
from hardcheck.api import discover
from hardcheck.inventory import build_inventory
from hardcheck.services.model import build

LAYOUTS = Path(__file__).parent / "data" / "services"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

# (rule, path, line) of every fail and error item of the permissions, headers, uploads and
# logging audits, as many times as each is reported
EXPECTED: dict[str, list[tuple[str, str, int | None]]] = {
    "nginx-collection": [
        # the /static/ location re-adds every header but X-Frame-Options
        ("HDR022", "conf.d/app.conf", 7),
        # and nothing from the disabled vhost or the template: they are not live
    ],
    "fastapi-nginx-per-location": [
        ("UPL001", "deploy/nginx/nginx.conf", 11),
        ("UPL002", "deploy/nginx/nginx.conf", 11),
    ],
    "nginx-snippets-only": [
        # conf.d/ snippet of a container image: its include is relative to /etc/nginx
        ("HDR022", "docker/nginx/conf.d/site.conf", 5),
    ],
    # aiohttp bounds every body (client_max_size, 1 MiB by default): nothing to report
    "aiohttp-bounded": [],
    "aiohttp-unbounded": [
        ("APP001", "app.py", 9),  # web.Application(debug=True)
        ("UPL001", "app.py", 9),  # client_max_size=0: no limit on the path
        ("UPL002", "app.py", 9),
        *[("HDR025", "app.py", 16)] * 3,  # aiohttp_session: httponly=False, no secure/samesite
    ],
    # api publishes its port next to nginx; admin only on 127.0.0.1; db is not an app server
    "compose-nginx-two-services": [
        ("APP007", "docker-compose.yml", 8),
        *[("HDR021", "admin/app.py", None)] * 2,
    ],
    "two-flask-apps": [
        # only the app without MAX_CONTENT_LENGTH; the other's limit does not cover it
        ("UPL001", "bad/app.py", 3),
        *[("HDR021", f"{app}/app.py", None) for app in ("bad", "good") for _ in range(2)],
    ],
    # uWSGI started with its ini: the ini's options are the command's (py-autoreload);
    # nginx allows 5m, Django's DATA_UPLOAD_MAX_MEMORY_SIZE default binds at 2.5 MiB
    "uwsgi-ini": [("APP005", "Procfile", 1), ("UPL005", "deploy/nginx.conf", 3)],
    # alembic.ini's [loggers] are the migration command's; frontend/.env is a Vite build's
    "fullstack-frontend-alembic": [("UPL001", "backend/app/main.py", 4)],
    "k8s-flask-debug": [("APP001", "k8s/deployment.yaml", 10)],  # FLASK_DEBUG in the pod
    # the settings module is chosen only in compose; manage.py's default is local.py
    "compose-settings-module": [
        ("APP001", "shop/settings/local.py", 3),  # info: production does not load it
        ("UPL001", "manage.py", None),
    ],
    # startproject's single settings module, deployed as is: what check --deploy says
    "django-single-settings": [
        ("APP001", "blog/settings.py", 2),
        *[("HDR020", "blog/settings.py", None)] * 4,  # W004, W008, W012, W016: unset
        *[("HDR020", "blog/settings.py", n) for n in (2, 3, 4, 17, 18)],  # W018 W009 W020 W019 W015
        ("UPL001", "manage.py", None),
    ],
    # an import cycle and a star import of a module the tree does not hold: named, and the
    # rules that read production's settings cannot pass; the rest of the model still stands
    "django-broken-chain": [
        *[(rule, None, None) for rule in ("APP001", "APP002", "APP003", "APP004", "HDR020")],
        *[("HDR020", "proj/settings/base.py", 5)] * 2,  # W002, W003 (inherited)
        *[("HDR020", "proj/settings/production.py", None)] * 4,  # W004 W008 W009 W010
        ("UPL001", "proj/wsgi.py", None),
    ],
    # a Procfile starting gunicorn with its config module: the module is the server's settings
    "procfile-gunicorn-conf": [
        ("APP006", "gunicorn.conf.py", 7),  # forwarded_allow_ips = "*"
        ("LOG001", "gunicorn.conf.py", None),  # loglevel = "debug"
        ("LOG002", "gunicorn.conf.py", None),  # no access log, no proxy
        ("UPL001", "app/main.py", 3),
        ("UPL004", "gunicorn.conf.py", 6),  # limit_request_field_size far above its default
    ],
    # django-environ: env("X") takes the default environ.Env(X=(type, default)) declares
    "django-environ": [
        ("HDR020", "config/settings.py", 24),  # W012: env.bool(..., default=False)
        ("UPL001", "config/settings.py", None),
    ],
    "django-heroku": [
        ("APP002", "site/settings.py", 12),  # django_heroku.settings(locals()): ALLOWED_HOSTS ['*']
        *[("HDR020", "site/settings.py", None)] * 3,  # W004, W008, W010 (sessions app only)
        *[("HDR020", "site/settings.py", 9)] * 2,  # W002, W003: middleware not installed
        ("LOG002", "Procfile", None),
        ("UPL001", "site/settings.py", None),
    ],
}


# the services a reader of each layout would name: (name, root, frameworks), and for each
# service the start commands (file, name) and proxy locations in front of it
SERVICES: dict[str, list[tuple[str, str, list[str]]]] = {
    "aiohttp-bounded": [("aiohttp-bounded", ".", ["aiohttp"])],
    "aiohttp-unbounded": [("aiohttp-unbounded", ".", ["aiohttp"])],
    "compose-nginx-two-services": [("admin", "admin", ["flask"]), ("api", "api", ["fastapi"])],
    "compose-settings-module": [("compose-settings-module", ".", ["django"])],
    "django-broken-chain": [("django-broken-chain", ".", ["django"])],
    "django-environ": [("django-environ", ".", ["django"])],
    "django-heroku": [("django-heroku", ".", ["django"])],
    "django-single-settings": [("django-single-settings", ".", ["django"])],
    "django-split-settings": [("django-split-settings", ".", ["django"])],
    "fastapi-nginx-per-location": [("fastapi-nginx-per-location", ".", ["fastapi"])],
    "fullstack-frontend-alembic": [("fullstack-frontend-alembic", ".", ["fastapi"])],
    "k8s-flask-debug": [("k8s-flask-debug", ".", ["flask"])],
    "nginx-collection": [],  # nginx configuration only: no application in the tree
    "nginx-snippets-only": [],
    "procfile-gunicorn-conf": [("procfile-gunicorn-conf", ".", ["fastapi"])],
    "two-flask-apps": [("bad", "bad", ["flask"]), ("good", "good", ["flask"])],
    "uwsgi-ini": [("uwsgi-ini", ".", ["django"])],
}
WIRING = {
    "compose-nginx-two-services": {
        "admin": ([("docker-compose.yml", "admin")], ["/admin/"]),
        "api": ([("docker-compose.yml", "api")], ["/api/"]),  # through upstream api_servers
    },
    "django-split-settings": {"django-split-settings": ([("Dockerfile", "image")], [])},
    "uwsgi-ini": {"uwsgi-ini": ([("Procfile", "web")], ["/"])},
    "fastapi-nginx-per-location": {"fastapi-nginx-per-location": ([], ["/api/", "/upload/"])},
    "procfile-gunicorn-conf": {
        "procfile-gunicorn-conf": ([("Procfile", "web"), ("Procfile", "release")], [])
    },
}


def test_every_layout_names_its_services():
    assert sorted(SERVICES) == sorted(p.name for p in LAYOUTS.iterdir() if p.is_dir())


@pytest.mark.parametrize("layout", sorted(SERVICES))
def test_services_a_reader_would_name(layout):
    model = _model(layout)
    assert [(s.name, s.root, s.frameworks) for s in model.services] == SERVICES[layout]
    for name, (starts, locations) in WIRING.get(layout, {}).items():
        (service,) = [s for s in model.services if s.name == name]
        assert [(c.source, c.name) for c in service.starts] == starts
        assert [r.location for r in service.routes] == locations


SAMPLES = Path(__file__).parent.parent / "sample_configs"


@pytest.mark.parametrize(
    ("sample", "frameworks", "starts", "routes"),
    [
        ("django-app", ["django"], [], ["/"]),
        ("flask-app", ["flask"], [], []),
        ("hardened-fastapi", ["fastapi"], ["Procfile"], ["/"]),
        ("insecure-fastapi", ["fastapi"], ["Procfile"], ["/", "/upload"]),
    ],
)
def test_each_sample_is_one_service(sample, frameworks, starts, routes):
    (service,) = discover(SAMPLES / sample).services
    assert (service.name, service.root, service.frameworks) == (sample, ".", frameworks)
    assert [c.source for c in service.starts] == starts
    assert [r.location for r in service.routes] == routes


def test_a_route_reaches_the_server_listening_on_its_port():
    from hardcheck.services import routes

    model = _model("uwsgi-ini")
    (web,) = model.starts
    assert "3031" in routes.listens(web)  # socket = 127.0.0.1:3031, from deploy/uwsgi.ini
    (route,) = routes.routes(model.nginx.configs[0])
    assert route.addresses == ("127.0.0.1:3031",)
    assert routes.route_to(route, [(web, model.services[0])]) is model.services[0]
    other = _model("compose-nginx-two-services")
    owned = [(c, next((s for s in other.services if c in s.starts), None)) for c in other.starts]
    api, admin = routes.routes(other.nginx.configs[0])
    assert api.addresses == ("api:8000",)  # upstream api_servers, resolved
    assert routes.route_to(api, owned).name == "api"
    assert routes.route_to(admin, owned).name == "admin"


def test_findings_name_their_service():
    report = hardcheck.audit(LAYOUTS / "two-flask-apps", only=["uploads"], cache=False)
    (gap,) = [f for f in report.findings if f.rule_id == "UPL001" and f.status.value == "fail"]
    assert gap.location.service == "bad" and gap.to_dict()["location"]["service"] == "bad"
    from hardcheck.report import render_text

    rendered = {
        fmt: render_text(fmt, report) for fmt in ("sarif", "junit", "openmetrics", "markdown")
    }
    assert json.loads(rendered["sarif"])["runs"][0]["results"][0]["properties"]["service"] == "bad"
    assert "(service bad)" in rendered["junit"] and "(service bad)" in rendered["markdown"]
    assert 'service="bad",severity="high",status="fail"' in rendered["openmetrics"]
    report = hardcheck.audit(
        LAYOUTS / "compose-nginx-two-services", only=["permissions"], cache=False
    )
    (exposed,) = [f for f in report.findings if f.rule_id == "APP007"]
    assert exposed.location.service == "api"  # the compose file itself starts both


def test_config_names_a_service_root_and_its_proxy(tmp_path):
    tree = tmp_path / "tree"
    shutil.copytree(LAYOUTS / "two-flask-apps", tree)
    (tree / "ops").mkdir()
    (tree / "ops" / "front.nginx").write_text(
        "server { listen 80; location / { proxy_pass http://127.0.0.1:9000; } }\n"
    )
    (tree / "hardcheck.toml").write_text(
        '[services.storefront]\nroot = "good"\nproxy = "ops/front.nginx"\n'
    )
    model = discover(tree)
    assert [(s.name, s.root, s.configured) for s in model.services] == [
        ("bad", "bad", False),
        ("storefront", "good", True),
    ]
    (front,) = [s for s in model.services if s.name == "storefront"]
    assert front.proxy == "ops/front.nginx" and [r.target for r in front.routes] == [
        "http://127.0.0.1:9000"
    ]


def _model(layout: str):
    root = LAYOUTS / layout
    return build(root, build_inventory(root), 2 * 1024 * 1024)


@pytest.mark.parametrize("layout", sorted(EXPECTED))
def test_layout_findings(layout):
    audits = ["permissions", "headers", "uploads", "logging"]
    report = hardcheck.audit(LAYOUTS / layout, only=audits, cache=False)

    def order(t):
        return (t[0], t[1] or "", t[2] or 0)

    got = sorted(
        (
            (f.rule_id, f.location.path, f.location.line)
            for f in report.findings
            if f.status.value in ("fail", "error")
        ),
        key=order,
    )
    assert got == sorted(EXPECTED[layout], key=order)
    if layout == "aiohttp-bounded":  # looked, and passed
        assert {f.status.value for f in report.findings if f.rule_id == "UPL001"} == {"pass"}
    if layout == "django-broken-chain":
        (error,) = [f for f in report.findings if f.rule_id == "APP001"]
        assert "settings import cycle" in error.message and "module not found" in error.message
    if layout == "fullstack-frontend-alembic":  # said, not silently dropped
        skipped = [f for f in report.findings if f.rule_id == "RUN003"]
        assert [f.location.path for f in skipped] == ["backend/alembic.ini"]


def test_files_nothing_includes_are_not_live_configuration():
    model = _model("nginx-collection")
    (cfg,) = model.nginx.configs
    assert cfg.main == "nginx.conf" and not cfg.errors
    assert sorted(model.nginx.unused) == [
        "conf.d/.default.conf",
        "conf.d/templates/example.com.conf",
    ]
    snippets = _model("nginx-snippets-only")
    assert [c.main for c in snippets.nginx.configs] == ["docker/nginx/conf.d/site.conf"]
    assert snippets.nginx.configs[0].snippet and not snippets.nginx.configs[0].errors


def _nginx_files(main: Path, prefix: Path) -> set[str]:
    run = subprocess.run(
        [NGINX, "-T", "-q", "-p", str(prefix), "-c", str(main), "-e", "stderr"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert run.returncode == 0, run.stderr
    return set(re.findall(r"^# configuration file (.+):$", run.stdout, re.M))


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (scripts/test.sh installs it)")
@pytest.mark.parametrize(
    "layout", sorted(p.name for p in LAYOUTS.iterdir() if p.is_dir() and any(p.rglob("*.conf")))
)
def test_nginx_reads_the_files_hardcheck_reads(layout, tmp_path):
    model = _model(layout)
    root = (LAYOUTS / layout).resolve()
    assert model.nginx.configs
    for cfg in model.nginx.configs:
        if not cfg.snippet:
            # nginx -T resolves upstream hosts; compose service names resolve only inside
            # compose's network, so a copy names loopback instead (the files are the same)
            copy = tmp_path / "tree"
            shutil.copytree(root, copy, dirs_exist_ok=True)
            for conf in copy.rglob("*.conf"):
                text = conf.read_text()
                conf.write_text(re.sub(r"\b(api|admin):(\d+)", r"127.0.0.1:\2", text))
            want = {str(copy / f) for f in cfg.files}
            assert _nginx_files(copy / cfg.main, tmp_path) == want, cfg.main
            continue
        # a snippet is read by the distribution's nginx.conf (include conf.d/*.conf), with
        # its directory's parent as the prefix: put it there, as the image does
        conf_d = (root / cfg.main).parent
        etc = tmp_path / "etc-nginx"
        shutil.copytree(conf_d.parent, etc)
        (etc / "nginx.conf").write_text(f"events {{}}\nhttp {{ include {conf_d.name}/*.conf; }}\n")
        base = conf_d.parent
        want = {str(etc / "nginx.conf")} | {
            str(etc / (root / f).relative_to(base)) for f in cfg.files
        }
        assert _nginx_files(etc / "nginx.conf", tmp_path) == want, cfg.main


START_FILES = {
    "Procfile": "web: FLASK_DEBUG=1 gunicorn app:app --reload\nworker: celery -A proj worker\n",
    "Dockerfile": (
        "FROM python:3.12 AS build\nRUN pip install -r requirements.txt\n"
        "FROM python:3.12-slim\nARG SETTINGS=proj.settings.production\n"
        "ENV DJANGO_SETTINGS_MODULE=$SETTINGS SECRET_KEY=s3cr3t-v4lue-n0t-sh0wn\n"
        'CMD ["python", "manage.py", "runserver", "0.0.0.0:8000"]\n'
    ),
    "docker-compose.yml": (
        "services:\n  web:\n    build: .\n"
        "    command: uvicorn app.main:app --host 0.0.0.0 --proxy-headers --forwarded-allow-ips='*'\n"
        "    environment:\n      - DEBUG=1\n      - DB_PASSWORD=hunter2-n0t-sh0wn\n  nginx:\n    image: nginx\n"
    ),
    "k8s/deploy.yaml": (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api}\nspec:\n  template:\n"
        "    spec:\n      containers:\n        - name: api\n          image: x\n"
        "          args: [gunicorn, -b, 0.0.0.0:8000, app:app]\n"
        "          env:\n            - name: FLASK_DEBUG\n              value: '1'\n"
    ),
    "deploy/app.service": (
        "[Service]\nEnvironment=DJANGO_SETTINGS_MODULE=proj.settings.prod\n"
        "ExecStart=/srv/venv/bin/gunicorn proj.wsgi --password=n0t-sh0wn-either\n"
    ),
    "entrypoint.sh": (
        "#!/bin/sh\nset -e\nexport FLASK_APP=app\npython manage.py migrate\n"
        "chmod +x manage.py\nexec gunicorn -c gunicorn.conf.py app:app\n"
    ),
}


def test_start_commands_from_every_place_services_start(tmp_path):
    from tests.conftest import make_tree

    root = make_tree(tmp_path / "svc", START_FILES)
    model = build(root, build_inventory(root), 2 * 1024 * 1024)
    got = {(c.kind, c.name, c.program(), c.line): c for c in model.starts}
    assert set(got) == {
        ("procfile", "web", "gunicorn", 1),
        ("procfile", "worker", "celery", 2),
        ("dockerfile", "image", "manage.py", 6),
        ("compose", "web", "uvicorn", 2),
        ("compose", "nginx", "", 8),
        ("kubernetes", "api", "gunicorn", 8),
        ("systemd", "app", "gunicorn", 3),
        ("script", "entrypoint.sh", "manage.py", 4),
        ("script", "entrypoint.sh", "gunicorn", 6),
    }
    assert got[("procfile", "web", "gunicorn", 1)].environment() == {"FLASK_DEBUG": "1"}
    image = got[("dockerfile", "image", "manage.py", 6)].environment()
    assert image["DJANGO_SETTINGS_MODULE"] == "proj.settings.production"  # the ARG substituted
    assert got[("compose", "web", "uvicorn", 2)].argv[-1] == "--forwarded-allow-ips=*"
    assert got[("kubernetes", "api", "gunicorn", 8)].environment() == {"FLASK_DEBUG": "1"}
    assert got[("script", "entrypoint.sh", "gunicorn", 6)].environment() == {"FLASK_APP": "app"}


def test_services_command_shows_the_model_and_no_secret(tmp_path):
    from tests.conftest import make_tree, run_cli

    root = make_tree(tmp_path / "svc", START_FILES)
    (root / "Dockerfile.broken").write_text("FROM python\nCMD [\n")
    table = run_cli("services", str(root))
    assert table.code == 0, table.stderr
    assert "DJANGO_SETTINGS_MODULE=proj.settings.production" in table.stdout
    assert "SECRET_KEY=<22 chars>" in table.stdout
    as_json = run_cli("services", str(root), "--format", "json")
    data = as_json.json()
    assert {s["kind"] for s in data["starts"]} >= {"procfile", "dockerfile", "compose"}
    for secret in ("s3cr3t-v4lue-n0t-sh0wn", "hunter2-n0t-sh0wn", "n0t-sh0wn-either"):
        assert secret not in table.stdout and secret not in as_json.stdout
    layout = run_cli("services", str(LAYOUTS / "nginx-collection"), "--format", "json").json()
    assert [p["main"] for p in layout["proxies"]] == ["nginx.conf"]
    assert layout["not_live"] == ["conf.d/.default.conf", "conf.d/templates/example.com.conf"]
    missing = run_cli("services", str(tmp_path / "nope"))
    assert missing.code == 2 and "Traceback" not in missing.stderr


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"Procfile": "web: FLASK_DEBUG=1 gunicorn app:app\n"}, {("APP001", "high")}),
        ({"Dockerfile": "FROM python\nENV FLASK_ENV=development\nCMD flask run --host 0.0.0.0\n"},
         {("APP001", "high"), ("APP005", "high")}),
        ({"Procfile": "web: python manage.py runserver 0.0.0.0:$PORT\n"}, {("APP005", "high")}),
        ({"compose.override.yml": "services:\n  api:\n    command: fastapi dev --host 0.0.0.0\n"},
         {("APP005", "info")}),  # a development compose override
        ({"deploy/app.service": "[Service]\nEnvironment=GUNICORN_CMD_ARGS=--reload\nExecStart=gunicorn app:app\n"},
         {("APP005", "high")}),
        ({"docker-compose.yml": "services:\n  api:\n    command: gunicorn app:app\n    environment:\n      FORWARDED_ALLOW_IPS: '*'\n"},
         {("APP006", "medium")}),
        ({"Procfile": "web: uvicorn app:app --no-proxy-headers --forwarded-allow-ips=*\n"}, set()),
        ({"Procfile": "web: gunicorn app:app --workers 4\nrelease: python manage.py migrate\n"}, set()),
    ],
)  # fmt: skip
def test_runtime_flags_where_the_service_starts(tmp_path, files, expected):
    from tests.conftest import make_tree

    root = make_tree(tmp_path / "svc", files)
    report = hardcheck.audit(root, only=["permissions"], cache=False)
    got = {(f.rule_id, f.severity.value) for f in report.findings if f.status.value == "fail"}
    assert got == expected
    statuses = {f.rule_id: f.status.value for f in report.findings if f.rule_id == "APP005"}
    assert statuses["APP005"] in ("pass", "fail")  # a start command was there: it looked


def test_split_settings_are_judged_as_production_loads_them():
    """base.py has DEBUG = True and no SECURE_*; production.py imports it, turns DEBUG off
    and reads HSTS and the SSL redirect from the environment with safe defaults; the
    Dockerfile says production loads proj.settings.production while manage.py and wsgi.py
    default to proj.settings.dev."""
    root = LAYOUTS / "django-split-settings"
    model = _model("django-split-settings")
    assert model.django is not None and model.django.module == "proj.settings.production"
    assert model.django.chain == ["proj/settings/production.py", "proj/settings/base.py"]
    assert model.django.source.startswith("Dockerfile:")
    report = hardcheck.audit(root, only=["permissions", "headers"], cache=False)
    got = {
        (
            f.rule_id,
            f.location.path,
            f.severity.value,
            (re.findall(r"security\.W\d+", f.message) or [""])[0],
        )
        for f in report.findings
        if f.status.value == "fail"
    }
    assert got == {
        # what production really lacks, as Django's check --deploy says (see below)
        ("HDR020", "proj/settings/production.py", "medium", "security.W005"),
        ("HDR020", "proj/settings/production.py", "medium", "security.W016"),
        ("HDR020", "proj/settings/production.py", "medium", "security.W021"),
        # dev.py is not what production loads: information only
        ("APP002", "proj/settings/dev.py", "info", ""),
    }  # base.py's DEBUG = True is overridden by production: not reported


DJANGO_VERSIONS = ("4.2", "5.2")
# the environment each Django layout needs to import its production settings
STRONG_KEY = "k" + "7fQ2vX9mZ4pL1sT8wR3yB6nC0dH5jG_aE-uK" * 2
DJANGO_LAYOUTS = {
    "django-split-settings": {
        "DJANGO_SECRET_KEY": STRONG_KEY,
        "DJANGO_ALLOWED_HOSTS": "example.com",
    },
    "compose-settings-module": {"DJANGO_SECRET_KEY": STRONG_KEY},
    "django-single-settings": {},
    "uwsgi-ini": {"DJANGO_SECRET_KEY": STRONG_KEY},  # hardened: Django raises nothing
}


@pytest.fixture(scope="session", params=DJANGO_VERSIONS)
def django_admin(request):
    """Django in a throw-away venv of its own, kept between runs (pip is not asked again)."""
    import os
    import sys

    version = request.param
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    venv = home / "hardcheck-tests" / f"django-{version}"
    admin = venv / "bin" / "django-admin"
    if not admin.exists():
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        pip = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", f"django=={version}.*"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if pip.returncode != 0:
            pytest.skip(f"Django {version} could not be installed: {pip.stderr.strip()[-300:]}")
    return version, admin


@pytest.mark.parametrize("layout", sorted(DJANGO_LAYOUTS))
def test_django_deploy_check_is_the_oracle(layout, django_admin, tmp_path):
    """hardcheck's HDR020 set on the settings production loads equals the security.W ids
    Django's own `check --deploy` raises for them."""
    import os

    version, admin = django_admin
    tree = tmp_path / layout
    shutil.copytree(LAYOUTS / layout, tree)
    model = _model(layout)
    assert model.django is not None
    run = subprocess.run(
        [str(admin), "check", "--deploy"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tree,
        env={
            "PATH": os.environ.get("PATH", ""),
            "PYTHONPATH": str(tree),
            "DJANGO_SETTINGS_MODULE": model.django.module,
            **DJANGO_LAYOUTS[layout],
        },
    )
    assert "System check identified" in run.stdout + run.stderr, run.stderr[-2000:]
    django = set(re.findall(r"security\.W\d{3}", run.stdout + run.stderr))
    report = hardcheck.audit(LAYOUTS / layout, only=["headers"], cache=False)
    ours = {
        m
        for f in report.findings
        if f.rule_id == "HDR020" and f.status.value == "fail"
        for m in re.findall(r"security\.W\d{3}", f.message)
    }
    assert ours == django, f"Django {version}"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("True", True),
        ("os.environ.get('X', '1') == '1'", True),
        ("int(os.environ.get('HSTS', '31536000'))", 31536000),
        ("os.environ.get('REDIRECT', 'True').lower() == 'true'", True),
        ("int(os.getenv('HSTS', DEFAULT_HSTS))", 30 * 24 * 60 * 60),  # a module-level name
        ("env.bool('DEBUG', default=False)", False),
        ("env('HSTS')", 3600),  # declared by env = environ.Env(HSTS=(int, 3600))
        ("env.int('HSTS')", 3600),
        ("os.environ['REQUIRED']", "unknown"),  # no default: cannot be known
        ("compute()", "unknown"),
    ],
)
def test_settings_values_when_the_environment_is_unset(source, expected):
    import ast

    from hardcheck.readers.pyast import NOT_LITERAL, value_when_unset

    module = {
        "DEFAULT_HSTS": ast.parse("30 * 24 * 60 * 60", mode="eval").body,
        "env": ast.parse("environ.Env(HSTS=(int, 3600))", mode="eval").body,
    }
    got = value_when_unset(ast.parse(source, mode="eval").body, module.get)
    assert (got if got is not NOT_LITERAL else "unknown") == expected


def test_a_cached_result_does_not_outlive_a_changed_start_file(tmp_path):
    """The permissions audit is cached whole; what it reads through the service model (a
    Dockerfile's ENV) must be part of its cache key."""
    import os
    import time

    from tests.conftest import make_tree

    root = make_tree(
        tmp_path / "svc",
        {
            "Dockerfile": "FROM python:3.12\nENV FLASK_DEBUG=0\nCMD gunicorn app:app\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n",
        },
    )
    cache = tmp_path / "cache"

    def debug_findings():
        report = hardcheck.audit(root, only=["permissions"], cache=True, cache_dir=cache)
        return [f for f in report.findings if f.rule_id == "APP001" and f.status.value == "fail"]

    assert debug_findings() == []
    assert debug_findings() == []  # from the cache
    (root / "Dockerfile").write_text("FROM python:3.12\nENV FLASK_DEBUG=1\nCMD gunicorn app:app\n")
    old = time.time() - 60  # same size, a settled stamp: only the content changed
    os.utime(root / "Dockerfile", (old, old))
    assert [f.location.path for f in debug_findings()] == ["Dockerfile"]


def test_the_config_names_the_settings_module_discovery_cannot_know(tmp_path):
    tree = tmp_path / "svc"
    shutil.copytree(LAYOUTS / "django-split-settings", tree)
    (tree / "hardcheck.toml").write_text('[services.web]\nsettings = "proj.settings.dev"\n')
    from hardcheck.api import discover

    model = discover(tree)
    assert model.django is not None and model.django.module == "proj.settings.dev"
    assert model.django.source.startswith("hardcheck config")
    report = hardcheck.audit(tree, only=["permissions"], cache=False)
    fails = {
        (f.rule_id, f.location.path, f.severity.value)
        for f in report.findings
        if f.status.value == "fail"
    }
    # dev now is what production loads: base.py's DEBUG reaches it, and its ALLOWED_HOSTS '*'
    assert fails == {
        ("APP001", "proj/settings/base.py", "high"),
        ("APP002", "proj/settings/dev.py", "high"),
    }
    (tree / "hardcheck.toml").write_text('[services.web]\nsettings = "proj.settings.nope"\n')
    report = hardcheck.audit(tree, only=["permissions", "headers"], cache=False)
    errors = [
        f
        for f in report.findings
        if f.status.value == "error" and f.rule_id in ("APP001", "HDR020")
    ]
    assert len(errors) == 2 and all("no such module" in f.message for f in errors)
    (tree / "hardcheck.toml").write_text('[services.web]\nsettings = "proj settings"\n')
    with pytest.raises(hardcheck.ConfigError, match="services"):
        hardcheck.audit(tree, only=["permissions"], cache=False)


def test_a_limit_anywhere_in_its_service_bounds_that_app_only(tmp_path):
    files = {
        "shop/requirements.txt": "flask\n",
        "shop/config.py": "class Config:\n    MAX_CONTENT_LENGTH = 4 * 1024 * 1024\n",
        "shop/app/__init__.py": "from flask import Flask\n\napp = Flask(__name__)\n",
        "blog/app.py": "from flask import Flask\n\napp = Flask(__name__)\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    report = hardcheck.audit(tmp_path, only=["uploads"], cache=False)
    gaps = [f for f in report.findings if f.rule_id == "UPL001" and f.status.value == "fail"]
    assert [(f.location.path, f.location.service) for f in gaps] == [("blog/app.py", "blog")]
