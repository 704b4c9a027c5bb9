"""The layers of a request path and what each says about request size, read statically:
nginx (per proxying location), Apache, Caddy, gunicorn, uvicorn, Django, Flask/Werkzeug,
FastAPI/Starlette. Nothing is imported or executed."""

from __future__ import annotations

import ast
import os
import re
from dataclasses import dataclass, field

from ...inventory import Entry, ReadSkipped, read_text
from ...readers import nginx
from ...readers.appfiles import settings_like_path
from ...readers.cmdline import ServerCommand, commands_in, is_deployment_file
from ...readers.pyast import (
    NOT_LITERAL,
    SourceError,
    assignments,
    call_name,
    const_number,
    keyword,
    literal,
    parse_source,
)
from ...services.start import kind_of
from ..base import AuditContext

NGINX_DEFAULT = 1024 * 1024  # client_max_body_size when never set
DJANGO_DEFAULTS = {
    "DATA_UPLOAD_MAX_MEMORY_SIZE": 2621440,
    "DATA_UPLOAD_MAX_NUMBER_FIELDS": 1000,
    "DATA_UPLOAD_MAX_NUMBER_FILES": 100,
}
GUNICORN_DEFAULTS = {
    "limit_request_line": 4094,
    "limit_request_field_size": 8190,
    "limit_request_fields": 100,
}
WERKZEUG_DEFAULTS = {"MAX_FORM_MEMORY_SIZE": 500_000, "MAX_FORM_PARTS": 1000}
LIMIT_MIDDLEWARE = re.compile(
    r"(?i)(body|content|upload|request|payload).*(size|limit|length)|limit.*(body|upload|size)"
)

# What `python()` acts on, as text: a module holding none of these (and no framework
# import not yet seen) cannot change the result, so it is not parsed. Most of a large
# tree's modules are skipped this way; parsing them all was most of this audit's time.
PYTHON_SIGNALS = re.compile(
    r"FastAPI|Starlette|Flask|uvicorn|[Mm]iddleware|MIDDLEWARE|INSTALLED_APPS|ROOT_URLCONF"
    r"|MAX_CONTENT_LENGTH|MAX_FORM_|max_files|max_fields|max_part_size|UploadFile"
    r"|aiohttp|client_max_size"
)
FRAMEWORK_WORDS = re.compile(r"\b(flask|fastapi|starlette|django|aiohttp)\b")
AIOHTTP_DEFAULT = 1024**2  # aiohttp.web.Application(client_max_size=1024**2)


@dataclass
class Limit:
    """One layer's say on request size. `value` None means unlimited; `explicit` is
    False when the layer's default applies."""

    layer: str  # nginx, apache, caddy, gunicorn, uvicorn, django, flask, fastapi
    setting: str
    value: int | None
    path: str
    line: int | None
    explicit: bool = True
    context: str = ""  # e.g. "server :80 location /upload"
    bounds_body: bool = True  # False for header/field-count limits


@dataclass
class Layers:
    body: list[Limit] = field(default_factory=list)  # request-body size limits
    counts: list[Limit] = field(default_factory=list)  # header/line/field/file-count limits
    binds: list[tuple[str, str, str, int | None]] = field(
        default_factory=list
    )  # (server, address, path, line)
    frameworks: dict[str, tuple[str, int | None]] = field(
        default_factory=dict
    )  # name -> where the app is
    upload_endpoints: list[tuple[str, int, str]] = field(default_factory=list)
    apps: list[tuple[str, str, int]] = field(default_factory=list)  # (framework, path, line)
    proxies: list[str] = field(default_factory=list)
    app_servers: set[str] = field(default_factory=set)
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)
    skips: list[tuple[str, int | None, str]] = field(default_factory=list)


def reads(rel: str) -> bool:
    """The files the layers are read from (nginx/Apache .conf, Python, Caddy, deployment)."""
    return (
        rel.endswith((".conf", ".py"))
        or os.path.basename(rel) == "Caddyfile"
        or is_deployment_file(rel)
    )


