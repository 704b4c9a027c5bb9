"""hardcheck's own configuration: CLI flags over `hardcheck.toml` / `[tool.hardcheck]`
over defaults.

The file is validated against a JSON Schema built from the core keys plus each audit's
own table; a violation becomes one `ConfigError` line naming the file, the key and what
is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _toml
from .model import NEVER, Severity, gate_label
from .safetext import safe

ENVIRONMENTS = ("production", "staging", "development")
SEVERITIES = tuple(s.value for s in Severity)
DEFAULT_MAX_FILE_SIZE = 2 * 1024 * 1024
DEFAULT_TIMEOUT = 600.0
SIZE_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(B|KB|KiB|MB|MiB|GB|GiB|k|m|g)?\s*$"
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1000,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1000**3,
    "gib": 1024**3,
}


class ConfigError(Exception):
    """A user mistake in configuration or flags: reported in one line, exit code 2."""


def parse_size(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a string such as '10MiB'")
    if isinstance(value, int):
        return value
    match = re.match(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z]*)\s*$", str(value))
    if not match or match.group(2).lower() not in _SIZE_UNITS:
        raise ValueError(f"not a size: {value!r} (use bytes, or e.g. '512KiB', '10MiB')")
    return int(float(match.group(1)) * _SIZE_UNITS[match.group(2).lower()])


MAX_SIZE = 1024**4  # 1 TiB: any size option above it is a typo, and overflows reads
MAX_JOBS = 256  # workers are processes: more is a typo (and each costs memory)
MAX_TIMEOUT = 7 * 24 * 3600.0  # a week, in seconds


def size_schema(minimum: int = 0) -> dict:
    return {
        "anyOf": [
            {"type": "integer", "minimum": minimum, "maximum": MAX_SIZE},
            {"type": "string", "pattern": SIZE_PATTERN},
        ],
        "description": "bytes, or a string with a unit: '512KiB', '10MiB'",
    }


STRING_LIST = {"type": "array", "items": {"type": "string"}}

SUPPRESSION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["rule"],
    "properties": {
        "rule": {"type": "string", "description": "rule id, name or upstream id"},
        "path": {"type": "string", "description": "gitignore-style pattern"},
        "reason": {"type": "string"},
        "expires": {"type": "string", "format": "date", "description": "YYYY-MM-DD"},
    },
}


def core_schema(audit_schemas: Mapping[str, dict]) -> dict:
    """The JSON Schema of the whole config table, with one sub-table per audit."""
    properties: dict[str, Any] = {
        "fail-on": {"enum": [*SEVERITIES, NEVER]},
        "environment": {"enum": list(ENVIRONMENTS)},
        "test-paths": STRING_LIST,
        "include": STRING_LIST,
        "exclude": STRING_LIST,
        "only": STRING_LIST,
        "skip": STRING_LIST,
        "owners": {"type": "object", "additionalProperties": {"type": "string"}},
        "max-file-size": size_schema(),
        "timeout": {"type": "number", "exclusiveMinimum": 0, "maximum": MAX_TIMEOUT},
        "jobs": {"type": "integer", "minimum": 1, "maximum": MAX_JOBS},
        "suppress": {"type": "array", "items": SUPPRESSION_SCHEMA},
        "services": {
            "type": "object",
            "description": "what discovery cannot know, per service: [services.NAME]",
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "settings": {
                        "type": "string",
                        "pattern": "^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)*$",
                        "description": "the Django settings module production loads",
                    },
                    "root": {
                        "type": "string",
                        "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$",
                        "description": "the service's directory, relative to the tree",
                    },
                    "proxy": {
                        "type": "string",
                        "pattern": "^(?!/)(?!.*(^|/)\\.\\.(/|$)).+$",
                        "description": "the nginx config in front of the service, relative to the tree",
                    },
                },
            },
        },
    }
    for name, schema in audit_schemas.items():
        properties[name] = {
            "type": "object",
            "additionalProperties": False,
            "properties": schema,
        }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "hardcheck configuration",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


@dataclass(frozen=True)
class Suppression:
    rule: str
    path: str | None
    reason: str | None
    expires: dt.date | None
    index: int


# Test code, gitignore-style: findings there are reported at info and counted apart, so
# the first screen is about the service (bandit's B101 `assert`, test passwords).
DEFAULT_TEST_PATHS = (
    "tests/",
    "test/",
    "testing/",
    "__tests__/",
    "tests.py",  # Django's and Flask tutorials' single test module
    "test_*.py",
    "*_test.py",
    "*_tests.py",
    "conftest.py",
    "*.spec.*",
    "*.test.*",
)


@dataclass(frozen=True)
class Config:
    file: Path | None = None
    table: str = ""
    fail_on: Severity | None = Severity.HIGH  # None: --fail-on never
    environment: str = "production"
    test_paths: tuple[str, ...] = DEFAULT_TEST_PATHS
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    skip: tuple[str, ...] = ()
    owners: dict[str, str] = field(default_factory=dict)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    timeout: float = DEFAULT_TIMEOUT
    jobs: int = 1
    suppressions: tuple[Suppression, ...] = ()
    audit_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    urls: tuple[str, ...] = ()
    services: dict[str, dict[str, str]] = field(default_factory=dict)  # [services.NAME]

    def options_for(self, audit: str) -> dict[str, Any]:
        return self.audit_options.get(audit, {})

    def django_settings(self) -> str | None:
        """The settings module a [services.NAME] table names (the first, by name)."""
        return next(
            (t["settings"] for _, t in sorted(self.services.items()) if "settings" in t), None
        )

    def describe(self) -> dict[str, Any]:
        """The effective config, for the report's run metadata."""
        return {
            "file": str(self.file) if self.file else None,
            "fail_on": gate_label(self.fail_on),
            "environment": self.environment,
            "test_paths": list(self.test_paths),
            "include": list(self.include),
            "exclude": list(self.exclude),
            "only": list(self.only),
            "skip": list(self.skip),
            "owners": dict(sorted(self.owners.items())),
            "max_file_size": self.max_file_size,
            "timeout": self.timeout,
            "jobs": self.jobs,
            "suppressions": len(self.suppressions),
            "services": {k: dict(v) for k, v in sorted(self.services.items())},
        }


