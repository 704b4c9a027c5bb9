"""App-level access settings of the permissions audit, read through the AST (the app is
never imported): debug modes, Django ALLOWED_HOSTS, and CORS that admits any origin."""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from dataclasses import replace

from ...inventory import Entry, ReadSkipped, is_binary, path_spec, read_bytes
from ...model import Finding, Location, Severity
from ...readers.appfiles import settings_like_path
from ...readers.pyast import (
    NOT_LITERAL,
    Assignment,
    SourceError,
    assignments,
    call_name,
    env_default,
    inside_main_guard,
    keyword,
    literal,
    parse_source,
    string_constants,
    truthy_setting,
)
from ...services.django import DjangoSettings, Setting
from ..base import AuditContext, Coverage

APP_RULES = ("APP001", "APP002", "APP003", "APP004")
# Cheap byte test before parsing: a file without any of these cannot trigger a rule.
MARKERS = (
    b"DEBUG",
    b"debug",
    b"ALLOWED_HOSTS",
    b"CORS",
    b"allow_origin",
    b"django_heroku",
    b"configure(",
    b"from_envvar",
    b"from_pyfile",
    b"from_prefixed_env",
)
DJANGO_MARKERS = {"INSTALLED_APPS", "MIDDLEWARE", "ROOT_URLCONF", "ALLOWED_HOSTS", "DATABASES"}
FRAMEWORK_IMPORTS = ("django", "flask", "fastapi", "starlette", "quart", "sanic", "aiohttp")
# An origin no allow-list should accept: a regex that matches it accepts anyone.
ATTACKER_ORIGIN = "https://attacker.invalid"


def _is_settings_module(rel: str, names: set[str]) -> bool:
    return settings_like_path(rel) or len(names & DJANGO_MARKERS) >= 2


def _module_names(node: ast.Import | ast.ImportFrom) -> list[str]:
    return [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]


def _imports_framework(tree: ast.Module) -> bool:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            mods = [node.module or ""]
        else:
            continue
        if any(m.split(".")[0] in FRAMEWORK_IMPORTS for m in mods):
            return True
    return False


def _regex_accepts_anyone(pattern: object, *, full: bool) -> bool:
    if not isinstance(pattern, str):
        return False
    try:
        rx = re.compile(pattern)
    except (re.error, RecursionError, OverflowError):
        return False
    match = rx.fullmatch if full else rx.match
    return match(ATTACKER_ORIGIN) is not None


