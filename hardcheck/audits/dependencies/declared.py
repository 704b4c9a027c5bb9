"""What a service declares it depends on, read statically with `packaging`.

Requirements files are parsed here rather than through pip: hardcheck needs each
requirement's file and line for its findings, follows `-r`/`-c` includes relative to the
including file (never outside the tree), and must not run pip or build anything.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ... import _toml
from ...safetext import display_path

REQUIREMENTS_NAME = re.compile(
    r"^(requirements|constraints).*\.(txt|in)$|^requirements/.*\.(txt|in)$"
)
PROSE_LINES = 10
LOCK_FILES = ("poetry.lock", "uv.lock", "pylock.toml")


@dataclass(frozen=True)
class Dependency:
    name: str  # canonical (PEP 503)
    version: str | None  # the exact pinned version, None when not pinned
    source: str  # display path of the declaring file
    line: int | None
    spec: str  # as written, for messages
    unauditable: str = ""  # why it cannot be audited (URL, editable, VCS …), "" if it can

    @property
    def pinned(self) -> bool:
        return self.version is not None


@dataclass
class Declared:
    deps: list[Dependency] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (display path, why)
    files: list[str] = field(default_factory=list)
    not_requirements: list[tuple[str, str]] = field(default_factory=list)  # (path, why)


def exact_version(req: Requirement) -> str | None:
    """`==1.2.3` or `===1.2.3` (no wildcard) is a pin; anything else is a range."""
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


def _logical_lines(text: str):
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*$", "", raw).rstrip()
        if not buf:
            start = number
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = " ".join(part.strip() for part in buf).strip()
        buf = []
        if joined:
            yield start, joined


def parse_requirements(
    root: Path, rel: str, out: Declared, seen: set[str] | None = None, *, included: bool = False
) -> None:
    """Parse one requirements file (and what it includes). A file found only by its name
    in which most lines, and at least PROSE_LINES, are not requirements is not one
    (Django's docs/ref/models/constraints.txt is reStructuredText): it is reported once as
    not read, not line by line."""
    seen = seen if seen is not None else set()
    if rel in seen:
        return  # include cycles end here
    seen.add(rel)
    path = root / rel
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        out.problems.append((rel, f"cannot read requirements file: {exc}"))
        return
    out.files.append(rel)
    own: list[Dependency] = []  # this file's, appended to out.deps once it is judged
    bad: list[int] = []
    includes = False
    for number, line in _logical_lines(text):
        option = re.match(r"^(-r|--requirement|-c|--constraint)\s*=?\s*(\S+)", line)
        if option:
            target = os.path.normpath(os.path.join(os.path.dirname(rel), option.group(2)))
            if target.startswith("..") or os.path.isabs(option.group(2)):
                out.problems.append(
                    (rel, f"line {number}: include {option.group(2)!r} is outside the tree")
                )
            elif not (root / target).is_file():
                out.problems.append(
                    (rel, f"line {number}: included file {option.group(2)!r} not found")
                )
            else:
                parse_requirements(root, target, out, seen, included=True)
                includes = True
            continue
        if line.startswith(("-e", "--editable")):
            own.append(
                Dependency(line.split()[-1][:80], None, rel, number, line[:120], "editable install")
            )
            continue
        if line.startswith("-"):
            continue  # --index-url, --hash on its own line, and other pip options
        spec = re.split(r"\s+--hash", line)[0].strip()
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            if re.match(r"^(git\+|hg\+|svn\+|bzr\+|https?://|file:|\.|/)", spec):
                own.append(
                    Dependency(spec[:80], None, rel, number, spec[:120], "URL or path requirement")
                )
            else:
                bad.append(number)
            continue
        own.append(_from_requirement(req, rel, number))
    if not included and not includes and len(bad) >= PROSE_LINES and len(bad) > len(own):
        # prose (docs/ref/constraints.txt): its one-word lines ("Meta") parse as requirements
        out.files.remove(rel)
        out.not_requirements.append(
            (
                rel,
                f"named like a requirements file, but {len(bad)} of its lines are not requirements",
            )
        )
        return
    out.deps.extend(own)
    if not bad:
        return
    shown = ", ".join(map(str, bad[:5])) + (f" and {len(bad) - 5} more" if len(bad) > 5 else "")
    out.problems.append((rel, f"{len(bad)} line(s) are not requirements: line {shown}"))


def _from_requirement(req: Requirement, source: str, line: int | None) -> Dependency:
    name = canonicalize_name(req.name)
    if req.url:
        return Dependency(name, None, source, line, str(req), "URL requirement")
    return Dependency(name, exact_version(req), source, line, str(req))


def _line_of(text: str, needle: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return number
    return None


def _poetry_pin(constraint: str) -> str | None:
    """Poetry reads a bare `1.2.3` (or `==1.2.3`) as an exact pin; `^`, `~`, `>=` … are ranges."""
    constraint = constraint.strip()
    if constraint.startswith("=="):
        constraint = constraint[2:].strip()
    try:
        Version(constraint)
        return constraint
    except InvalidVersion:
        return None


def _read_toml(root: Path, rel: str, out: Declared, what: str) -> tuple[str, dict] | None:
    """The file's text and data, or None with the problem recorded."""
    try:
        text = (root / rel).read_text(encoding="utf-8")
        return text, _toml.loads(text)
    except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError) as exc:
        out.problems.append((rel, f"cannot read {what}: {exc}"))
        return None