def default_jobs() -> int:
    """The cores this process may use (affinity-aware, unlike os.cpu_count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _jsonable(value: Any) -> Any:
    """TOML dates become ISO strings so the schema (and the report) can see them."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


def shadowed_config(target: Path) -> Path | None:
    """pyproject.toml, when it holds a [tool.hardcheck] table that hardcheck.toml beside it
    overrides (hardcheck.toml wins whole: the two are never merged)."""
    pyproject = target / "pyproject.toml"
    if not ((target / "hardcheck.toml").is_file() and pyproject.is_file()):
        return None
    try:
        data = _toml.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError, RecursionError):
        return None
    tool = data.get("tool")
    return pyproject if isinstance(tool, dict) and "hardcheck" in tool else None


def find_config_file(target: Path) -> tuple[Path | None, str]:
    """`hardcheck.toml` wins over `pyproject.toml`'s `[tool.hardcheck]`."""
    candidate = target / "hardcheck.toml"
    if candidate.is_file():
        return candidate, ""
    pyproject = target / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = _toml.loads(pyproject.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError, RecursionError):
            # Malformed pyproject with no way to tell whether it holds our table: say so.
            return pyproject, "tool.hardcheck"
        if isinstance(data.get("tool"), dict) and "hardcheck" in data["tool"]:
            return pyproject, "tool.hardcheck"
    return None, ""


