"""The service model: the tree judged as it is deployed.

The layouts under tests/data/services/ are written for these tests (each reproduces what
real projects do); each has its exact expected findings, and every layout with an nginx
main config is read by the real nginx (`nginx -T`) to check that hardcheck reads the same
files nginx does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import hardcheck
from hardcheck.inventory import build_inventory
from hardcheck.services.model import build

LAYOUTS = Path(__file__).parent / "data" / "services"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

# (rule, path, line) of every fail and error item of the headers, uploads and logging audits
EXPECTED = {
    "nginx-collection": {
        # the /static/ location re-adds every header but X-Frame-Options
        ("HDR022", "conf.d/app.conf", 7),
        # and nothing from the disabled vhost or the template: they are not live
    },
    "fastapi-nginx-per-location": {
        ("UPL001", "deploy/nginx/nginx.conf", 11),
        ("UPL002", "deploy/nginx/nginx.conf", 11),
    },
    "nginx-snippets-only": {
        # conf.d/ snippet of a container image: its include is relative to /etc/nginx
        ("HDR022", "docker/nginx/conf.d/site.conf", 5),
    },
}


def _model(layout: str):
    root = LAYOUTS / layout
    return build(root, build_inventory(root), 2 * 1024 * 1024)


@pytest.mark.parametrize("layout", sorted(EXPECTED))
def test_layout_findings(layout):
    report = hardcheck.audit(LAYOUTS / layout, only=["headers", "uploads", "logging"], cache=False)
    got = {
        (f.rule_id, f.location.path, f.location.line)
        for f in report.findings
        if f.status.value in ("fail", "error")
    }
    assert got == EXPECTED[layout]


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
@pytest.mark.parametrize("layout", sorted(p.name for p in LAYOUTS.iterdir() if p.is_dir()))
def test_nginx_reads_the_files_hardcheck_reads(layout, tmp_path):
    model = _model(layout)
    root = (LAYOUTS / layout).resolve()
    assert model.nginx.configs
    for cfg in model.nginx.configs:
        if not cfg.snippet:
            want = {str(root / f) for f in cfg.files}
            assert _nginx_files(root / cfg.main, tmp_path) == want, cfg.main
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