class LayerReader:
    def __init__(self, ctx: AuditContext):
        self.ctx = ctx
        self.out = Layers()

    def read(self, entry: Entry) -> str | None:
        try:
            return read_text(self.ctx.inventory, entry, self.ctx.config.max_file_size)
        except ReadSkipped as exc:
            if not str(exc).startswith(("larger", "binary")):
                self.out.errors.append((entry.display, None, str(exc)))
            return None

    def run(self) -> Layers:
        for entry in self.ctx.inventory.files():
            rel = entry.rel
            base = os.path.basename(rel)
            if not reads(rel) or entry.size == 0:
                continue
            text = self.read(entry)
            if text is None:
                continue
            if rel.endswith(".conf") and ("LimitRequestBody" in text or "<VirtualHost" in text):
                self.apache(entry, text)
            if base == "Caddyfile":
                self.caddy(entry, text)
            if is_deployment_file(rel):
                for cmd in commands_in(entry.display, text):
                    self.command(cmd)
            if rel.endswith(".py") and self.worth_parsing(rel, text):
                self.python(entry, text)
        self.nginx(self.ctx.services.nginx.configs)
        return self.out

    # --- proxies -----------------------------------------------------------------------
    def nginx(self, configs: list[nginx.NginxConfig]) -> None:
        for cfg in configs:
            for file, line, why in cfg.errors:
                self.out.errors.append((file, line, f"nginx: {why}"))
            for server, location, chain in nginx.iter_locations(cfg):
                proxy = next(
                    (d for d in location.block or [] if d.name in nginx.PROXY_DIRECTIVES), None
                )
                if proxy is None:
                    continue
                listen = nginx.value(server.block or [], "listen")
                where = f"server {listen.args[0] if listen else ':80'} location {' '.join(location.args)}"
                setting = nginx.inherited(chain, "client_max_body_size")
                if setting is None:
                    limit = Limit(
                        "nginx",
                        "client_max_body_size",
                        NGINX_DEFAULT,
                        location.file,
                        location.line,
                        False,
                        where,
                    )
                else:
                    size = nginx.parse_size(setting.args[0]) if setting.args else None
                    if size is None:
                        self.out.errors.append(
                            (
                                setting.file,
                                setting.line,
                                f"nginx: client_max_body_size {' '.join(setting.args)!r} is not a size (units: k, m, g)",
                            )
                        )
                        continue
                    limit = Limit(
                        "nginx",
                        "client_max_body_size",
                        size or None,
                        setting.file,
                        setting.line,
                        True,
                        where,
                    )
                self.out.body.append(limit)
                self.out.proxies.append("nginx")

    def apache(self, entry: Entry, text: str) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            m = re.match(r"\s*LimitRequestBody\s+(\d+)", line)
            if m:
                value = int(m.group(1))
                self.out.body.append(
                    Limit("apache", "LimitRequestBody", value or None, entry.display, number)
                )
                self.out.proxies.append("apache")

    def caddy(self, entry: Entry, text: str) -> None:
        for number, line in enumerate(text.splitlines(), 1):
            m = re.match(r"\s*max_size\s+(\d+)\s*([KMG]i?B|B)?", line, re.I)
            if m and "request_body" in text:
                unit = (m.group(2) or "B").upper().rstrip("B").replace("I", "")
                mult = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3}[unit]
                if "I" in (m.group(2) or "").upper():
                    mult = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}[unit]
                self.out.body.append(
                    Limit(
                        "caddy",
                        "request_body max_size",
                        int(m.group(1)) * mult,
                        entry.display,
                        number,
                    )
                )
                self.out.proxies.append("caddy")

    # --- app servers ----------------------------------------------------------------------
    def command(self, cmd: ServerCommand) -> None:
        self.out.app_servers.add(cmd.server)
        bind = cmd.option("--bind", "-b") if cmd.server == "gunicorn" else cmd.option("--host")
        # in compose a container binds 0.0.0.0 to be reachable at all: what is exposed is
        # what `ports` publishes on the host, which APP007 judges
        if bind and kind_of(cmd.path, "") != "compose":
            self.out.binds.append((cmd.server, bind, cmd.path, cmd.line))
        if cmd.server == "gunicorn":
            for setting in GUNICORN_DEFAULTS:
                raw = cmd.option(
                    "--" + setting.replace("_", "-"),
                    "--" + setting.replace("_", "-").replace("-size", "_size"),
                )
                if raw is not None:
                    self.count_limit("gunicorn", setting, raw, cmd.path, cmd.line)
        else:
            raw = cmd.option("--h11-max-incomplete-event-size")
            if raw is not None:
                self.count_limit(
                    "uvicorn", "h11_max_incomplete_event_size", raw, cmd.path, cmd.line
                )

    def count_limit(self, layer: str, setting: str, raw, path: str, line: int | None) -> None:
        try:
            value = int(raw)
        except (TypeError, ValueError):
            self.out.skips.append(
                (path, line, f"{layer} {setting} = {raw!r} cannot be evaluated statically")
            )
            return
        self.out.counts.append(
            Limit(layer, setting, value or None, path, line, True, bounds_body=False)
        )

    # --- Python: gunicorn config, uvicorn.run, Django, Flask, FastAPI ---------------------------
    def worth_parsing(self, rel: str, text: str) -> bool:
        """Settings modules always (one that does not parse must be reported)."""
        if (
            settings_like_path(rel)
            or "gunicorn" in os.path.basename(rel).lower()
            or PYTHON_SIGNALS.search(text)
        ):
            return True
        seen = self.out.frameworks
        return any(
            ("fastapi" if word == "starlette" else word) not in seen
            for word in set(FRAMEWORK_WORDS.findall(text))
        )

    def python(self, entry: Entry, text: str) -> None:
        try:
            tree = parse_source(text.encode("utf-8"), entry.display)
        except SourceError as exc:
            self.out.errors.append((entry.display, None, str(exc)))
            return
        path = entry.display
        names = {a.name: a for a in assignments(tree)}
        if "gunicorn" in os.path.basename(entry.rel).lower():
            self.out.app_servers.add("gunicorn")
            bind = names.get("bind")
            if bind is not None:
                value = literal(bind.value)
                for address in value if isinstance(value, list) else [value]:
                    if isinstance(address, str):
                        self.out.binds.append(("gunicorn", address, path, bind.line))
            for setting in GUNICORN_DEFAULTS:
                if setting in names:
                    v = const_number(names[setting].value)
                    self.count_limit(
                        "gunicorn",
                        setting,
                        "computed" if v is NOT_LITERAL else v,
                        path,
                        names[setting].line,
                    )
        django = {"INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF"} & set(names)
        if django:
            self.out.frameworks.setdefault("django", (path, None))
            for setting, default in DJANGO_DEFAULTS.items():
                found = names.get(setting)
                value = const_number(found.value) if found is not None else default
                if value is NOT_LITERAL:
                    self.out.skips.append(
                        (
                            path,
                            found.line if found else None,
                            f"{setting} is computed; cannot be evaluated statically",
                        )
                    )
                    continue
                target = (
                    self.out.body if setting == "DATA_UPLOAD_MAX_MEMORY_SIZE" else self.out.counts
                )
                target.append(
                    Limit(
                        "django",
                        setting,
                        value,
                        path,
                        found.line if found else None,
                        found is not None,
                        bounds_body=setting == "DATA_UPLOAD_MAX_MEMORY_SIZE",
                    )
                )
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imports(node, path)
            elif isinstance(node, ast.Call):
                self.call(node, path)
            elif isinstance(node, ast.Assign):
                self.flask_assign(node, path)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.function(node, path)
        for setting in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"):
            a = names.get(setting)
            if a is not None:  # Flask-only names, in a config module or a config class
                self.flask_setting(setting, a.value, path, a.line)

    def imports(self, node: ast.Import | ast.ImportFrom, path: str) -> None:
        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        for mod in mods:
            top = mod.split(".")[0]
            if top in ("flask", "fastapi", "starlette", "django", "aiohttp"):
                self.out.frameworks.setdefault(
                    "fastapi" if top == "starlette" else top, (path, None)
                )

    def call(self, node: ast.Call, path: str) -> None:
        name = call_name(node)
        if name in ("FastAPI", "Starlette"):
            self.out.frameworks["fastapi"] = (path, node.lineno)
            self.out.apps.append(("fastapi", path, node.lineno))
        elif name == "Flask":
            self.out.frameworks["flask"] = (path, node.lineno)
            self.out.apps.append(("flask", path, node.lineno))
        elif name == "Application" and "aiohttp" in self.out.frameworks:
            self.out.apps.append(("aiohttp", path, node.lineno))
            # aiohttp bounds every body: client_max_size, 1 MiB unless set (0 or None: no limit)
            self.out.frameworks["aiohttp"] = (path, node.lineno)
            given = keyword(node, "client_max_size")
            value = AIOHTTP_DEFAULT if given is None else const_number(given)
            if value is NOT_LITERAL:
                self.out.skips.append(
                    (
                        path,
                        node.lineno,
                        "client_max_size is computed; cannot be evaluated statically",
                    )
                )
            else:
                limit = value if isinstance(value, int) and value > 0 else None
                self.out.body.append(
                    Limit("aiohttp", "client_max_size", limit, path, node.lineno, given is not None)
                )
        elif (
            name == "run"
            and isinstance(node.func, ast.Attribute)
            and call_name(node.func.value) == "uvicorn"
        ):
            self.out.app_servers.add("uvicorn")
            host = literal(keyword(node, "host"))
            if isinstance(host, str):
                self.out.binds.append(("uvicorn", host, path, node.lineno))
            size = keyword(node, "h11_max_incomplete_event_size")
            if size is not None:
                v = const_number(size)
                self.count_limit(
                    "uvicorn",
                    "h11_max_incomplete_event_size",
                    "computed" if v is NOT_LITERAL else v,
                    path,
                    node.lineno,
                )
        elif name in ("add_middleware", "Middleware") and node.args:
            mw = (
                call_name(node.args[0])
                if isinstance(node.args[0], (ast.Name, ast.Attribute))
                else ""
            )
            if LIMIT_MIDDLEWARE.search(mw):
                self.out.body.append(Limit("fastapi", f"middleware {mw}", -1, path, node.lineno))
        elif name in ("update", "from_mapping"):
            for setting in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"):
                value = keyword(node, setting)
                if value is not None:
                    self.flask_setting(setting, value, path, node.lineno)
        elif name == "form" and any(
            keyword(node, k) is not None for k in ("max_files", "max_fields", "max_part_size")
        ):
            self.out.counts.append(
                Limit("fastapi", "request.form(max_…)", 1, path, node.lineno, bounds_body=False)
            )

    def flask_assign(self, node: ast.Assign, path: str) -> None:
        for target in node.targets:
            if isinstance(target, ast.Subscript):
                key = literal(target.slice)
                if key in ("MAX_CONTENT_LENGTH", "MAX_FORM_MEMORY_SIZE", "MAX_FORM_PARTS"):
                    self.flask_setting(key, node.value, path, node.lineno)

    def flask_setting(self, setting: str, value_node: ast.AST, path: str, line: int) -> None:
        value = const_number(value_node)
        if value is NOT_LITERAL:
            self.out.skips.append(
                (path, line, f"Flask {setting} is computed; cannot be evaluated statically")
            )
            return
        target = self.out.body if setting == "MAX_CONTENT_LENGTH" else self.out.counts
        target.append(
            Limit(
                "flask",
                setting,
                value,
                path,
                line,
                True,
                bounds_body=setting == "MAX_CONTENT_LENGTH",
            )
        )

    def function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> None:
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and call_name(deco) == "middleware":
                source = ast.unparse(node).lower()
                if "content-length" in source and "413" in source:
                    self.out.body.append(
                        Limit("fastapi", f"middleware {node.name}()", -1, path, node.lineno)
                    )
        for arg in node.args.args:
            if arg.annotation is not None and "UploadFile" in ast.unparse(arg.annotation):
                self.out.upload_endpoints.append((path, node.lineno, node.name))