class AppSettingsChecker:
    """Looks at one parsed module and yields findings for APP001–APP004."""

    def __init__(
        self,
        ctx: AuditContext,
        entry: Entry,
        tree: ast.Module,
        dev: bool,
        judge_settings: bool = True,
    ):
        self.judge_settings = judge_settings  # False: part of the merged production settings
        self.ctx = ctx
        self.entry = entry
        self.tree = tree
        self.dev = dev
        self.main_lines = inside_main_guard(tree)
        self.current: Assignment | Setting | None = None  # the setting being judged

    @functools.cached_property
    def imports_aiohttp(self) -> bool:
        # asked only of a module that calls Application(...): a second walk of every
        # module's tree was half of this audit's time
        return any(
            isinstance(n, (ast.Import, ast.ImportFrom))
            and any(m.split(".")[0] == "aiohttp" for m in _module_names(n))
            for n in ast.walk(self.tree)
        )

    def loc(self, line: int, setting: str | None = None) -> Location:
        return Location(path=self.entry.display, line=line, setting=setting)

    def debug_severity(self, base: Severity) -> Severity:
        if self.ctx.environment == "development" or self.dev:
            return Severity.INFO
        return base

    def debug_note(self) -> str:
        if self.ctx.environment == "development":
            return " (downgraded: --environment development)"
        if self.dev:
            return " (downgraded: development settings module)"
        return ""

    def run(self) -> Iterator[Finding]:
        names = {a.name for a in assignments(self.tree)}
        if _is_settings_module(self.entry.rel, names):
            self.ctx.stats["settings_modules"] += 1
            if self.judge_settings:
                yield from self.settings(names)
        if _imports_framework(self.tree) or names & DJANGO_MARKERS:
            self.ctx.stats["app_modules"] += 1
        yield from self.calls()

    # --- Django / Flask settings modules -------------------------------------------------
    def setting_items(self) -> Iterator[Assignment | Setting]:
        yield from assignments(self.tree)

    def settings(self, names: set[str]) -> Iterator[Finding]:
        values: dict[str, Assignment | Setting] = {}
        for a in self.setting_items():
            self.current = a
            values.setdefault(a.name, a)
            if a.name == "DEBUG":
                yield from self.debug_setting(a.value, a.line, a.name)
            elif a.name == "ALLOWED_HOSTS":
                yield from self.allowed_hosts(a.value, a.line)
        self.current = None
        creds = values.get("CORS_ALLOW_CREDENTIALS")
        with_creds = creds is not None and literal(creds.value) is True
        for flag in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"):
            allow_all = values.get(flag)
            if allow_all is not None and literal(allow_all.value) is True:
                self.current = allow_all
                yield self.cors(allow_all.line, flag, with_creds, f"{flag} = True")
        for flag in ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"):
            regexes = values.get(flag)
            if regexes is None:
                continue
            patterns = literal(regexes.value)
            self.current = regexes
            if isinstance(patterns, (list, tuple)) and any(
                _regex_accepts_anyone(p, full=False) for p in patterns
            ):
                yield self.cors(
                    regexes.line, flag, with_creds, f"{flag} has a pattern matching any origin"
                )

    def debug_setting(self, value: ast.AST, line: int, setting: str) -> Iterator[Finding]:
        lit = literal(value)
        if lit is True:
            yield self.ctx.fail(
                "APP001",
                f"{setting} = True{self.debug_note()}",
                self.loc(line, setting),
                severity=self.debug_severity(Severity.HIGH),
                evidence=f"{setting} = True",
                key=setting,
            )
        elif lit is NOT_LITERAL:
            fallback = env_default(value)
            if fallback is not NOT_LITERAL and truthy_setting(fallback):
                yield self.ctx.fail(
                    "APP001",
                    f"{setting} falls back to {fallback!r} when the environment does not set it"
                    f"{self.debug_note()}",
                    self.loc(line, setting),
                    severity=self.debug_severity(Severity.MEDIUM),
                    evidence=f"default {fallback!r}",
                    key=setting,
                )

    def allowed_hosts(self, value: ast.AST, line: int) -> Iterator[Finding]:
        lit = literal(value)
        if isinstance(lit, (list, tuple, set)) and "*" in lit:
            yield self.ctx.fail(
                "APP002",
                "ALLOWED_HOSTS contains '*': any Host header is accepted",
                self.loc(line, "ALLOWED_HOSTS"),
                evidence="'*' in ALLOWED_HOSTS",
                key="ALLOWED_HOSTS",
            )
        elif lit is NOT_LITERAL and "*" in set(string_constants(value)):
            yield self.ctx.fail(
                "APP002",
                "ALLOWED_HOSTS may fall back to '*' when the environment does not set it",
                self.loc(line, "ALLOWED_HOSTS"),
                severity=Severity.MEDIUM,
                evidence="'*' as a fallback",
                key="ALLOWED_HOSTS",
            )

    # --- calls and attribute assignments anywhere in the module --------------------------
    def calls(self) -> Iterator[Finding]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield from self.call(node)
            elif isinstance(node, ast.Assign):
                yield from self.attribute_assign(node)

    def call(self, node: ast.Call) -> Iterator[Finding]:
        name = call_name(node)
        aiohttp_app = name == "Application" and self.imports_aiohttp
        if (name in ("FastAPI", "Starlette", "Quart", "Sanic") or aiohttp_app) and literal(
            keyword(node, "debug")
        ) is True:
            yield self.ctx.fail(
                "APP001",
                f"{name}(debug=True){self.debug_note()}: tracebacks are served to clients",
                self.loc(node.lineno, f"{name}.debug"),
                severity=self.debug_severity(Severity.HIGH),
                evidence=f"{name}(debug=True)",
                key=f"{name}.debug",
            )
        elif name == "run" and literal(keyword(node, "debug")) is True:
            guarded = node.lineno in self.main_lines
            base = Severity.MEDIUM if guarded else Severity.HIGH
            where = " under `if __name__ == '__main__'`" if guarded else ""
            yield self.ctx.fail(
                "APP001",
                f"run(debug=True){where}{self.debug_note()}: the debugger allows code execution",
                self.loc(node.lineno, "run.debug"),
                severity=self.debug_severity(base),
                evidence="run(debug=True)",
                key="run.debug",
            )
        elif (
            name in ("update", "from_mapping") and literal(debug := keyword(node, "DEBUG")) is True
        ):
            assert debug is not None
            yield from self.debug_setting(debug, node.lineno, "config.DEBUG")
        yield from self.dynamic(node, name)
        yield from self.cors_call(node, name)

    # --- configuration made at run time --------------------------------------------------
    def dynamic(self, node: ast.Call, name: str) -> Iterator[Finding]:
        """Known helpers are modelled; configuration loaded at run time is said, not skipped."""
        owner = call_name(node.func.value) if isinstance(node.func, ast.Attribute) else ""
        if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
            owner = node.func.value.id
        if owner == "django_heroku" and name == "settings":
            if literal(keyword(node, "allowed_hosts")) is not False:
                yield self.ctx.fail(
                    "APP002",
                    "django_heroku.settings(locals()) sets ALLOWED_HOSTS = ['*']: any Host header "
                    "is accepted (pass allowed_hosts=False and list the hosts)",
                    self.loc(node.lineno, "django_heroku.settings"),
                    evidence="django_heroku.settings(allowed_hosts=True)",
                    key="django_heroku",
                )
            return
        runtime = {
            ("settings", "configure"): "settings.configure(…)",
            ("config", "from_envvar"): "app.config.from_envvar(…)",
            ("config", "from_pyfile"): "app.config.from_pyfile(…)",
            ("config", "from_prefixed_env"): "app.config.from_prefixed_env()",
        }.get((owner, name))
        if runtime:
            yield self.ctx.skipped(
                "APP001",
                f"{runtime} loads settings at run time: DEBUG and the others it sets could not "
                "be judged statically",
                self.loc(node.lineno, runtime),
                key=f"runtime:{runtime}",
            )

    def attribute_assign(self, node: ast.Assign) -> Iterator[Finding]:
        for target in node.targets:
            if isinstance(target, ast.Attribute) and target.attr == "debug":
                yield from self.debug_setting(node.value, node.lineno, "app.debug")
            elif isinstance(target, ast.Subscript) and literal(target.slice) == "DEBUG":
                yield from self.debug_setting(node.value, node.lineno, "config['DEBUG']")

    def cors_call(self, node: ast.Call, name: str) -> Iterator[Finding]:
        args = [a for a in node.args if call_name(a) == "CORSMiddleware"]
        if name == "CORSMiddleware" or args:
            origins = literal(keyword(node, "allow_origins"))
            regex = literal(keyword(node, "allow_origin_regex"))
            creds = literal(keyword(node, "allow_credentials")) is True
            if isinstance(origins, (list, tuple)) and "*" in origins:
                yield self.cors(node.lineno, "CORSMiddleware", creds, "allow_origins=['*']")
            elif _regex_accepts_anyone(regex, full=True):
                yield self.cors(
                    node.lineno, "CORSMiddleware", creds, "allow_origin_regex matches any origin"
                )
        elif name in ("CORS", "cross_origin"):
            # flask-cors: origins defaults to '*'
            origins_node = keyword(node, "origins")
            origins = "*" if origins_node is None else literal(origins_node)
            creds = literal(keyword(node, "supports_credentials")) is True
            if origins == "*" or (isinstance(origins, (list, tuple)) and "*" in origins):
                yield self.cors(node.lineno, name, creds, f"{name}() with origins '*'")

    def cors(self, line: int, setting: str, creds: bool, what: str) -> Finding:
        if creds:
            return self.ctx.fail(
                "APP003",
                f"{what} together with credentials: any site can make authenticated requests "
                "and read the answers",
                self.loc(line, setting),
                evidence=what + " + credentials",
                key=setting,
            )
        return self.ctx.fail(
            "APP004",
            f"{what}: any site can read responses "
            "(acceptable only for public, unauthenticated APIs)",
            self.loc(line, setting),
            evidence=what,
            key=setting,
        )


