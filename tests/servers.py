"""Real servers for tests, on 127.0.0.1 and ephemeral ports: the sample FastAPI app under
uvicorn, and nginx with a given config. Each is stopped when its context exits."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import SAMPLES


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port} after {timeout}s")


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def uvicorn_app(
    sample: str = "insecure-fastapi",
    app: str = "app.main:app",
    tls: tuple[Path, Path] | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
):
    """The sample service (or `app` run in `cwd`) under uvicorn; yields its base URL. `tls`
    is (cert, key) files; `env` is added to the server's environment."""
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    if tls:
        cmd += ["--ssl-certfile", str(tls[0]), "--ssl-keyfile", str(tls[1])]
    # the hardened sample reads DATABASE_URL at import
    env = {**os.environ, "DATABASE_URL": "sqlite://", **(env or {})}
    proc = subprocess.Popen(
        cmd, cwd=cwd or SAMPLES / sample, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        wait_for_port(port, proc)
        yield f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    finally:
        _stop(proc)


NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)


def need_nginx() -> str:
    if NGINX is None:
        pytest.skip("nginx is not installed (scripts/test.sh installs it from the OS packages)")
    return NGINX


def nginx_conf(http_body: str, prefix: Path) -> str:
    """A complete config that runs unprivileged-friendly in `prefix`, around `http_body`."""
    temps = "\n".join(
        f"    {name}_temp_path {prefix}/{name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return (
        f"daemon off;\nmaster_process off;\npid {prefix}/nginx.pid;\nerror_log {prefix}/error.log warn;\n"
        f"events {{}}\nhttp {{\n{temps}\n    access_log off;\n{http_body}\n}}\n"
    )


@contextmanager
def nginx_server(http_body: str, prefix: Path):
    """nginx with the given `http {}` contents; `{port}` in it is replaced by its port."""
    binary = need_nginx()
    port = free_port()
    prefix.mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(http_body.replace("{port}", str(port)), prefix))
    proc = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(prefix)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        _stop(proc)
