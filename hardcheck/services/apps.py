"""Which services a tree holds: the applications in it (Django projects, Flask, FastAPI/
Starlette and aiohttp apps), grouped into services by the directory they are deployed from.

An entrypoint is where an application object is made: `manage.py` and `wsgi.py`/`asgi.py`
for Django; `X = Flask(...)`, `FastAPI(...)`, `Starlette(...)`, aiohttp's
`web.Application(...)`, at module level or in an app factory. A service's root is the
nearest directory above its entrypoint that a deployment is built from (it holds
manage.py, pyproject.toml, setup.py/setup.cfg, requirements*.txt, Pipfile, a lock file,
tox.ini, a Dockerfile, a compose file or a Procfile); without one, the entrypoint's top-level directory, so `api/` and `admin/` are
two services and `bad/app.py` and `good/app.py` are too. Test and example directories do
not hold services. `[services.NAME] root = "…"` in the config names a service's root when
this guess is wrong; entrypoints under it belong to that service.
"""

from __future__ import annotations

import ast
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..inventory import path_spec
from ..readers.appfiles import settings_like_path
from ..readers.pyast import SourceError, call_name, parse_source

if TYPE_CHECKING:
    from .routes import Route
    from .start import StartCommand

# tests/**, settings/dev*.py… and example or documentation trees: not what is deployed
NOT_SERVICES = path_spec(
    [
        "tests/**",
        "**/tests/**",
        "test/**",
        "**/test/**",
        "**/test_*.py",
        "**/*_test.py",
        "**/conftest.py",
        "docs/**",
        "**/docs/**",
        "examples/**",
        "**/examples/**",
    ]
)
ROOT_MARKERS = re.compile(
    r"^(manage\.py|pyproject\.toml|setup\.py|setup\.cfg|Pipfile|poetry\.lock|uv\.lock|tox\.ini"
    r"|requirements[\w.-]*\.(txt|in)|Dockerfile|Procfile|(docker-)?compose[\w.-]*\.ya?ml)$"
)
# the bytes a module must hold for its AST to be worth building: most modules hold none
APP_SIGNALS = (b"Flask(", b"FastAPI(", b"Starlette(", b"Application(", b"get_wsgi_application")
APP_CLASSES = {"Flask": "flask", "FastAPI": "fastapi", "Starlette": "starlette"}


@dataclass(frozen=True)
class Entrypoint:
    framework: str  # django | flask | fastapi | starlette | aiohttp
    path: str  # display path of the module
    line: int | None
    name: str  # app variable, factory function or file role ("manage.py", "wsgi")

    def module(self) -> str:
        """The dotted module a server names: `app/main.py` -> `app.main`."""
        return self.path[: -len(".py")].replace("/", ".")


@dataclass
class Service:
    name: str
    root: str  # directory relative to the tree; "." for the tree itself
    entrypoints: list[Entrypoint] = field(default_factory=list)
    configured: bool = False  # its root was named in the config, not guessed
    starts: list[StartCommand] = field(default_factory=list)
    routes: list[Route] = field(default_factory=list)  # proxy locations in front of it
    proxy: str | None = None  # the nginx main config the config names as its proxy

    @property
    def frameworks(self) -> list[str]:
        return sorted({e.framework for e in self.entrypoints})

    def holds(self, rel: str) -> bool:
        return self.root == "." or rel == self.root or rel.startswith(f"{self.root}/")


def innermost(services: Iterable[Service], path: str) -> Service | None:
    """The service with the deepest root (not the tree itself) that holds `path`."""
    holders = [s for s in services if s.root != "." and s.holds(path)]
    return max(holders, key=lambda s: len(s.root)) if holders else None