class ProductionSettingsChecker(AppSettingsChecker):
    """The settings production loads, merged along their `import *` chain (the service
    model's): judged once, each finding at the file and line that set the value, saying
    which module inherits it when that is another file."""

    def __init__(self, ctx: AuditContext, entry: Entry, django: DjangoSettings, dev: bool):
        super().__init__(ctx, entry, ast.Module(body=[], type_ignores=[]), dev)
        self.django = django

    def setting_items(self) -> Iterator[Assignment | Setting]:
        yield from self.django.settings.values()

    def loc(self, line: int, setting: str | None = None) -> Location:
        path = self.current.file if isinstance(self.current, Setting) else self.django.file
        return Location(path=path, line=line, setting=setting)

    def run(self) -> Iterator[Finding]:
        self.ctx.stats["settings_modules"] += 1
        for finding in self.settings(set(self.django.settings)):
            path = finding.location.path
            if path != self.django.file:
                note = (
                    f" (set in {path}, inherited by {self.django.module}, which production loads)"
                )
                finding = replace(finding, message=finding.message + note)
            yield finding


def _not_loaded(findings: Iterator[Finding], production: str) -> Iterator[Finding]:
    """A settings module production does not load: its findings are information."""
    for f in findings:
        if f.severity is Severity.INFO:
            yield f  # debug findings already say they are downgraded
        else:
            note = f" (downgraded: production loads {production}, not this module)"
            yield replace(f, severity=Severity.INFO, message=f.message + note)


