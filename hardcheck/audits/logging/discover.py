"""Finding the logging configuration of a service in its inventory, statically:
dictConfig files (JSON/YAML/TOML), fileConfig INI files, Django `LOGGING`,
`basicConfig`/`dictConfig` calls, gunicorn config modules, server command lines,
nginx `log_format`/`access_log`, logrotate configs and code taking tokens in URLs."""

from __future__ import annotations

import ast
import configparser
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from ... import _toml
from ...inventory import Entry, ReadSkipped, is_binary, read_text
from ...model import Finding
from ...readers import nginx, yamlsafe
from ...readers.cmdline import ServerCommand, commands_in, is_deployment_file
from ...readers.pyast import (
    SourceError,
    Unresolved,
    assignments,
    call_name,
    keyword,
    literal,
    parse_source,
    partial_literal,
)
from ...safetext import display_path
from ..base import AuditContext
from .logmodel import LogConfig, from_dict, from_ini, is_dictconfig, is_fileconfig

STRUCTURED = {".json", ".yaml", ".yml", ".toml"}
INI = {".ini", ".cfg", ".conf"}
DICT_MARKERS = (b"handlers", b"loggers", b"formatters")
# What makes a Python module worth parsing, by what it may hold: logging configuration
# or server settings, a logging.config.listen() call, or tokens read from a URL.
CONFIG_MARKERS = (
    b"LOGGING",
    b"basicConfig",
    b"dictConfig",
    b"uvicorn",
    b"loglevel",
    b"accesslog",
    b"logconfig",
)
LISTEN_MARKERS = (b"listen(",)
URL_TOKEN_MARKERS = (
    b"query_params",
    b"request.args",
    b"request.GET",
    b"Query(",
    b"token",
    b"api_key",
)
PY_MARKERS = CONFIG_MARKERS + LISTEN_MARKERS + URL_TOKEN_MARKERS
TOKEN_NAMES = re.compile(
    r"^(token|access_token|id_token|refresh_token|auth|auth_token|api_key|apikey|key|secret|"
    r"password|passwd|signature|sig|session|sessionid|jwt|code)$",
    re.IGNORECASE,
)
ROUTE_DECORATORS = {"get", "post", "put", "patch", "delete", "api_route", "route", "websocket"}
GUNICORN_SETTINGS = (
    "loglevel",
    "accesslog",
    "access_log_format",
    "logconfig",
    "logconfig_dict",
    "errorlog",
)


@dataclass
class GunicornSettings:
    path: str
    line: int
    values: dict[str, Any]


@dataclass
class NginxLog:
    path: str
    line: int
    directive: str  # "log_format" or "access_log"
    text: str


@dataclass
class TokenInUrl:
    path: str
    line: int
    name: str
    how: str


@dataclass
class Discovery:
    configs: list[LogConfig] = field(default_factory=list)
    commands: list[ServerCommand] = field(default_factory=list)
    uvicorn_runs: list[tuple[str, int, dict[str, Any]]] = field(default_factory=list)
    gunicorn: list[GunicornSettings] = field(default_factory=list)
    nginx: list[NginxLog] = field(default_factory=list)
    nginx_configs: list[str] = field(default_factory=list)
    logrotate_paths: list[str] = field(default_factory=list)
    tokens_in_urls: list[TokenInUrl] = field(default_factory=list)
    listeners: list[tuple[str, int]] = field(default_factory=list)
    frameworks: set[str] = field(default_factory=set)
    problems: list[Finding] = field(default_factory=list)
    parse_failures: dict[str, str] = field(default_factory=dict)  # display path -> why
    unread: dict[str, str] = field(default_factory=dict)  # display path -> why not
    # modules that did not parse: path -> (why, which kinds of content it may hold: "config",
    # "listen", "url-token"), so only the rules reading such content are charged with it
    unparsed: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)

    @property
    def anything(self) -> bool:
        return bool(
            self.configs or self.commands or self.uvicorn_runs or self.gunicorn or self.nginx
        )


