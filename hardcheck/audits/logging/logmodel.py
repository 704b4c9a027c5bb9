"""A logging configuration as Python would load it, built without loading it.

`from_dict` follows `logging.config.dictConfig`, `from_ini` follows
`logging.config.fileConfig` (levels by name or number, `disable_existing_loggers`
defaulting to True, `propagate`, `incremental`, class resolution). Nothing is imported
from the target and no handler is created: what dictConfig/fileConfig would reject is
recorded in `errors` (the service would crash at start-up), what cannot be known
statically (`()` factories, non-literal values) in `unresolved`.
"""

from __future__ import annotations

import ast
import configparser
import importlib
import logging
import logging.handlers
import re
import reprlib
from dataclasses import dataclass, field
from typing import Any

from ...readers.pyast import Unresolved

LEVELS = dict(logging._nameToLevel)
ROTATING = {"RotatingFileHandler", "TimedRotatingFileHandler", "WatchedFileHandler"}
JSON_FORMATTER_HINTS = ("json", "logstash", "ecs", "structlog", "gelf")


# A value from the audited config is shown bounded: a YAML document can be a 200,000-value
# structure (or a cycle), and its full repr would be megabytes in every format
_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlevel = 3


def shown(value: object) -> str:
    return _REPR.repr(value)


@dataclass
class HandlerSpec:
    name: str
    cls: str = ""  # dotted class name as written, "" for a `()` factory
    factory: str = ""
    level: int | None = None
    formatter: str = ""
    filename: Any = None


@dataclass
class FormatterSpec:
    name: str
    fmt: Any = None  # None: logging's default "%(message)s"
    cls: str = ""
    factory: str = ""
    style: str = "%"


@dataclass
class LoggerSpec:
    name: str  # "" is root
    level: int | None = None
    handlers: list[str] = field(default_factory=list)
    propagate: bool = True


@dataclass
class LogConfig:
    source: str  # display path
    kind: str  # dictConfig | fileConfig | basicConfig | django
    line: int | None = None
    loggers: dict[str, LoggerSpec] = field(default_factory=dict)  # includes "" for root
    handlers: dict[str, HandlerSpec] = field(default_factory=dict)
    formatters: dict[str, FormatterSpec] = field(default_factory=dict)
    disable_existing: bool = True
    incremental: bool = False
    errors: list[tuple[str, str]] = field(default_factory=list)  # (key path, why it crashes)
    unresolved: list[tuple[str, str]] = field(default_factory=list)  # (key path, why unknown)

    @property
    def root(self) -> LoggerSpec | None:
        return self.loggers.get("")


def is_dictconfig(data: Any) -> bool:
    return (
        isinstance(data, dict)
        and data.get("version") is not None
        and any(k in data for k in ("handlers", "loggers", "root", "formatters"))
    )


def _level(value: Any, where: str, cfg: LogConfig) -> int | None:
    """dictConfig's `_checkLevel`: an int, or an upper-case level name; else it raises."""
    if value is None:
        return None
    if isinstance(value, Unresolved):
        # `logging.DEBUG` in code is a name, not a literal: resolve the stdlib's levels
        m = re.fullmatch(r"logging\.([A-Z]+)", value.source)
        return LEVELS.get(m.group(1)) if m else None
    if isinstance(value, bool):
        cfg.errors.append((where, f"level {shown(value)} is not a level"))
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if value in LEVELS:
            return LEVELS[value]
        hint = f" (did you mean {shown(value.upper())}?)" if value.upper() in LEVELS else ""
        cfg.errors.append(
            (where, f"unknown level {shown(value)}{hint}: dictConfig raises ValueError")
        )
        return None
    cfg.errors.append((where, f"level {shown(value)} is neither a name nor a number"))
    return None


def stdlib_class_problem(dotted: str, *, ini: bool = False) -> str:
    """Why a handler class written in a config would fail to resolve, if we can tell.
    Only names in the `logging` package are judged; other modules are the service's."""
    if ini and "." not in dotted:
        dotted = f"logging.{dotted}"  # fileConfig evaluates class names in logging's namespace
    elif ini and dotted.startswith("handlers."):
        dotted = f"logging.{dotted}"
    if "." not in dotted:
        return f"class {dotted!r} has no module: dictConfig cannot import it"
    module, _, attr = dotted.rpartition(".")
    if module not in ("logging", "logging.handlers"):
        return ""
    if not hasattr(importlib.import_module(module), attr):
        return f"{module} has no class {attr!r}"
    return ""


