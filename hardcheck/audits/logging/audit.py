"""The logging audit: will this service have logged what went wrong in production —
without logging secrets, and without exposing the logs?

Configs are found and modelled statically (`_logdiscover`, `_logmodel`); a target's
logging config is never passed to `logging.config` in hardcheck's process (fileConfig
evaluates expressions, dictConfig imports callables).
"""

from __future__ import annotations

import fnmatch
import os
import re
import stat
from collections.abc import Iterator
from typing import Any, ClassVar

from ...model import Finding, Location, Severity
from ...readers.pyast import Unresolved
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest
from .discover import Discoverer, Discovery, python_ignored, reads
from .logmodel import (
    ROTATING,
    FormatterSpec,
    LogConfig,
    class_basename,
    from_dict,
    is_json_formatter,
)

DEBUG = 10
CRITICAL = 50
WORLD_WRITABLE_DIRS = ("/tmp/", "/var/tmp/", "/dev/shm/")
SECURITY_LOGGERS = {
    "django": ("django", "django.security", "django.request"),
    "uvicorn": ("uvicorn", "uvicorn.error"),
    "gunicorn": ("gunicorn", "gunicorn.error"),
}
REQUEST_IN_FORMAT = re.compile(
    r"%\((request|headers|cookies|environ|scope|META)\)|\{(request|headers|cookies|scope)[!:}]"
)
GUNICORN_SECRET_HEADER = re.compile(
    r"%\(\{(authorization|proxy-authorization|cookie|x-api-key|x-auth-token|x-csrftoken)\}i\)s"
    r"|%\(\{set-cookie\}o\)s",
    re.IGNORECASE,
)
NGINX_SECRET_VAR = re.compile(
    r"\$(http_authorization|http_proxy_authorization|http_cookie|http_x_api_key|http_x_auth_token"
    r"|sent_http_set_cookie|cookie_\w+|request_body)\b"
)
NGINX_QUERY_VAR = re.compile(r"\$(request|request_uri|args|query_string|arg_\w+)\b")
GUNICORN_DEFAULT_ACCESS_FORMAT = '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


CONFIG_RULES = tuple(f"LOG{n:03d}" for n in (1, 2, 3, 4, 5, 7, 10, 11))  # configs and servers
LOG_FILES, TOKENS_IN_URLS, LISTEN = "LOG006", "LOG008", "LOG009"
LOG_FILE_NAME = re.compile(r"\.log(\.\d+)?$")


def is_log_file(rel: str) -> bool:
    return LOG_FILE_NAME.search(rel) is not None


def _loc(path: str, line: int | None = None, setting: str | None = None) -> Location:
    return Location(path=path, line=line, setting=setting)