def _load_structured(suffix: str, text: str) -> Any:
    if suffix == ".json":
        return json.loads(text)
    if suffix == ".toml":
        return _toml.loads(text)
    return yamlsafe.load(text)


def _nginx_logs(directives: list[nginx.Directive]) -> Iterator[NginxLog]:
    """log_format and access_log wherever they stand in the live nginx configuration."""
    for d in directives:
        if d.name in ("log_format", "access_log"):
            yield NginxLog(display_path(d.file), d.line, d.name, " ".join(d.args))
        if d.block:
            yield from _nginx_logs(d.block)


def _logrotate_paths(text: str) -> list[str]:
    paths = []
    for line in text.splitlines():
        head = line.split("{", 1)[0].strip()
        if head.startswith("/"):
            paths.extend(head.split())
    return paths


def reads(rel: str) -> bool:
    """The files logging configuration is looked for in."""
    suffix = os.path.splitext(os.path.basename(rel).lower())[1]
    return (
        suffix in STRUCTURED
        or suffix in INI
        or suffix == ".py"
        or is_deployment_file(rel)
        or "logrotate" in rel
    )


def markers_in(text: str) -> frozenset[str]:
    return frozenset(
        kind
        for kind, markers in (
            ("config", CONFIG_MARKERS),
            ("listen", LISTEN_MARKERS),
            ("url-token", URL_TOKEN_MARKERS),
        )
        if any(m.decode() in text for m in markers)
    )