def _name(value: Any) -> str:
    return value if isinstance(value, str) else str(value)


def from_dict(
    data: dict, source: str, kind: str = "dictConfig", line: int | None = None
) -> LogConfig:
    cfg = LogConfig(source=source, kind=kind, line=line)
    version = data.get("version")
    if version != 1:
        cfg.errors.append(
            ("version", f"version must be 1, got {shown(version)}: dictConfig raises")
        )
    cfg.incremental = data.get("incremental") is True
    del_existing = data.get("disable_existing_loggers", True)
    cfg.disable_existing = del_existing is not False and not isinstance(del_existing, Unresolved)

    for name, spec in _table(data, "formatters", cfg).items():
        if not isinstance(spec, dict):
            cfg.errors.append((f"formatters.{name}", "must be a mapping"))
            continue
        f = FormatterSpec(name=_name(name))
        if "()" in spec:
            f.factory = _name(spec["()"])
            cfg.unresolved.append(
                (f"formatters.{name}", f"built by the factory {shown(f.factory)}")
            )
        f.fmt = spec.get("format", spec.get("fmt"))
        f.cls = _name(spec.get("class", ""))
        f.style = _name(spec.get("style", "%"))
        cfg.formatters[f.name] = f

    filters = set(map(_name, _table(data, "filters", cfg)))
    for name, spec in _table(data, "handlers", cfg).items():
        where = f"handlers.{name}"
        if not isinstance(spec, dict):
            cfg.errors.append((where, "must be a mapping"))
            continue
        h = HandlerSpec(name=_name(name))
        if "()" in spec:
            h.factory = _name(spec["()"])
            cfg.unresolved.append((where, f"built by the factory {shown(h.factory)}"))
        elif "class" not in spec:
            if not cfg.incremental:
                cfg.errors.append((where, "no 'class' (and no '()' factory): dictConfig raises"))
        else:
            h.cls = _name(spec["class"])
            if isinstance(spec["class"], str):
                problem = stdlib_class_problem(h.cls)
                if problem:
                    cfg.errors.append((f"{where}.class", problem))
        h.level = _level(spec.get("level"), f"{where}.level", cfg)
        h.formatter = _name(spec.get("formatter", ""))
        if h.formatter and h.formatter not in cfg.formatters and not cfg.incremental:
            cfg.errors.append((f"{where}.formatter", f"unknown formatter {shown(h.formatter)}"))
        handler_filters = spec.get("filters", []) or []
        if not isinstance(handler_filters, list):
            cfg.errors.append((f"{where}.filters", "must be a list"))
            handler_filters = []
        for flt in handler_filters:
            if isinstance(flt, str) and flt not in filters:
                cfg.errors.append((f"{where}.filters", f"unknown filter {shown(flt)}"))
        h.filename = spec.get("filename")
        cfg.handlers[h.name] = h

    loggers = _table(data, "loggers", cfg)
    if "root" in data:
        loggers = {**loggers, "": data["root"]}
    for name, spec in loggers.items():
        where = "root" if name == "" else f"loggers.{name}"
        if not isinstance(spec, dict):
            cfg.errors.append((where, "must be a mapping"))
            continue
        lg = LoggerSpec(name=_name(name))
        lg.level = _level(spec.get("level"), f"{where}.level", cfg)
        raw_handlers = spec.get("handlers", []) or []
        if not isinstance(raw_handlers, list):
            cfg.errors.append((f"{where}.handlers", "must be a list"))
            raw_handlers = []
        lg.handlers = [_name(h) for h in raw_handlers]
        for hname in lg.handlers:
            if hname not in cfg.handlers and not cfg.incremental:
                cfg.errors.append(
                    (f"{where}.handlers", f"unknown handler {shown(hname)}: dictConfig raises")
                )
        lg.propagate = spec.get("propagate", True) is not False
        cfg.loggers[lg.name] = lg
    return cfg