def read_config_table(path: Path) -> tuple[dict[str, Any], str]:
    """Return the hardcheck table from a file, and its TOML path for messages."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    try:
        data = _toml.loads(text)
    except _toml.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        table = tool.get("hardcheck", {}) if isinstance(tool, dict) else {}
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [tool.hardcheck] must be a table")
        return _jsonable(table), "tool.hardcheck"
    return _jsonable(data), ""


def _toml_path(table: str, parts: list) -> str:
    names = [table] if table else []
    for p in parts:
        names.append(f"[{p}]" if isinstance(p, int) else str(p))
    return ".".join(names).replace(".[", "[") or "(top level)"


def _schema_message(error, table: str) -> str:
    """Turn one jsonschema error into a sentence a user can act on."""
    parts = list(error.absolute_path)
    where = _toml_path(table, parts)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - set(allowed))
        key = unknown[0] if unknown else "?"
        keypath = _toml_path(table, [*parts, key])
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"unknown key '{keypath}'{suggestion}; allowed here: {', '.join(allowed)}"
    if error.validator == "enum":
        choices = ", ".join(str(v) for v in error.validator_value)
        hint = difflib.get_close_matches(
            str(error.instance), [str(v) for v in error.validator_value], n=1
        )
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        return f"'{where}' is {error.instance!r}{suggestion}; allowed: {choices}"
    if error.validator == "required":
        return f"'{where}': {error.message}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"'{where}' must be of type {expected}, got {type(error.instance).__name__}"
    if error.validator in ("anyOf", "pattern") and "description" in error.schema:
        return f"'{where}' is {error.instance!r}; expected {error.schema['description']}"
    if error.validator == "format":
        return f"'{where}' is {error.instance!r}; expected a date YYYY-MM-DD"
    return f"'{where}': {error.message}"


def validate_table(data: dict[str, Any], schema: dict, source: str, table: str) -> None:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        raise ConfigError(f"{source}: {_schema_message(errors[0], table)}")


def _date(value: str | None, source: str, where: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        raise ConfigError(f"{source}: '{where}' is {value!r}; expected a date YYYY-MM-DD") from None


def build_config(
    target: Path,
    *,
    config_file: Path | None,
    overrides: dict[str, Any],
    audit_schemas: Mapping[str, dict],
) -> Config:
    """Read the file (explicit or discovered), validate it, apply CLI overrides."""
    if config_file is not None:
        path: Path | None = config_file
    else:
        path, _ = find_config_file(target)
    data: dict[str, Any] = {}
    table = ""
    if path is not None:
        data, table = read_config_table(path)
        # a table the file does not have needs no schema: audits stay unimported
        present = {k: audit_schemas[k] if k in data else {} for k in audit_schemas}
        validate_table(data, core_schema(present), str(path), table)
    source = str(path) if path else "command line"
    merged = {**data, **{k: v for k, v in overrides.items() if v not in (None, (), [])}}
    suppressions = tuple(
        Suppression(
            rule=s["rule"],
            path=s.get("path"),
            reason=safe((s.get("reason") or "").strip()) or None,  # shown in every format
            expires=_date(s.get("expires"), source, f"{table or ''}suppress[{i}].expires"),
            index=i,
        )
        for i, s in enumerate(data.get("suppress", []))
    )
    fail_on: Severity | None = None
    gate = str(merged.get("fail-on", "high"))
    if gate.strip().lower() != NEVER:
        try:
            fail_on = Severity.parse(gate)
        except ValueError:
            raise ConfigError(
                f"--fail-on {merged.get('fail-on')!r}: allowed: {', '.join(SEVERITIES)}, {NEVER}"
            ) from None
    environment = merged.get("environment", "production")
    if environment not in ENVIRONMENTS:
        raise ConfigError(f"--environment {environment!r}: allowed: {', '.join(ENVIRONMENTS)}")
    try:
        max_file_size = parse_size(merged.get("max-file-size", DEFAULT_MAX_FILE_SIZE))
        if max_file_size > MAX_SIZE:
            raise ValueError(f"{max_file_size} bytes is above the ceiling of 1 TiB")
    except ValueError as exc:
        raise ConfigError(f"{source}: 'max-file-size': {exc}") from None
    given = overrides.get("audit_options") or {}
    for name, options in given.items():
        if name not in audit_schemas:
            hint = difflib.get_close_matches(name, list(audit_schemas), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(
                f"options: no audit '{name}'{suggestion}; audits: {', '.join(audit_schemas)}"
            )
        schema = {
            "type": "object",
            "properties": audit_schemas[name],
            "additionalProperties": False,
        }
        validate_table({**data.get(name, {}), **options}, schema, "options", name)
    return Config(
        file=path,
        table=table,
        fail_on=fail_on,
        environment=environment,
        test_paths=tuple(merged.get("test-paths", DEFAULT_TEST_PATHS)),
        include=tuple(merged.get("include", ())),
        exclude=tuple(merged.get("exclude", ())),
        only=tuple(merged.get("only", ())),
        skip=tuple(merged.get("skip", ())),
        owners=dict(data.get("owners", {})),
        max_file_size=max_file_size,
        timeout=float(merged.get("timeout", DEFAULT_TIMEOUT)),
        # CPU-heavy audits gain nothing from more workers than usable cores
        jobs=min(int(merged.get("jobs") or default_jobs()), default_jobs()),
        suppressions=suppressions,
        audit_options={k: {**data.get(k, {}), **given.get(k, {})} for k in audit_schemas},
        urls=tuple(overrides.get("urls") or ()),
        services={str(k): dict(v) for k, v in data.get("services", {}).items()},
    )


def read_json_file(path: str | Path, what: str) -> Any:
    """A JSON file the user named (a report, a baseline), or one clear ConfigError line."""
    import json

    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"{what} {path} cannot be read as JSON: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{what} {path} is nested too deeply to be a {what}") from None