def python_ignored(rel: str, data: bytes) -> bool:
    """A plain Python module (not a deployment file) that reads as UTF-8 text and holds
    none of PY_MARKERS: `Discoverer.file` reads it and looks no further."""
    if not rel.endswith(".py") or is_deployment_file(rel) or "logrotate" in rel:
        return False
    if is_binary(data) or any(m in data for m in PY_MARKERS):
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class Discoverer:
    def __init__(self, ctx: AuditContext):
        self.ctx = ctx
        self.found = Discovery()

    def run(self) -> Discovery:
        for entry in self.ctx.inventory.files():
            self.file(entry)
        for cfg in self.ctx.services.nginx.configs:  # read once per run, as nginx reads it
            self.found.nginx_configs.append(display_path(cfg.main))
            self.found.nginx.extend(_nginx_logs(cfg.directives))
        return self.found

    def read(self, entry: Entry) -> str | None:
        try:
            return read_text(self.ctx.inventory, entry, self.ctx.config.max_file_size)
        except ReadSkipped as exc:
            why = str(exc)
            if exc.kind in ("too-large", "binary"):
                self.found.problems.append(self.ctx.not_read(entry.display, why, why.split(" ")[0]))
            else:
                self.found.unread[entry.display] = why
                self.found.problems.append(self.ctx.unreadable(entry.display, why))
            return None

    def file(self, entry: Entry) -> None:
        rel = entry.rel
        suffix = os.path.splitext(os.path.basename(rel).lower())[1]
        if not reads(rel) or entry.size == 0:
            return
        text = self.read(entry)
        if text is None:
            return
        if "logrotate" in rel:
            self.found.logrotate_paths.extend(_logrotate_paths(text))
        if is_deployment_file(rel):
            self.found.commands.extend(commands_in(entry.display, text))
        if suffix in STRUCTURED and any(m.decode() in text for m in DICT_MARKERS):
            self.structured(entry, suffix, text)
        if suffix in INI and "[loggers]" in text:
            if os.path.basename(rel) == "alembic.ini":
                # alembic's fileConfig configures the migration command, not the service
                self.found.problems.append(
                    self.ctx.not_read(
                        entry.display,
                        "alembic.ini's [loggers] configure the alembic migration command, "
                        "not the running service",
                        "not-the-service",
                    )
                )
            else:
                self.ini(entry, text)
        if suffix == ".py":
            self.ctx.stats["python_files_read"] += 1
            if any(m.decode() in text for m in PY_MARKERS):
                self.python(entry, text)

    def structured(self, entry: Entry, suffix: str, text: str) -> None:
        try:
            data = _load_structured(suffix, text)
        except (ValueError, yaml.YAMLError, _toml.TOMLDecodeError, RecursionError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            self.found.parse_failures[entry.display] = f"{type(exc).__name__}: {first[:200]}"
            return
        if is_dictconfig(data):
            self.ctx.stats["logging_configs"] += 1
            self.found.configs.append(from_dict(data, entry.display))

    def ini(self, entry: Entry, text: str) -> None:
        cp = configparser.RawConfigParser()  # strict, like fileConfig's ConfigParser
        try:
            cp.read_string(text, source=entry.display)
        except configparser.Error as exc:
            cfg = LogConfig(source=entry.display, kind="fileConfig")
            cfg.errors.append(("(file)", f"{type(exc).__name__}: fileConfig cannot read it"))
            self.found.configs.append(cfg)
            return
        if is_fileconfig(cp):
            self.ctx.stats["logging_configs"] += 1
            self.found.configs.append(from_ini(cp, entry.display))

    def python(self, entry: Entry, text: str) -> None:
        try:
            tree = parse_source(text.encode("utf-8"), entry.display)
        except SourceError as exc:
            self.found.unparsed[entry.display] = (str(exc), markers_in(text))
            self.found.problems.append(self.ctx.unreadable(entry.display, str(exc)))
            return
        self.ctx.stats["python_files_parsed"] += 1
        path = entry.display
        module_dicts: dict[str, ast.AST] = {}
        for a in assignments(tree, include_classes=False):
            if isinstance(a.value, (ast.Dict, ast.Call)):
                module_dicts[a.name] = a.value
            if a.name == "LOGGING" and isinstance(a.value, ast.Dict):
                data = partial_literal(a.value)
                if isinstance(data, dict):
                    self.ctx.stats["logging_configs"] += 1
                    self.found.configs.append(from_dict(data, path, kind="django", line=a.line))
        if "gunicorn" in os.path.basename(entry.rel).lower():
            values = {
                a.name: partial_literal(a.value)
                for a in assignments(tree, include_classes=False)
                if a.name in GUNICORN_SETTINGS
            }
            self.found.gunicorn.append(GunicornSettings(path, 1, values))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self.imports(node)
            elif isinstance(node, ast.Call):
                self.call(node, path, module_dicts)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self.route(node, path)
            elif isinstance(node, ast.Subscript):
                self.query_subscript(node, path)

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        names = (
            [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
        )
        for name in names:
            top = name.split(".")[0]
            if top in ("django", "flask", "fastapi", "starlette", "uvicorn", "gunicorn"):
                self.found.frameworks.add(top)

    def call(self, node: ast.Call, path: str, module_dicts: dict[str, ast.AST]) -> None:
        name = call_name(node)
        func = node.func
        owner = func.value if isinstance(func, ast.Attribute) else None
        owner_name = call_name(owner) if owner is not None else ""
        if name == "basicConfig":
            self.ctx.stats["logging_configs"] += 1
            self.found.configs.append(self.basic_config(node, path))
        elif name == "dictConfig" and node.args:
            arg: ast.AST = node.args[0]
            if isinstance(arg, ast.Name) and arg.id in module_dicts:
                arg = module_dicts[arg.id]
            if isinstance(arg, ast.Name) and arg.id == "LOGGING":
                return  # the Django settings dict, already read
            data = partial_literal(arg)
            if isinstance(data, dict):
                self.ctx.stats["logging_configs"] += 1
                self.found.configs.append(from_dict(data, path, line=node.lineno))
        elif name == "listen" and owner_name == "config" and keyword(node, "verify") is None:
            self.found.listeners.append((path, node.lineno))
        elif name == "run" and owner_name == "uvicorn":
            kws = {kw.arg: partial_literal(kw.value) for kw in node.keywords if kw.arg}
            self.found.uvicorn_runs.append((path, node.lineno, kws))
            self.found.frameworks.add("uvicorn")
        elif name in ("get", "__getitem__") and owner is not None:
            self.query_get(node, owner, path)

    def basic_config(self, node: ast.Call, path: str) -> LogConfig:
        kws = {kw.arg: partial_literal(kw.value) for kw in node.keywords if kw.arg}
        handler: dict[str, Any] = {"class": "logging.StreamHandler", "formatter": "basic"}
        if isinstance(kws.get("filename"), (str, Unresolved)):
            handler = {
                "class": "logging.FileHandler",
                "filename": kws["filename"],
                "formatter": "basic",
            }
        data = {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"basic": {"format": kws.get("format", logging_basic_format())}},
            "handlers": {"basic": handler},
            "root": {"level": kws.get("level", "WARNING"), "handlers": ["basic"]},
        }
        return from_dict(data, path, kind="basicConfig", line=node.lineno)

    def route(self, node: ast.FunctionDef | ast.AsyncFunctionDef, path: str) -> None:
        """FastAPI: scalar parameters of a route that are not in its path are query params."""
        for deco in node.decorator_list:
            if not (isinstance(deco, ast.Call) and call_name(deco) in ROUTE_DECORATORS):
                continue
            template = literal(deco.args[0]) if deco.args else ""
            template = template if isinstance(template, str) else ""
            positional = node.args.args
            defaults = [None] * (len(positional) - len(node.args.defaults)) + node.args.defaults
            args = list(zip(positional, defaults)) + list(
                zip(node.args.kwonlyargs, node.args.kw_defaults)
            )
            for arg, default in args:
                if TOKEN_NAMES.match(arg.arg) and "{" + arg.arg + "}" not in template:
                    ann = ast.unparse(arg.annotation) if arg.annotation is not None else ""
                    if ann and not re.match(r"^(Optional\[)?(str|int|Annotated\[str)", ann):
                        continue  # a body model or a dependency, not a query string
                    if _not_from_query(default, arg.annotation):
                        continue  # Header(), Cookie(), Depends()…: not in the URL
                    self.found.tokens_in_urls.append(
                        TokenInUrl(path, node.lineno, arg.arg, f"query parameter of {node.name}()")
                    )

    def query_get(self, node: ast.Call, owner: ast.AST, path: str) -> None:
        source = _dotted(owner)
        if (
            source.endswith(("query_params", "request.args", "request.GET", "args", "GET"))
            and node.args
        ):
            key = literal(node.args[0])
            if isinstance(key, str) and TOKEN_NAMES.match(key):
                self.found.tokens_in_urls.append(
                    TokenInUrl(path, node.lineno, key, f"{source}.get()")
                )

    def query_subscript(self, node: ast.Subscript, path: str) -> None:
        source = _dotted(node.value)
        if source.endswith(("query_params", "request.args", "request.GET")):
            key = literal(node.slice)
            if isinstance(key, str) and TOKEN_NAMES.match(key):
                self.found.tokens_in_urls.append(
                    TokenInUrl(path, node.lineno, key, f"{source}[...]")
                )


# FastAPI parameter sources that are not the query string.
NOT_QUERY = {"Header", "Cookie", "Body", "Form", "File", "Path", "Depends", "Security"}


def _not_from_query(default: ast.AST | None, annotation: ast.AST | None) -> bool:
    markers = [default]
    if isinstance(annotation, ast.Subscript) and call_name(annotation.value) == "Annotated":
        elements = annotation.slice.elts if isinstance(annotation.slice, ast.Tuple) else []
        markers += elements[1:]
    return any(isinstance(m, ast.Call) and call_name(m) in NOT_QUERY for m in markers)


def _dotted(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def logging_basic_format() -> str:
    import logging

    return logging.BASIC_FORMAT