def _table(data: dict, key: str, cfg: LogConfig) -> dict:
    value = data.get(key, {}) or {}
    if isinstance(value, Unresolved):
        cfg.unresolved.append((key, f"computed at run time ({value})"))
        return {}
    if not isinstance(value, dict):
        cfg.errors.append((key, "must be a mapping"))
        return {}
    return value


def _keys(cp: configparser.RawConfigParser, section: str) -> list[str]:
    if not cp.has_section(section):
        return []
    raw = cp.get(section, "keys", fallback="")
    return [k.strip() for k in raw.split(",") if k.strip()]


def is_fileconfig(cp: configparser.RawConfigParser) -> bool:
    return cp.has_section("loggers") and (
        cp.has_section("handlers") or cp.has_section("logger_root")
    )


def from_ini(
    cp: configparser.RawConfigParser, source: str, disable_existing: bool = True
) -> LogConfig:
    """fileConfig semantics. It reads with interpolation off (so `%(asctime)s` is text)."""
    cfg = LogConfig(source=source, kind="fileConfig", disable_existing=disable_existing)
    for name in _keys(cp, "formatters"):
        section = f"formatter_{name}"
        if not cp.has_section(section):
            cfg.errors.append((f"[{section}]", f"formatter {name!r} is listed but has no section"))
            continue
        cfg.formatters[name] = FormatterSpec(
            name=name,
            fmt=cp.get(section, "format", fallback=None),
            cls=cp.get(section, "class", fallback=""),
            style=cp.get(section, "style", fallback="%"),
        )
    for name in _keys(cp, "handlers"):
        section = f"handler_{name}"
        if not cp.has_section(section):
            cfg.errors.append((f"[{section}]", f"handler {name!r} is listed but has no section"))
            continue
        h = HandlerSpec(name=name, cls=cp.get(section, "class", fallback=""))
        if not h.cls:
            cfg.errors.append((f"[{section}] class", "no class: fileConfig raises"))
        else:
            problem = stdlib_class_problem(h.cls, ini=True)
            if problem:
                cfg.errors.append((f"[{section}] class", problem))
        h.level = _level(cp.get(section, "level", fallback=None), f"[{section}] level", cfg)
        h.formatter = cp.get(section, "formatter", fallback="")
        if h.formatter and h.formatter not in cfg.formatters:
            cfg.errors.append((f"[{section}] formatter", f"unknown formatter {shown(h.formatter)}"))
        args = cp.get(section, "args", fallback="()")
        try:
            parsed = ast.literal_eval(args)  # literal only: fileConfig would eval() it
            if isinstance(parsed, tuple) and parsed:
                h.filename = parsed[0] if isinstance(parsed[0], str) else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            h.filename = Unresolved(args[:200])
        cfg.handlers[name] = h
    keys = _keys(cp, "loggers")
    if "root" not in keys:
        cfg.errors.append(("[loggers] keys", "does not list 'root': fileConfig raises"))
    for name in keys:
        section = f"logger_{name}"
        if not cp.has_section(section):
            cfg.errors.append((f"[{section}]", f"logger {name!r} is listed but has no section"))
            continue
        qual = "" if name == "root" else cp.get(section, "qualname", fallback=None)
        if qual is None:
            cfg.errors.append((f"[{section}] qualname", "missing: fileConfig raises"))
            continue
        lg = LoggerSpec(name=qual)
        lg.level = _level(cp.get(section, "level", fallback=None), f"[{section}] level", cfg)
        lg.handlers = [
            h.strip() for h in cp.get(section, "handlers", fallback="").split(",") if h.strip()
        ]
        for hname in lg.handlers:
            if hname not in cfg.handlers:
                cfg.errors.append((f"[{section}] handlers", f"unknown handler {shown(hname)}"))
        lg.propagate = cp.get(section, "propagate", fallback="1").strip() not in (
            "0",
            "false",
            "False",
        )
        cfg.loggers[qual] = lg
    return cfg


def class_basename(dotted: str) -> str:
    return dotted.rsplit(".", 1)[-1]


def is_json_formatter(f: FormatterSpec) -> bool:
    text = f"{f.cls} {f.factory}".lower()
    return any(hint in text for hint in JSON_FORMATTER_HINTS)