class LoggingAudit(Audit):
    name = "logging"
    config_schema: ClassVar[dict[str, Any]] = {
        "security-loggers": {
            "type": "array",
            "items": {"type": "string"},
            "description": "loggers that must survive disable_existing_loggers",
        },
    }

    cpu_bound = True

    def memo_reads(self, ctx: AuditContext):
        return reads

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        return not python_ignored(rel, data)

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return {
            **dict.fromkeys((*CONFIG_RULES, TOKENS_IN_URLS, LISTEN), reads),
            LOG_FILES: is_log_file,
        }

    def run(self, ctx: AuditContext) -> AuditOutput:
        found = Discoverer(ctx).run()
        cov = Coverage()
        findings = list(found.problems)
        self.resolve_references(ctx, found, findings)
        for name, why in sorted(found.parse_failures.items()):
            if "log" in name.lower():
                cov.could_not_read(CONFIG_RULES, name, why)
                findings.append(
                    ctx.unreadable(name, f"looks like a logging config but cannot be parsed: {why}")
                )
        for path, why in found.unread.items():
            cov.could_not_read((*CONFIG_RULES, TOKENS_IN_URLS, LISTEN), path, why)
        for path, (why, kinds) in found.unparsed.items():
            needed = {"config": CONFIG_RULES, "listen": (LISTEN,), "url-token": (TOKENS_IN_URLS,)}
            cov.could_not_read([r for kind in kinds for r in needed[kind]], path, why)
        for cfg in found.configs:
            findings.extend(self.check_config(ctx, cfg, found))
        findings.extend(self.check_servers(ctx, found))
        findings.extend(self.check_nginx(ctx, found))
        findings.extend(self.check_log_files(ctx))
        for path, line in found.listeners:
            findings.append(
                ctx.fail(
                    LISTEN,
                    "logging.config.listen() without verify=: anyone who can reach the port "
                    "can send a config, and fileConfig input is evaluated (code execution)",
                    _loc(path, line, "logging.config.listen"),
                    key="listen",
                )
            )
        findings.extend(self.check_tokens_in_urls(ctx, found))
        self.record_coverage(ctx, found, cov)
        return AuditOutput(findings, cov)

    @staticmethod
    def record_coverage(ctx: AuditContext, found: Discovery, cov: Coverage) -> None:
        if found.anything:
            cov.saw(CONFIG_RULES, "logging config", len(found.configs))
            cov.saw(CONFIG_RULES, "server command", len(found.commands) + len(found.uvicorn_runs))
            cov.saw(CONFIG_RULES, "gunicorn config", len(found.gunicorn))
            cov.saw(CONFIG_RULES, "nginx config", len(found.nginx_configs))
        else:
            cov.skip(
                CONFIG_RULES,
                "not applicable: no logging configuration, server command or nginx config found",
            )
        cov.saw(LOG_FILES, "log file", ctx.stats["log_files"])
        if not ctx.stats["log_files"]:
            cov.skip(LOG_FILES, "nothing to check: no log files (*.log) in the tree")
        python_files = ctx.stats["python_files_read"]
        cov.saw(LISTEN, "Python file", python_files)
        if not python_files:
            cov.skip(LISTEN, "nothing to check: no non-empty Python files in the tree")
        if found.frameworks or found.commands or found.nginx_configs:
            cov.saw(TOKENS_IN_URLS, "Python file", python_files)
            cov.saw(TOKENS_IN_URLS, "server command", len(found.commands))
            cov.saw(TOKENS_IN_URLS, "nginx config", len(found.nginx_configs))
        else:
            cov.skip(
                TOKENS_IN_URLS,
                "not applicable: no web framework, server command or nginx config found",
            )

    # --- references from servers to config files -------------------------------------
    def resolve_references(self, ctx: AuditContext, found: Discovery, out: list[Finding]) -> None:
        """`--log-config x.ini` / gunicorn `logconfig`: uvicorn loads INI files with
        disable_existing_loggers=False, and a missing file crashes the server at start."""
        refs: list[tuple[str, str, int, str]] = []  # (server, path, line, referenced file)
        for cmd in found.commands:
            value = cmd.option("--log-config")
            if value:
                refs.append((cmd.server, cmd.path, cmd.line, value))
        for path, line, kws in found.uvicorn_runs:
            if isinstance(kws.get("log_config"), str):
                refs.append(("uvicorn", path, line, kws["log_config"]))
        for g in found.gunicorn:
            if isinstance(g.values.get("logconfig"), str):
                refs.append(("gunicorn", g.path, g.line, g.values["logconfig"]))
        known = {e.display: e for e in ctx.inventory.files(content_only=False)}
        for server, path, line, ref in refs:
            candidates = [
                os.path.normpath(ref.lstrip("./") if not ref.startswith("/") else ref.lstrip("/"))
            ]
            candidates.append(os.path.normpath(os.path.join(os.path.dirname(path), ref)))
            match = next((c for c in candidates if c in known), None)
            if match is None:
                out.append(
                    ctx.skipped(
                        "LOG011",
                        f"{server} is started with the log config {ref!r}, which is not in the tree; "
                        "it could not be checked",
                        _loc(path, line, "--log-config"),
                        key=f"missing:{ref}",
                    )
                )
                continue
            if server == "uvicorn" and match.endswith((".ini", ".cfg", ".conf")):
                for cfg in found.configs:
                    if cfg.source == match and cfg.kind == "fileConfig":
                        cfg.disable_existing = False

    # --- one logging config -----------------------------------------------------------
    def check_config(
        self, ctx: AuditContext, cfg: LogConfig, found: Discovery
    ) -> Iterator[Finding]:
        where = cfg.source
        for key, why in cfg.errors:
            yield ctx.fail(
                "LOG011",
                f"{cfg.kind} would crash the service at start-up: {key}: {why}",
                _loc(where, cfg.line, key),
                evidence=f"{key}: {why}",
                key=key,
            )
        if cfg.errors:
            return  # the config never loads: its other settings never take effect
        for key, why in cfg.unresolved:
            yield ctx.skipped(
                "LOG011",
                f"{key} is {why}: not checked statically",
                _loc(where, cfg.line, key),
                key=f"unresolved:{key}",
            )
        dev = ctx.environment == "development"
        for name, lg in sorted(cfg.loggers.items()):
            label = name or "root"
            if lg.level is not None and 0 < lg.level <= DEBUG:
                yield ctx.fail(
                    "LOG001",
                    f"logger {label!r} is at DEBUG in {cfg.kind}"
                    + (" (downgraded: --environment development)" if dev else ""),
                    _loc(where, cfg.line, f"{'root' if not name else 'loggers.' + name}.level"),
                    severity=Severity.INFO if dev else None,
                    key=f"level:{label}",
                )
            if lg.level is not None and lg.level > CRITICAL:
                yield ctx.fail(
                    "LOG002",
                    f"logger {label!r} has level {lg.level}, above CRITICAL: it logs nothing",
                    _loc(where, cfg.line, f"{label}.level"),
                    key=f"silent:{label}",
                )
            real = [
                h
                for h in lg.handlers
                if class_basename(cfg.handlers.get(h, _NULL).cls) != "NullHandler"
            ]
            if lg.handlers and not real and (not lg.propagate or not name):
                yield ctx.fail(
                    "LOG002",
                    f"logger {label!r} has only NullHandler and does not propagate: its records are dropped",
                    _loc(where, cfg.line, f"{label}.handlers"),
                    key=f"null:{label}",
                )
        complete = not (cfg.incremental or cfg.errors or cfg.unresolved)
        no_handlers = not any(lg.handlers for lg in cfg.loggers.values())
        if complete and no_handlers and cfg.kind in ("dictConfig", "fileConfig"):
            yield ctx.fail(
                "LOG002",
                "no logger has a handler: Python falls back to logging.lastResort "
                "(WARNING and above, unformatted, on stderr)",
                _loc(where, cfg.line, "handlers"),
                key="no-handlers",
            )
        if cfg.disable_existing and not cfg.incremental and cfg.kind != "basicConfig":
            yield from self.check_disable_existing(ctx, cfg, found)
        yield from self.check_handlers(ctx, cfg, found)
        yield from self.check_formats(ctx, cfg)

    def check_disable_existing(
        self, ctx: AuditContext, cfg: LogConfig, found: Discovery
    ) -> Iterator[Finding]:
        families = (
            ["django"] if cfg.kind == "django" else self.stack(found) or list(SECURITY_LOGGERS)
        )
        wanted = {n for f in families for n in SECURITY_LOGGERS[f]}
        wanted |= set(ctx.options.get("security-loggers", ()))
        if wanted & set(cfg.loggers):
            return
        yield ctx.fail(
            "LOG003",
            "disable_existing_loggers is True (explicitly or by default) and no logger is "
            f"configured for {', '.join(sorted(wanted))}: loggers that already exist go silent",
            _loc(cfg.source, cfg.line, "disable_existing_loggers"),
            key="disable-existing",
        )

    @staticmethod
    def stack(found: Discovery) -> list[str]:
        """Which of django/uvicorn/gunicorn this service runs on, as far as the tree says."""
        servers = {c.server for c in found.commands}
        stack = []
        if "django" in found.frameworks:
            stack.append("django")
        if {"fastapi", "starlette", "uvicorn"} & found.frameworks or "uvicorn" in servers:
            stack.append("uvicorn")
        if found.gunicorn or "gunicorn" in servers:
            stack.append("gunicorn")
        return stack

    def check_handlers(
        self, ctx: AuditContext, cfg: LogConfig, found: Discovery
    ) -> Iterator[Finding]:
        for name, h in sorted(cfg.handlers.items()):
            cls = class_basename(h.cls)
            filename = h.filename
            if isinstance(filename, str) and filename.startswith(WORLD_WRITABLE_DIRS):
                yield ctx.fail(
                    "LOG005",
                    f"handler {name!r} writes to {filename}, in a world-writable directory: "
                    "other users can read, replace or pre-create the file",
                    _loc(cfg.source, cfg.line, f"handlers.{name}.filename"),
                    evidence=filename,
                    key=f"path:{name}",
                )
            if cls == "FileHandler" and not self.rotated(filename, found):
                shown = filename if isinstance(filename, str) else str(filename or "?")
                yield ctx.fail(
                    "LOG004",
                    f"handler {name!r} is a plain FileHandler ({shown}) with no rotation and "
                    "no logrotate config for it: the file grows until the disk is full",
                    _loc(cfg.source, cfg.line, f"handlers.{name}.class"),
                    key=f"rotate:{name}",
                )
            elif cls in ROTATING:
                ctx.stats["rotating_handlers"] += 1

    @staticmethod
    def rotated(filename: Any, found: Discovery) -> bool:
        if not isinstance(filename, str):
            return False
        return any(fnmatch.fnmatch(filename, pattern) for pattern in found.logrotate_paths)

    def check_formats(self, ctx: AuditContext, cfg: LogConfig) -> Iterator[Finding]:
        used = {h for lg in cfg.loggers.values() for h in lg.handlers}
        bare: list[str] = []
        for hname in sorted(used):
            h = cfg.handlers.get(hname)
            if h is None or h.factory or class_basename(h.cls) == "NullHandler":
                continue
            fmt_spec = cfg.formatters.get(h.formatter) if h.formatter else None
            if fmt_spec is not None:
                text = fmt_spec.fmt if isinstance(fmt_spec.fmt, str) else ""
                match = REQUEST_IN_FORMAT.search(text)
                if match:
                    yield ctx.fail(
                        "LOG007",
                        f"formatter {fmt_spec.name!r} prints the whole {match.group(1) or match.group(2)} "
                        "object: headers, cookies and query strings end up in the log",
                        _loc(cfg.source, cfg.line, f"formatters.{fmt_spec.name}.format"),
                        evidence=_placeholders(text),
                        key=f"request:{fmt_spec.name}",
                    )
            if not _structured(fmt_spec):
                bare.append(hname)
        if bare:
            yield ctx.fail(
                "LOG010",
                f"handler(s) {', '.join(bare)} log without a timestamp or level "
                "(no %(asctime)s / %(levelname)s, and no JSON formatter)",
                _loc(cfg.source, cfg.line, "formatters"),
                key="format",
            )

    # --- servers: uvicorn and gunicorn ------------------------------------------------
    def check_servers(self, ctx: AuditContext, found: Discovery) -> Iterator[Finding]:
        dev = ctx.environment == "development"
        for cmd in found.commands:
            level = cmd.option("--log-level")
            if level and level.lower() in ("debug", "trace"):
                yield self.debug_server(
                    ctx, cmd.server, level, _loc(cmd.path, cmd.line, "--log-level"), dev
                )
            if (
                cmd.server == "uvicorn"
                and cmd.flag("--no-access-log")
                and ctx.environment == "production"
            ):
                yield ctx.fail(
                    "LOG002",
                    "uvicorn runs with --no-access-log in production: requests leave no trace",
                    _loc(cmd.path, cmd.line, "--no-access-log"),
                    key="no-access-log",
                )
            if cmd.server == "gunicorn":
                fmt = cmd.option("--access-logformat")
                if fmt:
                    yield from self.gunicorn_format(
                        ctx, fmt, _loc(cmd.path, cmd.line, "--access-logformat")
                    )
        for path, line, kws in found.uvicorn_runs:
            level = kws.get("log_level")
            if isinstance(level, str) and level.lower() in ("debug", "trace"):
                yield self.debug_server(ctx, "uvicorn", level, _loc(path, line, "log_level"), dev)
            if kws.get("access_log") is False and ctx.environment == "production":
                yield ctx.fail(
                    "LOG002",
                    "uvicorn.run(access_log=False) in production: requests leave no trace",
                    _loc(path, line, "access_log"),
                    key="no-access-log",
                )
        yield from self.gunicorn_access_log(ctx, found)
        for g in found.gunicorn:
            level = g.values.get("loglevel")
            if isinstance(level, str) and level.lower() in ("debug", "trace"):
                yield self.debug_server(ctx, "gunicorn", level, _loc(g.path, None, "loglevel"), dev)
            fmt = g.values.get("access_log_format")
            if isinstance(fmt, str):
                yield from self.gunicorn_format(ctx, fmt, _loc(g.path, None, "access_log_format"))
            for key in ("accesslog", "errorlog"):
                value = g.values.get(key)
                if isinstance(value, str) and value.startswith(WORLD_WRITABLE_DIRS):
                    yield ctx.fail(
                        "LOG005",
                        f"gunicorn {key} is {value}, in a world-writable directory",
                        _loc(g.path, None, key),
                        evidence=value,
                        key=f"path:{key}",
                    )
            if isinstance(g.values.get("logconfig_dict"), dict):
                cfg = from_dict(g.values["logconfig_dict"], g.path)
                yield from self.check_config(ctx, cfg, found)

    def gunicorn_access_log(self, ctx: AuditContext, found: Discovery) -> Iterator[Finding]:
        """gunicorn writes no access log unless told to; behind nginx, nginx's may serve."""
        cmds = [c for c in found.commands if c.server == "gunicorn"]
        if not (cmds or found.gunicorn) or found.nginx_configs or ctx.environment != "production":
            return
        if any(c.option("--access-logfile") for c in cmds) or any(
            g.values.get("accesslog") for g in found.gunicorn
        ):
            return
        where = found.gunicorn[0].path if found.gunicorn else cmds[0].path
        yield ctx.fail(
            "LOG002",
            "gunicorn writes no access log (accesslog / --access-logfile unset, its default) "
            "and no nginx config was found: requests leave no trace",
            _loc(where, None, "accesslog"),
            key="gunicorn-no-access-log",
        )

    def debug_server(
        self, ctx: AuditContext, server: str, level: str, loc: Location, dev: bool
    ) -> Finding:
        return ctx.fail(
            "LOG001",
            f"{server} runs with log level {level}"
            + (" (downgraded: --environment development)" if dev else "")
            + ": request details and internals are logged",
            loc,
            severity=Severity.INFO if dev else None,
            key=f"{server}-level",
        )

    def gunicorn_format(self, ctx: AuditContext, fmt: str, loc: Location) -> Iterator[Finding]:
        for match in GUNICORN_SECRET_HEADER.finditer(fmt):
            yield ctx.fail(
                "LOG007",
                f"gunicorn access log format records {match.group(0)}: credentials are written to the log",
                loc,
                evidence=match.group(0),
                key=match.group(0).lower(),
            )

    def check_nginx(self, ctx: AuditContext, found: Discovery) -> Iterator[Finding]:
        for log in found.nginx:
            if log.directive != "log_format":
                continue
            for match in sorted(set(NGINX_SECRET_VAR.findall(log.text))):
                yield ctx.fail(
                    "LOG007",
                    f"nginx log_format records ${match}: credentials are written to the access log",
                    _loc(log.path, log.line, "log_format"),
                    evidence=f"${match}",
                    key=match,
                )

    def check_log_files(self, ctx: AuditContext) -> Iterator[Finding]:
        for entry in ctx.inventory.files(content_only=False):
            if not is_log_file(entry.rel):
                continue
            ctx.stats["log_files"] += 1
            if entry.mode & (stat.S_IRGRP | stat.S_IROTH):
                who = "world" if entry.mode & stat.S_IROTH else "group"
                yield ctx.fail(
                    "LOG006",
                    f"log file is {who}-readable (mode {stat.S_IMODE(entry.mode):04o}); logs hold "
                    "user data, tokens in URLs and stack traces",
                    Location(path=entry.display),
                    evidence=f"mode {stat.S_IMODE(entry.mode):04o}",
                    key=who,
                )

    def check_tokens_in_urls(self, ctx: AuditContext, found: Discovery) -> Iterator[Finding]:
        if not found.tokens_in_urls:
            return
        loggers = self.query_string_loggers(found)
        if not loggers:
            return
        names = " and ".join(name for name, _ in loggers)
        fixes = "; ".join(f"{name}: {fix}" for name, fix in loggers)
        for t in found.tokens_in_urls:
            yield ctx.fail(
                "LOG008",
                f"'{t.name}' is read from the query string ({t.how}); the access logs of {names} "
                f"record full query strings (fix: {fixes})",
                _loc(t.path, t.line, t.name),
                key=t.name,
            )

    @staticmethod
    def query_string_loggers(found: Discovery) -> list[tuple[str, str]]:
        servers = []
        uvicorn_cmds = [c for c in found.commands if c.server == "uvicorn"]
        uvicorn_used = (
            uvicorn_cmds or found.uvicorn_runs or {"fastapi", "starlette"} & found.frameworks
        )
        uvicorn_silent = (
            uvicorn_cmds and all(c.flag("--no-access-log") for c in uvicorn_cmds)
        ) or any(kws.get("access_log") is False for _, _, kws in found.uvicorn_runs)
        if uvicorn_used and not uvicorn_silent:
            servers.append(
                ("uvicorn", "--no-access-log, or a filter on 'uvicorn.access' that drops the query")
            )
        gunicorn_on = any(
            c.server == "gunicorn" and c.option("--access-logfile") for c in found.commands
        ) or any(g.values.get("accesslog") for g in found.gunicorn)
        if gunicorn_on:
            fmts = [
                c.option("--access-logformat") for c in found.commands if c.server == "gunicorn"
            ]
            fmts += [g.values.get("access_log_format") for g in found.gunicorn]
            fmt = next((f for f in fmts if isinstance(f, str)), GUNICORN_DEFAULT_ACCESS_FORMAT)
            if "%(r)s" in fmt or "%(q)s" in fmt:
                servers.append(("gunicorn", "access_log_format with %(U)s instead of %(r)s"))
        formats = [n for n in found.nginx if n.directive == "log_format"]
        access = [n for n in found.nginx if n.directive == "access_log"]
        nginx_used = bool(found.nginx_configs) and (
            not access or any(n.text != "off" for n in access)
        )
        if nginx_used and (not formats or any(NGINX_QUERY_VAR.search(n.text) for n in formats)):
            servers.append(("nginx", "a log_format with $uri instead of $request"))
        return servers


class _Null:
    cls = ""


_NULL = _Null()


def _structured(f: FormatterSpec | None) -> bool:
    if f is None:
        return False  # a handler without a formatter logs "%(message)s" only
    if is_json_formatter(f) or isinstance(f.fmt, Unresolved):
        return True  # structured, or computed at run time: nothing to judge
    if f.fmt is None and f.factory:
        return True  # the factory decides the format
    text = f.fmt if isinstance(f.fmt, str) else "%(message)s"
    has_time = any(k in text for k in ("asctime", "created"))
    has_level = any(k in text for k in ("levelname", "levelprefix", "levelno"))
    return has_time and has_level


PLACEHOLDER = re.compile(r"%\((\w+)\)|\{(\w+)(?:[.!:][^}]*)?\}|\$\{?(\w+)")


def _placeholders(fmt: str) -> str:
    """What a format string records, by field name only: its literal text can hold the
    very credentials it is reported for (`token=abc123 %(message)s`)."""
    names = [a or b or c for a, b, c in PLACEHOLDER.findall(fmt)]
    return "fields: " + ", ".join(dict.fromkeys(names)) if names else "fields: none"
