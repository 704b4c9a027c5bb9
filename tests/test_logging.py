"""The logging audit on a corpus of real-world-shaped configs, each verdict proven at
run time by loading the config in a fresh interpreter (never in hardcheck's own)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import hardcheck
from hardcheck import _toml
from tests.conftest import SAMPLES, copy_sample, make_tree, run_cli

CORPUS = Path(__file__).parent / "data" / "logging"
CASES = _toml.loads((CORPUS / "corpus.toml").read_text())["cases"]

LOADER = textwrap.dedent(
    """
    import json, logging.config, sys
    path = sys.argv[1]
    if path.endswith(".ini"):
        logging.config.fileConfig(path)
    else:
        if path.endswith(".json"):
            data = json.load(open(path))
        elif path.endswith(".toml"):
            import tomllib
            data = tomllib.load(open(path, "rb"))
        else:
            import yaml
            data = yaml.safe_load(open(path))
        logging.config.dictConfig(data)
    logging.getLogger("corpus").warning("loaded")
    print("LOADED")
    """
)


def _statuses(report, status):
    return sorted(
        {f.rule_id for f in report.findings if f.status.value == status and f.audit == "logging"}
    )


def test_corpus_is_large_enough():
    assert len(CASES) >= 25
    assert sum(1 for c in CASES.values() if c["runtime"] == "ok") >= 15
    assert sum(1 for c in CASES.values() if c["runtime"] == "crash") >= 8


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus_verdict(name, tmp_path):
    case = CASES[name]
    root = tmp_path / "svc"
    root.mkdir()
    shutil.copy(CORPUS / name, root / name)
    report = hardcheck.audit(root, only=["logging"])
    assert _statuses(report, "fail") == sorted(case["fails"]), [
        f.message for f in report.findings if f.status.value == "fail"
    ]
    assert _statuses(report, "error") == sorted(case.get("errors", []))
    for rule in case.get("skips", []):
        assert rule in _statuses(report, "skip")


@pytest.mark.parametrize("name", sorted(n for n, c in CASES.items() if c["runtime"] != "none"))
def test_corpus_verdict_holds_at_run_time(name, tmp_path):
    """'ok' configs start; 'crash' configs make logging.config raise, as hardcheck said."""
    shutil.copy(CORPUS / name, tmp_path / name)
    proc = subprocess.run(
        [sys.executable, "-c", LOADER, name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    if CASES[name]["runtime"] == "ok":
        assert proc.returncode == 0 and "LOADED" in proc.stdout, proc.stderr
    else:
        assert proc.returncode != 0 and "LOADED" not in proc.stdout
        assert "Error" in proc.stderr  # ValueError / KeyError / RuntimeError from logging.config


def test_python_tag_is_never_constructed(tmp_path):
    root = make_tree(
        tmp_path / "t", {"logging.yaml": (CORPUS / "logging_python_tag.yaml").read_text()}
    )
    report = hardcheck.audit(root, only=["logging"])
    (err,) = [f for f in report.findings if f.rule_id == "RUN002"]
    assert "ConstructorError" in err.message and err.location.path == "logging.yaml"


def test_yaml_alias_bomb_is_bounded(tmp_path):
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(8)
    )
    root = make_tree(tmp_path / "t", {"logging.yaml": "version: 1\nhandlers: {}\n" + bomb})
    report = hardcheck.audit(root, only=["logging"], timeout=30)
    # refused before it is built (9**9 values), and said: the rules that needed it are errors
    assert not report.complete
    (error, *_) = [f for f in report.findings if f.status.value == "error"]
    assert "logging.yaml" in error.message and "alias bomb" in error.message


def test_uvicorn_ini_log_config_keeps_existing_loggers(tmp_path):
    ini = (CORPUS / "fileconfig_debug.ini").read_text().replace("level=DEBUG", "level=INFO")
    root = make_tree(
        tmp_path / "t", {"log.ini": ini, "Procfile": "web: uvicorn app:app --log-config log.ini\n"}
    )
    report = hardcheck.audit(root, only=["logging"])
    assert "LOG003" not in _statuses(
        report, "fail"
    )  # uvicorn passes disable_existing_loggers=False
    alone = make_tree(tmp_path / "u", {"log.ini": ini})
    assert "LOG003" in _statuses(hardcheck.audit(alone, only=["logging"]), "fail")


def test_missing_referenced_log_config_is_a_skip(tmp_path):
    root = make_tree(
        tmp_path / "t", {"Procfile": "web: gunicorn app:app --log-config /etc/app/log.ini\n"}
    )
    report = hardcheck.audit(root, only=["logging"])
    skips = [f for f in report.findings if f.rule_id == "LOG011" and f.status.value == "skip"]
    assert skips and "not in the tree" in skips[0].message


def test_tokens_in_urls_need_a_server_that_logs_them(tmp_path):
    code = "from flask import Flask, request\napp = Flask(__name__)\n\n@app.route('/dl')\ndef dl():\n    return request.args.get('api_key')\n"
    logged = make_tree(
        tmp_path / "a", {"app.py": code, "deploy/nginx.conf": "http { server { listen 80; } }\n"}
    )
    assert "LOG008" in _statuses(hardcheck.audit(logged, only=["logging"]), "fail")
    silent = make_tree(
        tmp_path / "b", {"app.py": code, "deploy/nginx.conf": "http { access_log off; }\n"}
    )
    assert "LOG008" not in _statuses(hardcheck.audit(silent, only=["logging"]), "fail")


def test_insecure_sample_logging(tmp_path):
    run = run_cli(
        "audit", str(SAMPLES / "insecure-fastapi"), "--only", "logging", "--format", "json"
    )
    report = run.json()
    fails = {
        (f["rule_id"], f["location"]["path"]) for f in report["findings"] if f["status"] == "fail"
    }
    assert ("LOG001", "gunicorn.conf.py") in fails  # loglevel = "debug"
    assert ("LOG007", "gunicorn.conf.py") in fails  # %({authorization}i)s
    assert ("LOG001", "logging.yaml") in fails
    assert ("LOG005", "logging.yaml") in fails
    assert ("LOG008", "app/main.py") in fails
    assert run.code == 1


def test_hardened_sample_logging_passes(tmp_path):
    root = copy_sample("hardened-fastapi", tmp_path)
    report = hardcheck.audit(root, only=["logging"])
    bad = [f for f in report.findings if f.status.value in ("fail", "error")]
    assert not bad, [(f.rule_id, f.message) for f in bad]
    assert {f.rule_id for f in report.findings if f.status.value == "pass"} >= {
        "LOG001",
        "LOG003",
        "LOG007",
        "LOG010",
    }


def test_django_sample_logging_is_read(tmp_path):
    report = hardcheck.audit(SAMPLES / "django-app", only=["logging"])
    django = [f for f in report.findings if f.location.path == "mysite/settings.py"]
    assert {f.rule_id for f in django if f.status.value == "fail"} == {"LOG004"}
    assert report.audits[0].stats["logging_configs"] == 1


def test_gunicorn_without_access_log(tmp_path):
    root = make_tree(
        tmp_path / "t", {"gunicorn.conf.py": "bind = '127.0.0.1:8000'\nloglevel = 'info'\n"}
    )
    report = hardcheck.audit(root, only=["logging"])
    assert any(
        "gunicorn writes no access log" in f.message
        for f in report.findings
        if f.rule_id == "LOG002"
    )
    behind_nginx = make_tree(
        tmp_path / "n",
        {"gunicorn.conf.py": "loglevel = 'info'\n", "nginx/site.conf": "server { listen 80; }\n"},
    )
    assert "LOG002" not in _statuses(hardcheck.audit(behind_nginx, only=["logging"]), "fail")


def test_hostile_logging_configs_are_never_executed(tmp_path):
    """A dictConfig naming an importable module of the tree, and an INI whose args would run
    a command under fileConfig: reading them must execute neither."""
    marker = tmp_path / "pwned"
    root = make_tree(
        tmp_path / "t",
        {
            "evilmod.py": f"open({str(marker)!r}, 'w').write('import')\n",
            "logging.json": '{"version": 1, "handlers": {"h": {"()": "evilmod.Handler"}, "k": {"class": "evilmod.Other"}}, "root": {"handlers": ["h", "k"]}}',
            "log.ini": f"[loggers]\nkeys=root\n[handlers]\nkeys=h\n[formatters]\nkeys=\n[logger_root]\nhandlers=h\n[handler_h]\nclass=StreamHandler\nargs=(open({str(marker)!r}, 'w'),)\n",
        },
    )
    report = hardcheck.audit(root, only=["logging"])
    assert not marker.exists()
    assert report.complete
    skipped = [
        f.message for f in report.findings if f.rule_id == "LOG011" and f.status.value == "skip"
    ]
    assert any("evilmod.Handler" in m for m in skipped)


@pytest.mark.parametrize(
    ("signature", "in_url"),
    [
        ("token: str", True),
        ("token: str = Query()", True),
        ("token: str = Header()", False),
        ("token: Annotated[str, Cookie()]", False),
        ("token: str = Depends(get_token)", False),
    ],
)
def test_route_parameters_read_from_headers_are_not_tokens_in_urls(tmp_path, signature, in_url):
    root = tmp_path / "svc"
    root.mkdir()
    (root / "main.py").write_text(
        "from typing import Annotated\n"
        "from fastapi import Cookie, Depends, FastAPI, Header, Query\n"
        "app = FastAPI()\n\n"
        f"@app.get('/export')\ndef export({signature}):\n    return {{}}\n"
    )
    report = hardcheck.audit(root, only=["logging"], cache=False)
    statuses = {f.status.value for f in report.findings if f.rule_id == "LOG008"}
    assert statuses == ({"fail"} if in_url else {"pass"})


def test_handler_filters_that_are_not_a_list_are_a_start_up_crash():
    from hardcheck.audits.logging.logmodel import from_dict

    cfg = from_dict(
        {"version": 1, "handlers": {"h": {"class": "logging.StreamHandler", "filters": True}}},
        "x.json",
    )
    assert ("handlers.h.filters", "must be a list") in cfg.errors
