"""Which Django settings production loads, and what they are once the chain is merged.

The settings module comes, in this order, from the service model's production start
commands (`DJANGO_SETTINGS_MODULE` in a Dockerfile, compose, Kubernetes or systemd
environment, or `--settings`), then from `os.environ.setdefault("DJANGO_SETTINGS_MODULE",
…)` in wsgi.py/asgi.py, then in manage.py. The module is read through the AST (never
imported); `from .base import *` (relative or absolute) merges the other module in, in
order, so a later assignment overrides an earlier one, as Python does. Each effective
setting keeps the file and line that set it, so a finding on an inherited value points at
base.py and says which module inherits it.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Callable
from dataclasses import dataclass, field

from ..inventory import path_spec
from ..readers.appfiles import DEFAULT_DEVELOPMENT_PATHS
from ..readers.pyast import SourceError, call_name, literal, parse_source
from .start import StartCommand

SETTINGS_ENV = "DJANGO_SETTINGS_MODULE"
DEFAULT_FILES = ("wsgi.py", "asgi.py", "manage.py")  # in order of precedence
MAX_CHAIN = 20
DEV_PATHS = path_spec(DEFAULT_DEVELOPMENT_PATHS)  # tests/…: not where production starts


@dataclass(frozen=True)
class Setting:
    name: str
    value: ast.AST
    file: str  # display path of the module that set it
    line: int
    module: str  # dotted name of that module


@dataclass
class DjangoSettings:
    module: str  # dotted name production loads
    file: str  # its display path
    source: str  # where the choice was read
    # chosen where production starts (a start command, wsgi.py/asgi.py), not only by
    # manage.py's default, which is usually the developer's: audits rely on it only then
    confident: bool = True
    chain: list[str] = field(default_factory=list)  # files merged, in order
    settings: dict[str, Setting] = field(default_factory=dict)
    problems: list[tuple[str, int | None, str]] = field(default_factory=list)


def _from_start(starts: list[StartCommand], development) -> tuple[str, str] | None:
    for c in starts:
        if development(c):
            continue
        env = c.environment()
        if env.get(SETTINGS_ENV):
            return env[SETTINGS_ENV], f"{c.source}:{c.line or ''} ({c.kind} {c.name})"
        for i, arg in enumerate(c.argv):
            if arg.startswith("--settings="):
                return arg.split("=", 1)[1], f"{c.source}:{c.line or ''} (--settings)"
            if arg == "--settings" and i + 1 < len(c.argv):
                return c.argv[i + 1], f"{c.source}:{c.line or ''} (--settings)"
            if arg.startswith(f"{SETTINGS_ENV}="):  # gunicorn --env NAME=value
                return arg.split("=", 1)[1], f"{c.source}:{c.line or ''} (--env)"
    return None


def setdefault_in(tree: ast.Module) -> str | None:
    """`os.environ.setdefault("DJANGO_SETTINGS_MODULE", "proj.settings")` -> "proj.settings"."""
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and call_name(node) == "setdefault"
            and len(node.args) == 2
            and literal(node.args[0]) == SETTINGS_ENV
            and isinstance(literal(node.args[1]), str)
        ):
            return str(literal(node.args[1]))
    return None


class Resolver:
    """Dotted module names -> files of the tree, and their merged settings."""

    def __init__(
        self, python_files: set[str], read: Callable[[str], bytes | None], roots: list[str]
    ):
        self.python_files = python_files  # relative paths of the tree's Python files
        self.read = read  # a file's bytes, or None when it could not be read
        self.roots = roots  # directories a module name is relative to ("" is the tree root)

    def file_of(self, module: str) -> str | None:
        relative = module.replace(".", "/")
        for root in self.roots:
            for candidate in (f"{relative}.py", f"{relative}/__init__.py"):
                path = f"{root}/{candidate}" if root else candidate
                if path in self.python_files:
                    return path
        return None

    def load(self, module: str, source: str, confident: bool) -> DjangoSettings | None:
        path = self.file_of(module)
        if path is None:
            return None
        out = DjangoSettings(module, path, source, confident=confident)
        self._merge(module, path, out, ())
        return out

    def _merge(self, module: str, path: str, out: DjangoSettings, chain: tuple[str, ...]) -> None:
        if module in chain:
            out.problems.append(
                (path, None, f"settings import cycle: {' -> '.join((*chain, module))}")
            )
            return
        if len(chain) >= MAX_CHAIN:
            out.problems.append((path, None, f"settings chain deeper than {MAX_CHAIN} modules"))
            return
        data = self.read(path)
        if data is None:
            out.problems.append((path, None, "could not be read"))
            return
        try:
            tree = parse_source(data, path)
        except SourceError as exc:
            out.problems.append((path, None, str(exc)))
            return
        out.chain.append(path)
        self._body(tree.body, module, path, out, (*chain, module))

    def _body(self, body, module: str, path: str, out: DjangoSettings, chain) -> None:
        package = module if path.endswith("__init__.py") else module.rpartition(".")[0]
        for stmt in body:
            if isinstance(stmt, ast.ImportFrom) and any(a.name == "*" for a in stmt.names):
                target = _absolute(stmt, package)
                target_path = self.file_of(target) if target else None
                if target is None or target_path is None:
                    out.problems.append(
                        (path, stmt.lineno, f"from {'.' * stmt.level}{stmt.module or ''} import *: "
                         "module not found in the tree; its settings are unknown")
                    )  # fmt: skip
                    continue
                self._merge(target, target_path, out, chain)
            elif isinstance(stmt, ast.Assign):
                for target_node in stmt.targets:
                    if isinstance(target_node, ast.Name):
                        out.settings[target_node.id] = Setting(
                            target_node.id, stmt.value, path, stmt.lineno, module
                        )
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                if stmt.value is not None:
                    out.settings[stmt.target.id] = Setting(
                        stmt.target.id, stmt.value, path, stmt.lineno, module
                    )
            elif isinstance(stmt, (ast.If, ast.Try)):
                self._body(stmt.body, module, path, out, chain)
                self._body(stmt.orelse, module, path, out, chain)


def _absolute(stmt: ast.ImportFrom, package: str) -> str | None:
    if stmt.level == 0:
        return stmt.module
    parts = package.split(".") if package else []
    if stmt.level - 1 > len(parts):
        return None
    base = parts[: len(parts) - (stmt.level - 1)]
    return ".".join([*base, *([stmt.module] if stmt.module else [])]) or None


def production_settings(
    python_files: set[str],
    read: Callable[[str], bytes | None],
    starts: list[StartCommand],
    development: Callable[[StartCommand], bool],
    configured: str | None = None,
) -> DjangoSettings | None:
    """The settings production loads, merged; None when the tree names no settings module
    (or names one the tree does not hold)."""
    manage_dirs = sorted(
        {os.path.dirname(p) for p in python_files if os.path.basename(p) == "manage.py"}
    )
    resolver = Resolver(python_files, read, ["", *manage_dirs])
    if configured:
        found = resolver.load(configured, "hardcheck config ([services] settings)", True)
        if found is not None:
            return found
        missing = DjangoSettings(configured, "", "hardcheck config ([services] settings)")
        missing.problems.append(
            ("[services] settings", None, f"{configured}: no such module in the tree")
        )
        return missing
    chosen = _from_start(starts, development)
    confident = chosen is not None
    if chosen is None:
        for name in DEFAULT_FILES:
            entry_points = sorted(
                p
                for p in python_files
                if os.path.basename(p) == name and not DEV_PATHS.match_file(p)
            )
            for path in entry_points:
                data = read(path)
                try:
                    module = setdefault_in(parse_source(data, path)) if data else None
                except SourceError:
                    continue
                if module:
                    chosen = (module, f"{path} (os.environ.setdefault)")
                    confident = name != "manage.py"
                    break
            if chosen:
                break
    if chosen is None:
        return None
    return resolver.load(*chosen, confident)