def check_app_settings(
    ctx: AuditContext, cov: Coverage, development_paths: tuple[str, ...]
) -> Iterator[Finding]:
    dev_spec = path_spec(development_paths)
    for path, why in ctx.services.settings_problems():
        cov.could_not_read(APP_RULES, path, why)  # production's settings are partly unknown
    production = ctx.services.django
    if production is not None and not production.confident:
        production = None  # only manage.py's default names it: judge each module
    chain = set(production.chain) if production else set()
    for entry in ctx.inventory.files():
        if not entry.rel.endswith(".py"):
            continue
        try:
            data = read_bytes(ctx.inventory, entry, ctx.config.max_file_size)
        except ReadSkipped as exc:
            if exc.deliberate:
                yield ctx.not_read(entry.display, str(exc), exc.kind)
            else:
                cov.could_not_read(APP_RULES, entry.display, str(exc))
                yield ctx.unreadable(entry.display, str(exc))
            continue
        if not any(m in data for m in MARKERS):
            cov.saw(APP_RULES, "Python file")  # read: nothing in it can trigger these rules
            continue
        if is_binary(data):
            yield ctx.not_read(entry.display, "binary file (NUL bytes) with a .py name", "binary")
            continue
        try:
            tree = parse_source(data, entry.display)
        except SourceError as exc:
            cov.could_not_read(APP_RULES, entry.display, str(exc))
            yield ctx.unreadable(entry.display, str(exc))
            continue
        cov.saw(APP_RULES, "Python file")
        # with the settings production loads known, another settings module is not loaded
        # in production (dev, test, local…): its debug settings are info
        not_loaded = (
            production is not None and entry.rel not in chain and settings_like_path(entry.rel)
        )
        dev = dev_spec.match_file(entry.rel) or not_loaded
        found = AppSettingsChecker(ctx, entry, tree, dev, entry.rel not in chain).run()
        if not_loaded and production is not None:
            found = _not_loaded(found, production.module)
        yield from found
    production_entry = next(
        (e for e in ctx.inventory.files() if production and e.rel == production.file), None
    )
    if production is not None and production_entry is not None:
        yield from ProductionSettingsChecker(ctx, production_entry, production, False).run()
    frameworks = {f for s in ctx.services.services for f in s.frameworks}
    if not (ctx.stats["app_modules"] or ctx.stats["settings_modules"] or frameworks):
        # debug mode can still be switched on where the service starts (startflags)
        cov.skip(
            APP_RULES[1:] if ctx.services.starts else APP_RULES,
            "not applicable: no Django, Flask, FastAPI or Starlette code or settings found",
        )
    elif "django" not in frameworks and not ctx.stats["settings_modules"]:
        cov.skip(("APP002",), "not applicable: no Django service (ALLOWED_HOSTS is Django's)")
