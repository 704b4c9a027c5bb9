"""What a service's own configuration promises about headers and cookies, read without
importing it: Django settings (the security family of `manage.py check --deploy`), Flask
session-cookie config, and nginx `add_header` (with its inheritance trap)."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...readers import nginx
from ...readers.pyast import (
    NOT_LITERAL,
    Assignment,
    assignments,
    call_name,
    keyword,
    literal,
    value_when_unset,
)
from ...services.django import DjangoSettings, Setting

SECURITY_HEADERS = {
    "strict-transport-security",
    "content-security-policy",
    "x-frame-options",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
    "cross-origin-opener-policy",
}


@dataclass
class Promise:
    header: str  # lower-case header the config says will be sent
    source: str  # "django", "nginx"
    path: str
    line: int | None


@dataclass
class StaticResult:
    rule: str
    message: str
    path: str
    line: int | None
    setting: str
    severity: str | None = None
    key: str = ""


@dataclass
class StaticFindings:
    results: list[StaticResult] = field(default_factory=list)
    promises: list[Promise] = field(default_factory=list)
    django_modules: int = 0
    flask_apps: int = 0
    nginx_configs: int = 0


# (setting, Django check id, what is wrong, default, predicate saying the value is fine)
# Django's check --deploy raises these only when SECURE_HSTS_SECONDS is set
NEEDS_HSTS = {"security.W005", "security.W021"}
DJANGO = [
    (
        "SECURE_HSTS_SECONDS",
        "security.W004",
        "HSTS is not sent (SECURE_HSTS_SECONDS is unset or 0)",
        0,
        lambda v: isinstance(v, int) and v > 0,
    ),
    (
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "security.W005",
        "HSTS does not cover subdomains",
        False,
        lambda v: v is True,
    ),
    (
        "SECURE_HSTS_PRELOAD",
        "security.W021",
        "HSTS is not submitted for browser preload lists",
        False,
        lambda v: v is True,
    ),
    (
        "SECURE_SSL_REDIRECT",
        "security.W008",
        "http requests are not redirected to https",
        False,
        lambda v: v is True,
    ),
    (
        "SESSION_COOKIE_SECURE",
        "security.W012",
        "the session cookie is sent over plain http",
        False,
        lambda v: v is True,
    ),
    (
        "SESSION_COOKIE_HTTPONLY",
        "security.W013",
        "the session cookie is readable by scripts",
        True,
        lambda v: v is not False,
    ),
    (
        "CSRF_COOKIE_SECURE",
        "security.W016",
        "the CSRF cookie is sent over plain http",
        False,
        lambda v: v is True,
    ),
    (
        "SECURE_CONTENT_TYPE_NOSNIFF",
        "security.W006",
        "X-Content-Type-Options: nosniff is not sent",
        True,
        lambda v: v is not False,
    ),
    (
        "X_FRAME_OPTIONS",
        "security.W019",
        "X-Frame-Options is not DENY",
        "DENY",
        lambda v: str(v).upper() == "DENY",
    ),
    (
        "SECURE_REFERRER_POLICY",
        "security.W022",
        "no Referrer-Policy is sent",
        "same-origin",
        lambda v: bool(v),
    ),
    (
        "SECURE_CROSS_ORIGIN_OPENER_POLICY",
        "security.W024",
        "no Cross-Origin-Opener-Policy is sent",
        "same-origin",
        lambda v: bool(v),
    ),
]
DJANGO_MIDDLEWARE = [
    (
        "django.middleware.security.SecurityMiddleware",
        "security.W001",
        "SecurityMiddleware is not installed: none of the SECURE_* settings take effect",
    ),
    (
        "django.middleware.csrf.CsrfViewMiddleware",
        "security.W003",
        "CsrfViewMiddleware is not installed: no CSRF protection",
    ),
    (
        "django.middleware.clickjacking.XFrameOptionsMiddleware",
        "security.W002",
        "XFrameOptionsMiddleware is not installed: no X-Frame-Options",
    ),
]
FLASK = [
    ("SESSION_COOKIE_SECURE", "the session cookie is sent over plain http", lambda v: v is True),
    (
        "SESSION_COOKIE_HTTPONLY",
        "the session cookie is readable by scripts",
        lambda v: v is not False,
    ),
    (
        "SESSION_COOKIE_SAMESITE",
        "the session cookie has no SameSite attribute",
        lambda v: v in ("Lax", "Strict", "lax", "strict"),
    ),
]


def django_settings(tree: ast.Module, path: str, out: StaticFindings, development: bool) -> None:
    """One settings module on its own (when the tree does not say which one production loads)."""
    names = {a.name: a for a in assignments(tree, include_classes=False)}
    judge_django(names, path, out, development)


def production_django_settings(django: DjangoSettings, out: StaticFindings) -> None:
    """The settings production loads, merged along their `import *` chain: each finding at
    the file and line that set the value (or the production module, for a default)."""
    judge_django(django.settings, django.file, out, False, inherited_by=django.module)


def judge_django(
    names: Mapping[str, Assignment | Setting],
    path: str,
    out: StaticFindings,
    development: bool,
    inherited_by: str = "",
) -> None:
    if not ({"INSTALLED_APPS", "MIDDLEWARE"} & set(names)):
        return
    out.django_modules += 1
    severity = "info" if development else None
    middleware = literal(names["MIDDLEWARE"].value) if "MIDDLEWARE" in names else NOT_LITERAL
    if isinstance(middleware, (list, tuple)):
        for dotted, check, words in DJANGO_MIDDLEWARE:
            if dotted not in middleware:
                a = names["MIDDLEWARE"]
                out.results.append(
                    StaticResult(
                        "HDR020",
                        f"{words} ({check})" + _inherited(a, path, inherited_by),
                        _file(a, path),
                        a.line,
                        "MIDDLEWARE",
                        severity,
                        key=check,
                    )
                )
    hsts = names.get("SECURE_HSTS_SECONDS")
    hsts_value = value_when_unset(hsts.value) if hsts is not None else 0
    for setting, check, words, default, fine in DJANGO:
        if check in NEEDS_HSTS and (hsts_value is NOT_LITERAL or not hsts_value):
            continue  # Django raises these only when HSTS is on: off, or not known statically
        found = names.get(setting)
        value = literal(found.value) if found is not None else default
        from_env = ""
        if value is NOT_LITERAL and found is not None:
            # read from the environment: judged by its default, as Django would see it
            # when the variable is unset; without a default it cannot be judged here
            value = value_when_unset(found.value)
            from_env = " (its default, when the environment does not set it)"
        if value is NOT_LITERAL:
            continue
        if not fine(value):
            out.results.append(
                StaticResult(
                    "HDR020",
                    f"{words} ({check}){from_env}" + _inherited(found, path, inherited_by),
                    _file(found, path),
                    found.line if found else None,
                    setting,
                    severity,
                    key=check,
                )
            )
        elif setting in (
            "SECURE_HSTS_SECONDS",
            "X_FRAME_OPTIONS",
            "SECURE_CONTENT_TYPE_NOSNIFF",
            "SECURE_REFERRER_POLICY",
        ):
            header = {
                "SECURE_HSTS_SECONDS": "strict-transport-security",
                "X_FRAME_OPTIONS": "x-frame-options",
                "SECURE_CONTENT_TYPE_NOSNIFF": "x-content-type-options",
                "SECURE_REFERRER_POLICY": "referrer-policy",
            }[setting]
            out.promises.append(
                Promise(header, "django", _file(found, path), found.line if found else None)
            )


def _file(found: Assignment | Setting | None, path: str) -> str:
    return found.file if isinstance(found, Setting) else path


def _inherited(found: Assignment | Setting | None, path: str, inherited_by: str) -> str:
    if isinstance(found, Setting) and found.file != path and inherited_by:
        return f" (set in {found.file}, inherited by {inherited_by}, which production loads)"
    return ""


def flask_config(tree: ast.Module, path: str, out: StaticFindings) -> None:
    if not any(isinstance(n, ast.Call) and call_name(n) == "Flask" for n in ast.walk(tree)):
        return
    out.flask_apps += 1
    values: dict[str, tuple[object, int]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for t in node.targets:
                if isinstance(t, ast.Subscript) and isinstance(literal(t.slice), str):
                    values[literal(t.slice)] = (literal(node.value), node.lineno)
        elif isinstance(node, ast.Call) and call_name(node) in ("update", "from_mapping"):
            for setting, _, _ in FLASK:
                if keyword(node, setting) is not None:
                    values[setting] = (literal(keyword(node, setting)), node.lineno)
    for setting, words, fine in FLASK:
        value, line = values.get(
            setting, (None if setting != "SESSION_COOKIE_HTTPONLY" else True, None)
        )
        if value is not NOT_LITERAL and not fine(value):
            out.results.append(
                StaticResult(
                    "HDR021",
                    f"Flask {setting} = {value!r}: {words}",
                    path,
                    line,
                    setting,
                    key=setting,
                )
            )


def nginx_headers(cfg: nginx.NginxConfig, out: StaticFindings) -> None:
    out.nginx_configs += 1
    for http in nginx.http_blocks(cfg):
        parent_http = _headers(http.block or [])
        for server in nginx.find(http.block or [], "server"):
            own = _headers(server.block or [])
            server_effective = own or parent_http
            for header, (d, always) in server_effective.items():
                _always(d, header, always, out)
                if header in SECURITY_HEADERS:
                    out.promises.append(Promise(header, "nginx", d.file, d.line))
            _walk_locations(server.block or [], server_effective, out)


def _headers(block: list[nginx.Directive]) -> dict[str, tuple[nginx.Directive, bool]]:
    found = {}
    for d in block:
        if d.name == "add_header" and len(d.args) >= 2:
            found[d.args[0].lower()] = (d, d.args[-1] == "always")
    return found


def _always(d: nginx.Directive, header: str, always: bool, out: StaticFindings) -> None:
    if header in SECURITY_HEADERS and not always:
        out.results.append(
            StaticResult(
                "HDR023",
                f"add_header {d.args[0]} without 'always': not sent on 4xx/5xx responses",
                d.file,
                d.line,
                "add_header",
                key=f"{d.file}:{d.line}",
            )
        )


def _walk_locations(block, inherited: dict, out: StaticFindings) -> None:
    for d in block:
        if d.name != "location":
            continue
        own = _headers(d.block or [])
        if own:
            dropped = sorted(h for h in inherited if h not in own and h in SECURITY_HEADERS)
            if dropped:
                out.results.append(
                    StaticResult(
                        "HDR022",
                        f"location {' '.join(d.args)} has its own add_header, so nginx drops every inherited one: "
                        f"{', '.join(dropped)} are not sent there",
                        d.file,
                        d.line,
                        "add_header",
                        key=f"{d.file}:{d.line}",
                    )
                )
            for header, (directive, always) in own.items():
                _always(directive, header, always, out)
        _walk_locations(d.block or [], own or inherited, out)