def entrypoints_in(path: str, data: bytes) -> list[Entrypoint]:
    """The application objects one module makes (nothing is imported or run)."""
    base = os.path.basename(path)
    found: list[Entrypoint] = []
    if base == "manage.py" and b"DJANGO_SETTINGS_MODULE" in data:
        found.append(Entrypoint("django", path, None, "manage.py"))
    if not any(signal in data for signal in APP_SIGNALS):
        return found
    try:
        tree = parse_source(data, path)
    except SourceError:
        return found  # the audits that read this module report that it does not parse
    aiohttp = any(
        (isinstance(n, ast.ImportFrom) and (n.module or "").split(".")[0] == "aiohttp")
        or (isinstance(n, ast.Import) and any(a.name.split(".")[0] == "aiohttp" for a in n.names))
        for n in ast.walk(tree)
    )
    for scope, owner in _scopes(tree):
        for node in scope:
            if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.Return, ast.Expr)):
                continue
            call = node.value
            if not isinstance(call, ast.Call):
                continue
            name = call_name(call)
            framework = APP_CLASSES.get(name) or (
                "aiohttp" if aiohttp and name == "Application" else None
            )
            if framework is None and name in ("get_wsgi_application", "get_asgi_application"):
                framework = "django"
            if framework is None:
                continue
            target = owner or _target_name(node) or name
            found.append(Entrypoint(framework, path, node.lineno, target))
    return found


def _scopes(tree: ast.Module) -> Iterable[tuple[list[ast.stmt], str | None]]:
    """Module-level statements, then each top-level function's (an app factory)."""
    yield tree.body, None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            statements = [n for n in ast.walk(node) if isinstance(n, ast.stmt)]
            yield statements, f"{node.name}()"


def _target_name(node: ast.stmt) -> str | None:
    if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id
    return None


def marked_dirs(files: Iterable[str]) -> set[str]:
    """Directories a deployment is built from: they hold a project or deployment file."""
    return {os.path.dirname(f) for f in files if ROOT_MARKERS.match(os.path.basename(f))}


def service_root(path: str, marked: set[str]) -> str:
    directory = os.path.dirname(path)
    probe = directory
    while True:
        if probe in marked:
            return probe or "."
        if not probe:
            break
        probe = os.path.dirname(probe)
    return directory.split("/", 1)[0] if directory else "."


def group(
    entrypoints: list[Entrypoint],
    marked: set[str],
    tree_name: str,
    configured_roots: dict[str, str],
) -> list[Service]:
    """Services from entrypoints: a configured root first (the longest that holds the
    entrypoint), else the root discovery finds."""
    services: dict[str, Service] = {}
    for name, root in sorted(configured_roots.items()):
        services[root] = Service(name, root, configured=True)
    configured = sorted(services.values(), key=lambda s: -len(s.root))
    for entry in entrypoints:
        if NOT_SERVICES.match_file(entry.path):
            continue
        home = next((s for s in configured if s.holds(entry.path)), None)
        if home is None:
            root = service_root(entry.path, marked)
            home = services.setdefault(root, Service(_name(root, tree_name), root))
        home.entrypoints.append(entry)
    found = [s for s in services.values() if s.entrypoints or s.configured]
    if len(found) == 1 and not found[0].configured and not _marked(found[0].root, marked):
        # one service and nothing marks where it is deployed from: the tree is its root
        found[0].root, found[0].name = ".", tree_name
    return sorted(found, key=lambda s: (s.root != ".", s.root))


def _marked(root: str, marked: set[str]) -> bool:
    return ("" if root == "." else root) in marked


def _name(root: str, tree_name: str) -> str:
    return tree_name if root == "." else os.path.basename(root)


def discover(
    python_files: Iterable[str],
    files: set[str],
    read: Callable[[str], bytes | None],
    tree_name: str,
    configured_roots: dict[str, str],
    settings_file: str | None = None,
) -> list[Service]:
    """`settings_file`: the Django settings production loads. With no manage.py or
    wsgi.py in the tree (a Procfile names `proj.wsgi`, say), that module, or else each
    settings module (INSTALLED_APPS in settings*.py), stands for the Django project."""
    entrypoints: list[Entrypoint] = []
    settings_modules: list[str] = []
    for path in sorted(python_files):
        if NOT_SERVICES.match_file(path):
            continue
        data = read(path)
        if data:
            entrypoints += entrypoints_in(path, data)
            if b"INSTALLED_APPS" in data and settings_like_path(path):
                settings_modules.append(path)
    if not any(e.framework == "django" for e in entrypoints):
        chosen = [settings_file] if settings_file else settings_modules
        entrypoints += [Entrypoint("django", p, None, "settings") for p in chosen]
    return group(entrypoints, marked_dirs(files), tree_name, configured_roots)
