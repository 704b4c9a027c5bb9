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
from .model import ServiceModel
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
    return {
        "source": c.source,
        "line": c.line,
        "kind": c.kind,
        "name": safe(c.name),
        "program": safe(c.program()),
        "argv": _argv(c.argv),
        "env": {safe(k): safe(_value(k, v)) for k, v in c.env},
    }


def to_dict(model: ServiceModel) -> dict[str, Any]:
    return {
        "starts": [start_dict(c) for c in model.starts],
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


def table(model: ServiceModel) -> str:
    data = to_dict(model)
    lines = ["start commands:"]
    for s in data["starts"] or []:
        where = f"{s['source']}:{s['line']}" if s["line"] else s["source"]
        env = " ".join(f"{k}={v}" for k, v in s["env"].items())
        command = " ".join(s["argv"]) or "(no command: environment only)"
        lines.append(f"  {s['kind']:<10} {s['name']:<12} {command}")
        lines.append(f"  {'':<10} {'':<12} {where}" + (f"  env: {env}" if env else ""))
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
