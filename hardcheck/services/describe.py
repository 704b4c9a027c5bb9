"""The service model as `hardcheck services` shows it: a table for people, JSON for tools.

What discovery found must be checkable by a reader of the tree, but the model holds what
deployment files say, and those can hold credentials (`ENV SECRET_KEY=…`,
`--password …`). Environment values are shown only for settings that are never secret
(which settings module, debug and environment flags, ports); every other value is
replaced by its length, and so is an argument that follows a secret-like option.
"""

from __future__ import annotations

import re
from typing import Any

from ..safetext import safe
from .apps import Service
from .model import ServiceModel
from .routes import Route
from .start import StartCommand

SHOWN_VALUES = re.compile(
    r"^(DJANGO_SETTINGS_MODULE|DJANGO_CONFIGURATION|FLASK_APP|FLASK_ENV|FLASK_DEBUG|\w*DEBUG"
    r"|ENVIRONMENT|APP_ENV|ENV|PORT|HOST|WEB_CONCURRENCY|GUNICORN_CMD_ARGS|PYTHONUNBUFFERED"
    r"|PYTHONDONTWRITEBYTECODE|UVICORN_\w+|LOG_LEVEL)$"
)
SECRET_OPTION = re.compile(r"(?i)^--?[\w-]*(password|passwd|secret|token|key|credential)s?$")


def _value(name: str, value: str) -> str:
    return value if SHOWN_VALUES.match(name) else f"<{len(value)} chars>"


def _argv(argv: tuple[str, ...]) -> list[str]:
    shown: list[str] = []
    hide_next = False
    for token in argv:
        name, eq, value = token.partition("=")
        if hide_next:
            shown.append(f"<{len(token)} chars>")
            hide_next = False
        elif eq and SECRET_OPTION.match(name):
            shown.append(f"{name}=<{len(value)} chars>")
        else:
            shown.append(token)
            hide_next = bool(SECRET_OPTION.match(token))
    return [safe(t) for t in shown]


def start_dict(c: StartCommand) -> dict[str, Any]:
    shown = {
        "ports": [safe(p) for p in c.ports],
        "image": safe(c.image),
        "context": c.context,
    }
    return {
        **({k: v for k, v in shown.items() if v} if c.kind == "compose" else {}),
        "source": c.source,
        "line": c.line,
        "kind": c.kind,
        "name": safe(c.name),
        "program": safe(c.program()),
        "argv": _argv(c.argv),
        "env": {safe(k): safe(_value(k, v)) for k, v in c.env},
    }


def route_dict(r: Route) -> dict[str, Any]:
    return {
        "config": r.config,
        "server": safe(r.server),
        "location": safe(r.location),
        "directive": r.directive,
        "target": safe(r.target),
        "addresses": [safe(a) for a in r.addresses],
        "path": r.file,
        "line": r.line,
    }


def service_dict(service: Service, model: ServiceModel) -> dict[str, Any]:
    django = model.django
    return {
        "name": safe(service.name),
        "root": service.root,
        "root_from": "config" if service.configured else "discovered",
        "frameworks": service.frameworks,
        "entrypoints": [
            {"framework": e.framework, "path": e.path, "line": e.line, "name": safe(e.name)}
            for e in service.entrypoints
        ],
        "started_by": [
            {"source": c.source, "line": c.line, "kind": c.kind, "name": safe(c.name)}
            for c in service.starts
        ],
        "routes": [route_dict(r) for r in service.routes],
        "proxy": service.proxy,
        "django_settings": django.module
        if django is not None and django.file and service.holds(django.file)
        else None,
    }


def to_dict(model: ServiceModel) -> dict[str, Any]:
    owner = {id(c): s.name for s in model.services for c in s.starts}
    return {
        "services": [service_dict(s, model) for s in model.services],
        "starts": [{**start_dict(c), "service": owner.get(id(c))} for c in model.starts],
        "proxies": [
            {
                "kind": "nginx",
                "main": cfg.main,
                "snippet": cfg.snippet,
                "files": sorted(set(cfg.files)),
                "errors": [{"path": p, "line": n, "why": w} for p, n, w in cfg.errors],
            }
            for cfg in model.nginx.configs
        ],
        "django_settings": None
        if model.django is None
        else {
            "module": model.django.module,
            "file": model.django.file,
            "chosen_by": model.django.source,
            "chain": model.django.chain,
            "relied_on": model.django.confident,
            "problems": [{"path": p, "line": n, "why": w} for p, n, w in model.django.problems],
        },
        "not_live": sorted(model.nginx.unused),
        "unreadable": [{"path": p, "why": w} for p, w in model.unreadable],
    }


