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
    aiohttp_sessions: int = 0  # aiohttp_session cookie storages constructed
    nginx_configs: int = 0


# (setting, Django check id, what is wrong, default, predicate saying the value is fine)
# Django's `check --deploy` (django/core/checks/security/base.py, sessions.py, csrf.py),
# as conditions on the effective settings: (setting, id, words, default, passes, needs).
# `needs` is what Django checks first: "security" (SecurityMiddleware installed), "hsts"
# (and SECURE_HSTS_SECONDS set), "csrf"/"xframe" (that middleware installed), or None.
SECURITY_MW = "django.middleware.security.SecurityMiddleware"
CSRF_MW = "django.middleware.csrf.CsrfViewMiddleware"
XFRAME_MW = "django.middleware.clickjacking.XFrameOptionsMiddleware"
SESSION_APP = "django.contrib.sessions"
SESSION_MW = "django.contrib.sessions.middleware.SessionMiddleware"
DJANGO = [
    ("SECURE_HSTS_SECONDS", "security.W004", "HSTS is not sent (SECURE_HSTS_SECONDS is unset or 0)", 0, lambda v: bool(v), "security"),
    ("SECURE_HSTS_INCLUDE_SUBDOMAINS", "security.W005", "HSTS does not cover subdomains", False, lambda v: v is True, "hsts"),
    ("SECURE_HSTS_PRELOAD", "security.W021", "HSTS is not submitted for browser preload lists", False, lambda v: v is True, "hsts"),
    ("SECURE_CONTENT_TYPE_NOSNIFF", "security.W006", "X-Content-Type-Options: nosniff is not sent", True, lambda v: v is True, "security"),
    ("SECURE_SSL_REDIRECT", "security.W008", "http requests are not redirected to https", False, lambda v: v is True, "security"),
    ("CSRF_COOKIE_SECURE", "security.W016", "the CSRF cookie is sent over plain http", False, lambda v: v is True, "csrf"),
    ("DEBUG", "security.W018", "DEBUG is on in deployment", False, lambda v: not v, None),
    ("X_FRAME_OPTIONS", "security.W019", "X-Frame-Options is not DENY", "DENY", lambda v: v == "DENY", "xframe"),
    ("ALLOWED_HOSTS", "security.W020", "ALLOWED_HOSTS is empty", [], lambda v: bool(v), None),
    ("SECURE_REFERRER_POLICY", "security.W022", "no Referrer-Policy is sent", "same-origin", lambda v: v is not None, "security"),
    ("SECURE_CROSS_ORIGIN_OPENER_POLICY", "security.W024", "no Cross-Origin-Opener-Policy is sent", "same-origin", lambda v: v is not None, "security"),
    ("SECRET_KEY", "security.W009", "SECRET_KEY is weak: under 50 characters, under 5 distinct ones, or django-insecure-", "", lambda v: not _weak_key(v), None),
]  # fmt: skip
# session cookie flags: one id for the sessions app, one for the middleware, one for both
SESSION_COOKIE = [
    ("SESSION_COOKIE_SECURE", ("security.W010", "security.W011", "security.W012"), "the session cookie is sent over plain http", False),
    ("SESSION_COOKIE_HTTPONLY", ("security.W013", "security.W014", "security.W015"), "the session cookie is readable by scripts", True),
]  # fmt: skip


