"""Debug and development modes where the service is started, from the service model's
start commands (Procfile, Dockerfile, compose, Kubernetes, systemd, entry scripts): debug
switched on by the environment or a flag (APP001), a development server or auto-reload
(APP005), forwarded headers trusted from any address (APP006), and an app server that
compose publishes on the host next to the proxy that should be its only way in (APP007)."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator

from ...inventory import ReadSkipped, read_bytes
from ...model import Finding, Location, Severity
from ...readers.pyast import SourceError, assignments, literal, parse_source
from ...services.start import StartCommand, may_start, option_values
from ..base import AuditContext, Coverage

DEBUG, DEV_SERVER, FORWARDED, AROUND_PROXY = "APP001", "APP005", "APP006", "APP007"
START_RULES = (DEBUG, DEV_SERVER, FORWARDED, AROUND_PROXY)
PROXY_IMAGE = re.compile(r"(?i)(^|[/_-])(nginx|traefik|caddy|haproxy|envoy|openresty)([:@_-]|$)")
LOOPBACK = ("127.", "localhost", "[::1]", "::1")
TRUE = {"1", "true", "yes", "on"}
APP_SERVERS = ("uvicorn", "gunicorn", "hypercorn")


def _development(ctx: AuditContext, c: StartCommand) -> bool:
    return ctx.environment == "development" or c.development_file()


def _args(c: StartCommand) -> tuple[str, ...]:
    """The command's arguments, with gunicorn's GUNICORN_CMD_ARGS appended (it reads them)."""
    extra = c.environment().get("GUNICORN_CMD_ARGS", "") if c.program() == "gunicorn" else ""
    try:
        return c.argv + tuple(shlex.split(extra))
    except ValueError:
        return c.argv + tuple(extra.split())


def _option(args: tuple[str, ...], name: str) -> str | None:
    """The option's value as the server takes it: the last one given."""
    values = option_values(args, (name,))
    return values[-1] if values else None


def gunicorn_configs(ctx: AuditContext, cov: Coverage) -> Iterator[Finding]:
    """gunicorn.conf.py (and gunicorn*.py): the server's settings, read through the AST."""
    for entry in ctx.inventory.files():
        base = os.path.basename(entry.rel)
        if not (base.startswith("gunicorn") and base.endswith(".py")):
            continue
        try:
            tree = parse_source(
                read_bytes(ctx.inventory, entry, ctx.config.max_file_size), entry.display
            )
        except (ReadSkipped, SourceError) as exc:
            cov.could_not_read((DEV_SERVER, FORWARDED), entry.display, str(exc))
            continue
        cov.saw((DEV_SERVER, FORWARDED), "gunicorn config")
        dev = ctx.environment == "development"
        for a in assignments(tree, include_classes=False):
            where = Location(path=entry.display, line=a.line, setting=a.name)
            value = literal(a.value)
            if a.name == "reload" and value is True:
                yield ctx.fail(
                    DEV_SERVER,
                    "gunicorn config sets reload = True: the server restarts on every change "
                    "to the source tree",
                    where,
                    severity=Severity.INFO if dev else None,
                    evidence="reload = True",
                    key="gunicorn:reload",
                )
            elif (
                a.name == "forwarded_allow_ips"
                and isinstance(value, str)
                and "*" in {v.strip() for v in value.split(",")}
            ):
                yield ctx.fail(
                    FORWARDED,
                    "gunicorn config trusts X-Forwarded-For/-Proto from any address "
                    "(forwarded_allow_ips = '*'): clients choose their own IP and scheme",
                    where,
                    evidence="forwarded_allow_ips = '*'",
                    key="gunicorn:forwarded",
                )


def check_start_commands(ctx: AuditContext, cov: Coverage) -> Iterator[Finding]:
    for path, why in ctx.services.unreadable:
        if may_start(path):
            cov.could_not_read(START_RULES, path, why)
    yield from gunicorn_configs(ctx, cov)
    starts = ctx.services.starts
    if not starts:
        cov.skip(
            (DEV_SERVER, FORWARDED, AROUND_PROXY)
            if not cov.looked.get(DEV_SERVER)
            else (AROUND_PROXY,),
            "not applicable: no start command found (Procfile, Dockerfile, compose, "
            "Kubernetes, systemd, entry scripts)",
        )
        return
    cov.saw(START_RULES, "start command", len(starts))
    if not any(c.program() in APP_SERVERS for c in starts) and not cov.looked.get(FORWARDED):
        cov.skip(FORWARDED, "not applicable: no start command runs uvicorn, gunicorn or hypercorn")
    for c in starts:
        dev = _development(ctx, c)
        yield from _debug(ctx, c, dev)
        yield from _dev_server(ctx, c, dev)
        yield from _forwarded(ctx, c)
    yield from _around_proxy(ctx, cov)


def _is_proxy(ctx: AuditContext, c: StartCommand) -> bool:
    if PROXY_IMAGE.search(c.image) or PROXY_IMAGE.search(c.name):
        return True
    context = c.context
    return context is not None and any(
        cfg.main.startswith(f"{context}/") for cfg in ctx.services.nginx.configs
    )