def _at(path: str, line: int | None) -> str:
    return f"{path}:{line}" if line else path


def _services(data: dict[str, Any]) -> list[str]:
    lines = ["services:"]
    for s in data["services"]:
        root = "the tree" if s["root"] == "." else f"{s['root']}/"
        how = ", root from the config" if s["root_from"] == "config" else ""
        lines.append(f"  {s['name']} ({root}{how}): {', '.join(s['frameworks']) or 'no app found'}")
        for e in s["entrypoints"]:
            lines.append(
                f"    entrypoint  {e['framework']} {e['name']} in {_at(e['path'], e['line'])}"
            )
        for c in s["started_by"]:
            lines.append(f"    started by  {c['kind']} {c['name']} ({_at(c['source'], c['line'])})")
        if not s["started_by"]:
            lines.append("    started by  nothing in the tree says how it is started")
        if s["django_settings"]:
            lines.append(f"    settings    {s['django_settings']}")
        for r in s["routes"]:
            lines.append(
                f"    behind      nginx {r['server']} location {r['location']} -> {r['target']}"
                f" ({_at(r['path'], r['line'])})"
            )
        if s["proxy"]:
            lines.append(f"    proxy       {s['proxy']} (named in the config)")
    if not data["services"]:
        lines.append(
            "  none found: no Django, Flask, FastAPI/Starlette or aiohttp application"
            " (other frameworks are not modelled)"
        )
    return lines


def table(model: ServiceModel) -> str:
    data = to_dict(model)
    lines = _services(data)
    lines.append("start commands:")
    for s in data["starts"] or []:
        env = " ".join(f"{k}={v}" for k, v in s["env"].items())
        command = " ".join(s["argv"]) or "(no command: environment only)"
        lines.append(f"  {s['kind']:<10} {s['name']:<12} {command}")
        extra = f"  -> {s['service']}" if s["service"] else "  -> no service found for it"
        if s.get("ports"):
            extra += f"  ports: {' '.join(s['ports'])}"
        lines.append(
            f"  {'':<10} {'':<12} {_at(s['source'], s['line'])}{extra}"
            + (f"  env: {env}" if env else "")
        )
    if not data["starts"]:
        lines.append(
            "  none found (Procfile, Dockerfile, compose, Kubernetes, systemd, entry scripts)"
        )
    django = data["django_settings"]
    lines.append("Django settings production loads:")
    if django:
        lines.append(f"  {django['module']} ({django['file']}), chosen by {django['chosen_by']}")
        if not django["relied_on"]:
            lines.append(
                "  only manage.py's default names it: each settings module is judged on its own"
            )
        lines.append(f"  merged from: {' <- '.join(django['chain'])}")
        lines += [
            f"  problem: {q['path']}:{q['line'] or ''} {q['why']}" for q in django["problems"]
        ]
    else:
        lines.append(
            "  none named (no DJANGO_SETTINGS_MODULE where the service starts, no setdefault)"
        )
    lines.append("proxy in front:")
    for p in data["proxies"]:
        how = "a conf.d/ snippet, read as inside http { }" if p["snippet"] else "main config"
        lines.append(f"  nginx {p['main']} ({how}): {len(p['files'])} file(s)")
        lines += [f"    {f}" for f in p["files"] if f != p["main"]]
        lines += [f"    error: {e['path']}:{e['line'] or ''} {e['why']}" for e in p["errors"]]
    if not data["proxies"]:
        lines.append("  no nginx configuration found")
    if data["not_live"]:
        lines.append("not live (looks like nginx configuration, no main config includes it):")
        lines += [f"  {f}" for f in data["not_live"]]
    if data["unreadable"]:
        lines.append("could not be read:")
        lines += [f"  {u['path']}: {u['why']}" for u in data["unreadable"]]
    return "\n".join(lines) + "\n"
