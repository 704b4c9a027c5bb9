"""Which service is behind which proxy location, and which start command starts which
service.

A route is an nginx `location` that passes requests on (proxy_pass, uwsgi_pass…): its
target is a URL, `host:port`, a unix socket or an `upstream` name, resolved to the
upstream's `server`s. A service listens where its start commands bind (gunicorn `--bind`,
uvicorn/daphne `--host/--port`, `manage.py runserver ADDR`, `flask run --port`, with each
server's default port) and, in compose, under its compose service's name. A route goes to
the service listening on its target's port (or socket, or compose name).

A start command belongs to the service whose application it names (`gunicorn
app.main:app`, `uvicorn pkg.asgi:application`, `flask --app x`, `manage.py`), else to the
service whose root holds its file or its compose build context, else, when the tree has
one service, to that one.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..readers import nginx
from .apps import NOT_SERVICES, Service, innermost
from .start import SERVING, StartCommand, option_values

APP_REFERENCE = re.compile(r"^([A-Za-z_][\w.]*)(?::([A-Za-z_][\w.]*(?:\(.*\))?))?$")
DEFAULT_PORTS = {
    "gunicorn": 8000,
    "uvicorn": 8000,
    "daphne": 8000,
    "hypercorn": 8000,
    "granian": 8000,
    "manage.py": 8000,
    "django-admin": 8000,
    "flask": 5000,
    "waitress-serve": 8080,
}
PORT_OPTIONS = ("--port", "-p")
FLAGS = ("--reload", "--proxy-headers", "--preload", "--daemon", "-D", "--factory", "--debug")
BIND_OPTIONS = ("--bind", "-b", "--host", "-h", "--http", "--http-socket", "--socket", "-s")


@dataclass(frozen=True)
class Route:
    config: str  # the nginx main config
    server: str  # "listen 443 ssl, server_name example.org"
    location: str
    directive: str  # proxy_pass, uwsgi_pass…
    target: str  # as written
    addresses: tuple[str, ...]  # host:port or unix:path, upstream servers resolved
    file: str
    line: int


def listens(command: StartCommand) -> set[str]:
    """The ports (as strings) and unix sockets ("unix:/run/app.sock") a command listens on."""
    program = command.program()
    env = command.environment()
    # uWSGI's $(PORT), the shell's ${PORT}/$PORT: from the environment the command runs with
    argv = tuple(
        PLACEHOLDER.sub(lambda m: env.get(m.group(1) or m.group(2) or m.group(3), m.group(0)), t)
        for t in command.argv
    )
    out: set[str] = set()
    for bind in option_values(argv, BIND_OPTIONS):
        if bind.startswith("unix:"):
            out.add(bind)
        elif bind.startswith("fd://"):
            continue
        elif ":" in bind:
            out.add(bind.rsplit(":", 1)[1])
    out |= set(option_values(argv, PORT_OPTIONS))
    if program in ("manage.py", "django-admin") and "runserver" in argv:
        after = argv[argv.index("runserver") + 1 :]
        address = next((a for a in after if not a.startswith("-")), "")
        if address:
            out.add(address.rsplit(":", 1)[-1])
    if not out and program in DEFAULT_PORTS:  # $PORT (Heroku-style), else the default
        out.add(env.get("PORT") or str(DEFAULT_PORTS[program]))
    return out


def app_modules(command: StartCommand) -> list[str]:
    """Modules a command names as its application, dotted."""
    argv = command.argv
    program = command.program()
    found = []
    if program in ("gunicorn", "uvicorn", "daphne", "hypercorn", "granian", "waitress-serve"):
        skip_next = False
        for token in argv[
            argv.index(next(t for t in argv if os.path.basename(t) == program)) + 1 :
        ]:
            if skip_next:
                skip_next = False
                continue
            if token.startswith("-"):
                skip_next = "=" not in token and token not in FLAGS
                continue
            m = APP_REFERENCE.match(token)
            if m:
                found.append(m.group(1))
    found += [
        v.split(":")[0] for v in option_values(argv, ("--app", "-A", "--wsgi-file", "--module"))
    ]
    flask_app = command.environment().get("FLASK_APP")
    if flask_app:
        found.append(flask_app.split(":")[0])
    return [m[:-3].replace("/", ".") if m.endswith(".py") else m for m in found]


def service_of(command: StartCommand, services: list[Service]) -> Service | None:
    if NOT_SERVICES.match_file(command.source):
        return None  # a test fixture's or an example's start file
    if (
        command.kind == "compose"
        and command.context is None
        and not SERVING.match(command.program())
    ):
        return None  # an image run as it is (a database, a cache, a proxy)
    base = command.context if command.context is not None else os.path.dirname(command.source)
    named = app_modules(command)
    for module in named:  # the module, relative to the directory the command runs in
        wanted = os.path.normpath(os.path.join(base, *module.split(".")))
        for service in services:
            if any(
                e.path[: -len(".py")] in (wanted, f"{wanted}/__init__") for e in service.entrypoints
            ):
                return service
    for path in (command.context, command.source):
        home = None if path is None else innermost(services, path)
        if home is not None:
            return home
    # an image built elsewhere (Kubernetes, a Dockerfile that copies a subdirectory):
    # the one service whose entrypoint the named module is
    loose = {
        s.name: s
        for module in named
        for s in services
        for e in s.entrypoints
        if e.module().endswith(module) or e.module().endswith(f"{module}.__init__")
    }
    if len(loose) == 1:
        return next(iter(loose.values()))
    if command.program() in ("manage.py", "django-admin"):
        django = [s for s in services if "django" in s.frameworks]
        if len(django) == 1:
            return django[0]
    # the tree's one service, unless the command is another directory's (a front-end's)
    if len(services) == 1 and (base in ("", ".") or services[0].holds(base)):
        return services[0]
    return None


def _addresses(target: str, upstreams: dict[str, list[str]]) -> tuple[str, ...]:
    if "unix:" in target:  # http://unix:/run/app.sock:/prefix, unix:/run/app.sock
        return ("unix:" + target.split("unix:", 1)[1].split(":", 1)[0],)
    if "://" not in target:
        target = f"http://{target}"
    parts = urlsplit(target)
    host = parts.hostname or ""
    if host in upstreams:
        return tuple(a for u in upstreams[host] for a in _addresses(u, {}))
    try:
        port = parts.port
    except ValueError:
        port = None
    default = 443 if parts.scheme in ("https", "grpcs") else 80
    return (f"{host}:{port or default}",)


def routes(cfg: nginx.NginxConfig) -> list[Route]:
    upstreams: dict[str, list[str]] = {}
    for http in nginx.http_blocks(cfg):
        for up in nginx.find(http.block or [], "upstream"):
            if up.args:
                upstreams[up.args[0]] = [
                    s.args[0] for s in nginx.find(up.block or [], "server") if s.args
                ]
    out = []
    for server, location, _ in nginx.iter_locations(cfg):
        for d in location.block or []:
            if d.name not in nginx.PROXY_DIRECTIVES or not d.args:
                continue
            listen = nginx.value(server.block or [], "listen")
            names = nginx.value(server.block or [], "server_name")
            where = f"listen {' '.join(listen.args) if listen else '80'}"
            if names and names.args:
                where += f", server_name {' '.join(names.args)}"
            out.append(
                Route(
                    cfg.main,
                    where,
                    " ".join(location.args),
                    d.name,
                    d.args[0],
                    _addresses(d.args[0], upstreams),
                    d.file,
                    d.line,
                )
            )
    return out


PLACEHOLDER = re.compile(r"\$\((\w+)\)|\$\{(\w+)\}|\$(\w+)")
LOCAL = ("", "127.0.0.1", "localhost", "[::1]", "::1")


def route_to(route: Route, starts: list[tuple[StartCommand, Service | None]]) -> Service | None:
    """The service listening where the route sends requests: the compose service of that
    name, else the start command listening on that port or socket."""
    for address in route.addresses:
        if address.startswith("unix:"):
            host, port = "", address
        else:
            host, _, port = address.rpartition(":")
        for command, service in starts:
            if service is not None and command.kind == "compose" and host == command.name:
                return service
        for command, service in starts:
            if service is None or port not in listens(command):
                continue
            if command.kind != "compose" or host in LOCAL:
                return service
    return None