def _published(port: str) -> bool:
    """Is a compose `ports` entry reachable from other hosts? ("8000" alone publishes an
    ephemeral host port on every interface.)"""
    parts = port.split(":")
    return len(parts) < 3 or not parts[0].startswith(LOOPBACK)


def _around_proxy(ctx: AuditContext, cov: Coverage) -> Iterator[Finding]:
    apps = {id(c): s.name for s in ctx.services.services for c in s.starts}
    composed: dict[str, list[StartCommand]] = {}
    for c in ctx.services.starts:
        if c.kind == "compose":
            composed.setdefault(c.source, []).append(c)
    fronted = {f: cs for f, cs in composed.items() if any(_is_proxy(ctx, c) for c in cs)}
    if not fronted:
        cov.skip(AROUND_PROXY, "not applicable: no compose file runs a proxy in front of the app")
        return
    for source, commands in fronted.items():
        for c in commands:
            if id(c) not in apps or _is_proxy(ctx, c):
                continue
            for port in (p for p in c.ports if _published(p)):
                dev = _development(ctx, c)
                yield ctx.fail(
                    AROUND_PROXY,
                    f"compose {c.name!r} (service {apps[id(c)]}) publishes {port} on every host "
                    "interface, next to the proxy in the same file: clients can reach the app "
                    "server around the proxy's limits, headers and TLS"
                    + (" (downgraded: a development start file)" if dev else ""),
                    Location(path=source, line=c.line, setting="ports", service=apps[id(c)]),
                    severity=Severity.INFO if dev else None,
                    evidence=f"ports: {port}",
                    key=f"compose:{c.name}:{port}",
                )


def _finding(ctx, rule, c: StartCommand, message, setting, dev, base: Severity | None = None):
    note = " (downgraded: a development start file or --environment development)" if dev else ""
    return ctx.fail(
        rule,
        f"{c.kind} {c.name!r}: {message}{note}",
        Location(path=c.source, line=c.line, setting=setting),
        severity=Severity.INFO if dev else base,
        evidence=setting,
        key=f"{c.kind}:{c.name}:{setting}",
    )


def _debug(ctx: AuditContext, c: StartCommand, dev: bool) -> Iterator[Finding]:
    env = c.environment()
    if env.get("FLASK_DEBUG", "").strip().lower() in TRUE:
        yield _finding(ctx, DEBUG, c, "FLASK_DEBUG turns on Flask's debugger", "FLASK_DEBUG", dev)
    if env.get("FLASK_ENV", "").strip().lower() == "development":
        yield _finding(
            ctx, DEBUG, c, "FLASK_ENV=development turns on Flask's debugger", "FLASK_ENV", dev
        )
    if c.program() == "flask" and "--debug" in c.argv:
        yield _finding(
            ctx, DEBUG, c, "flask --debug serves the interactive debugger", "--debug", dev
        )


def _dev_server(ctx: AuditContext, c: StartCommand, dev: bool) -> Iterator[Finding]:
    program, args = c.program(), _args(c)
    what = None
    if program in ("manage.py", "django-admin") and "runserver" in args:
        what = "Django's runserver is a development server"
    elif program == "flask" and "run" in args:
        what = "`flask run` is Werkzeug's development server"
    elif program == "fastapi" and "dev" in args:
        what = "`fastapi dev` runs uvicorn with --reload"
    if what:
        yield _finding(ctx, DEV_SERVER, c, what, program, dev)
    autoreload = _option(args, "--py-autoreload")
    if autoreload not in (None, "0", "false"):
        yield _finding(
            ctx,
            DEV_SERVER,
            c,
            f"uWSGI py-autoreload={autoreload} restarts on every change to the source tree",
            "py-autoreload",
            dev,
        )
    if program in APP_SERVERS and "--reload" in args:
        yield _finding(
            ctx,
            DEV_SERVER,
            c,
            f"{program} --reload restarts on every change to the source tree",
            "--reload",
            dev,
        )


def _forwarded(ctx: AuditContext, c: StartCommand) -> Iterator[Finding]:
    program, args = c.program(), _args(c)
    if program not in ("uvicorn", "gunicorn"):
        return
    allowed = _option(args, "--forwarded-allow-ips")
    if allowed is None:
        allowed = c.environment().get("FORWARDED_ALLOW_IPS")
    if allowed is None or "*" not in {a.strip().strip("'\"") for a in allowed.split(",")}:
        return
    if program == "uvicorn" and "--no-proxy-headers" in args:
        return  # the headers are not read at all
    yield ctx.fail(
        FORWARDED,
        f"{c.kind} {c.name!r}: {program} trusts X-Forwarded-For/-Proto from any address "
        "(--forwarded-allow-ips='*'): clients choose their own IP and scheme",
        Location(path=c.source, line=c.line, setting="forwarded-allow-ips"),
        evidence="forwarded-allow-ips=*",
        key=f"{c.kind}:{c.name}:forwarded",
    )