def _weak_key(value: object) -> bool:
    """Django's W009 test (base.py: _check_secret_key)."""
    text = str(value)
    return len(set(text)) < 5 or len(text) < 50 or text.startswith("django-insecure-")


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

    def value(setting: str, default: object) -> tuple[object, str]:
        """The effective value (a default read from the environment when that is all there
        is), and a note when it is such a default; NOT_LITERAL when it cannot be known."""
        found = names.get(setting)
        if found is None:
            return default, ""
        known = literal(found.value)
        if known is not NOT_LITERAL:
            return known, ""
        return (
            value_when_unset(found.value, lookup),
            " (its default, when the environment does not set it)",
        )

    def lookup(name: str) -> ast.AST | None:
        found = names.get(name)
        return found.value if found is not None else None

    def report(setting: str, check: str, words: str, note: str = "") -> None:
        found = names.get(setting)
        out.results.append(
            StaticResult(
                "HDR020",
                f"{words} ({check}){note}" + _inherited(found, path, inherited_by),
                _file(found, path),
                found.line if found else None,
                setting,
                severity,
                key=check,
            )
        )

    middleware, _ = value("MIDDLEWARE", [])
    apps, _ = value("INSTALLED_APPS", [])
    if not isinstance(middleware, (list, tuple)):
        return  # which middleware runs is not known statically: nothing can be judged
    for dotted, check, words in DJANGO_MIDDLEWARE:
        if dotted not in middleware:
            report("MIDDLEWARE", check, words)
    hsts, _ = value("SECURE_HSTS_SECONDS", 0)
    holds = {
        None: True,
        "security": SECURITY_MW in middleware,
        "hsts": SECURITY_MW in middleware and hsts is not NOT_LITERAL and bool(hsts),
        "csrf": CSRF_MW in middleware,
        "xframe": XFRAME_MW in middleware,
    }
    for setting, check, words, default, passes, needs in DJANGO:
        if not holds[needs]:
            continue  # Django does not raise it without what it needs
        current, note = value(setting, default)
        if current is NOT_LITERAL:
            continue  # read from the environment without a default: not judged here
        if not passes(current):
            report(setting, check, words, note)
        elif setting in PROMISED_HEADERS and (needs != "security" or holds["security"]):
            found = names.get(setting)
            out.promises.append(
                Promise(
                    PROMISED_HEADERS[setting],
                    "django",
                    _file(found, path),
                    found.line if found else None,
                )
            )
    app = isinstance(apps, (list, tuple)) and SESSION_APP in apps
    session_mw = SESSION_MW in middleware
    for setting, (for_app, for_mw, for_both), words, default in SESSION_COOKIE:
        current, note = value(setting, default)
        if current is NOT_LITERAL or current:
            continue
        check = for_both if app and session_mw else for_app if app else for_mw if session_mw else ""
        if check:
            report(setting, check, words, note)


PROMISED_HEADERS = {
    "SECURE_HSTS_SECONDS": "strict-transport-security",
    "X_FRAME_OPTIONS": "x-frame-options",
    "SECURE_CONTENT_TYPE_NOSNIFF": "x-content-type-options",
    "SECURE_REFERRER_POLICY": "referrer-policy",
}


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


# aiohttp_session's cookie storages: AbstractStorage(cookie_name, domain, max_age, path,
# secure=None, httponly=True, samesite=None): no Secure and no SameSite unless given
AIOHTTP_STORAGES = ("EncryptedCookieStorage", "NaClCookieStorage", "SimpleCookieStorage")
AIOHTTP_STORAGE_KINDS = (*AIOHTTP_STORAGES, "RedisStorage", "MemcachedStorage")
AIOHTTP_FLAGS = [
    ("secure", None, lambda v: v is True, "the session cookie is sent over plain http"),
    ("httponly", True, lambda v: v is not False, "the session cookie is readable by scripts"),
    (
        "samesite",
        None,
        lambda v: isinstance(v, str) and v.lower() in ("lax", "strict"),
        "the session cookie has no SameSite attribute",
    ),
]


def aiohttp_session(tree: ast.Module, path: str, out: StaticFindings) -> None:
    """aiohttp_session storages: their cookie flags, and SimpleCookieStorage, which keeps the
    session as plain JSON in the cookie (its docs: for testing only)."""
    imported = any(
        (isinstance(n, ast.ImportFrom) and (n.module or "").startswith("aiohttp_session"))
        or (
            isinstance(n, ast.Import) and any(a.name.startswith("aiohttp_session") for a in n.names)
        )
        for n in ast.walk(tree)
    )
    if not imported:
        return
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and call_name(node) in AIOHTTP_STORAGE_KINDS):
            continue
        out.aiohttp_sessions += 1
        kind = call_name(node)
        if kind == "SimpleCookieStorage":
            out.results.append(
                StaticResult(
                    "HDR025",
                    "aiohttp_session SimpleCookieStorage keeps the session as plain, unsigned "
                    "JSON in the cookie: clients read and rewrite it",
                    path,
                    node.lineno,
                    kind,
                    key=f"{kind}:storage",
                )
            )
        for flag, default, fine, words in AIOHTTP_FLAGS:
            given = keyword(node, flag)
            value = default if given is None else literal(given)
            if value is not NOT_LITERAL and not fine(value):
                out.results.append(
                    StaticResult(
                        "HDR025",
                        f"aiohttp_session {kind}({flag}={value!r}): {words}",
                        path,
                        node.lineno,
                        flag,
                        key=f"{kind}:{flag}",
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