def parse_pyproject(root: Path, rel: str, out: Declared) -> None:
    read = _read_toml(root, rel, out, "pyproject.toml")
    if read is None:
        return
    text, data = read
    project = data["project"] if isinstance(data.get("project"), dict) else {}
    specs = list(project.get("dependencies", []) or [])
    for group in (project.get("optional-dependencies", {}) or {}).values():
        specs.extend(group or [])
    found = False
    for spec in specs:
        if not isinstance(spec, str):
            continue
        found = True
        try:
            req = Requirement(spec)
        except InvalidRequirement:
            out.problems.append((rel, f"not a requirement: {spec[:80]!r}"))
            continue
        out.deps.append(_from_requirement(req, rel, _line_of(text, spec)))
    poetry = data.get("tool", {}).get("poetry", {}) if isinstance(data.get("tool"), dict) else {}
    tables = [poetry.get("dependencies", {})]
    tables += [
        g.get("dependencies", {})
        for g in (poetry.get("group", {}) or {}).values()
        if isinstance(g, dict)
    ]
    tables.append(poetry.get("dev-dependencies", {}))
    for table in tables:
        for name, value in (table or {}).items():
            if name.lower() == "python":
                continue
            found = True
            line = _line_of(text, name)
            if isinstance(value, str):
                out.deps.append(
                    Dependency(
                        canonicalize_name(name), _poetry_pin(value), rel, line, f"{name} {value}"
                    )
                )
            elif isinstance(value, dict) and "version" in value:
                version = str(value["version"])
                out.deps.append(
                    Dependency(
                        canonicalize_name(name),
                        _poetry_pin(version),
                        rel,
                        line,
                        f"{name} {version}",
                    )
                )
            elif isinstance(value, dict):
                how = (
                    "path"
                    if "path" in value
                    else "git"
                    if "git" in value
                    else "URL"
                    if "url" in value
                    else "source"
                )
                out.deps.append(
                    Dependency(canonicalize_name(name), None, rel, line, name, f"{how} dependency")
                )
    if found:
        out.files.append(rel)


def parse_lock(root: Path, rel: str, out: Declared) -> None:
    """poetry.lock and uv.lock: [[package]] name/version; pylock.toml: [[packages]]."""
    read = _read_toml(root, rel, out, "lock file")
    if read is None:
        return
    text, data = read
    out.files.append(rel)
    packages = data.get("packages" if rel.endswith("pylock.toml") else "package", [])
    for pkg in packages if isinstance(packages, list) else []:
        if not isinstance(pkg, dict) or "name" not in pkg:
            continue
        name = canonicalize_name(str(pkg["name"]))
        version = pkg.get("version")
        source = pkg.get("source", {}) if isinstance(pkg.get("source"), dict) else {}
        if (
            source.get("editable")
            or source.get("virtual")
            or pkg.get("vcs")
            or pkg.get("directory")
        ):
            out.deps.append(
                Dependency(
                    name,
                    None,
                    rel,
                    _line_of(text, f'name = "{pkg["name"]}"'),
                    name,
                    "local or VCS package",
                )
            )
            continue
        out.deps.append(
            Dependency(
                name,
                str(version) if version else None,
                rel,
                _line_of(text, f'name = "{pkg["name"]}"'),
                f"{name} {version}",
            )
        )


def declared_dependencies(root: Path, rels: list[str]) -> Declared:
    """Every declaration in the given content files (requirements, pyproject, locks)."""
    out = Declared()
    included: set[str] = set()
    for rel in sorted(rels):
        kind = declaration_kind(rel)
        if kind == "lock":
            parse_lock(root, rel, out)
        elif kind == "pyproject":
            parse_pyproject(root, rel, out)
        elif kind == "requirements":
            parse_requirements(root, rel, out, included)
    return out


def declaration_kind(rel: str) -> str | None:
    """Which kind of dependency declaration a file is, by its name (None: not one)."""
    base = os.path.basename(rel)
    if base in LOCK_FILES:
        return "lock"
    if base == "pyproject.toml":
        return "pyproject"
    if REQUIREMENTS_NAME.search(rel) or REQUIREMENTS_NAME.search(base):
        return "requirements"
    return None


def environment_dependencies() -> Declared:
    """The distributions installed in the interpreter hardcheck runs on."""
    from importlib.metadata import distributions

    out = Declared(files=["(installed environment)"])
    for dist in distributions():
        name = dist.metadata["Name"]
        if name:
            out.deps.append(
                Dependency(
                    canonicalize_name(name),
                    dist.version,
                    "(installed environment)",
                    None,
                    f"{name}=={dist.version}",
                )
            )
    return out


def installed_dependencies(installed: tuple[tuple[str, str, str], ...]) -> Declared:
    """An image's installed Python distributions (from their METADATA): exact versions."""
    out = Declared(files=[display_path(rel) for _, _, rel in installed[:1]])
    for name, version, rel in installed:
        out.deps.append(
            Dependency(
                canonicalize_name(name), version, display_path(rel), None, f"{name}=={version}"
            )
        )
    return out
