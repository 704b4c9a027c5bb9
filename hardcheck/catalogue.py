"""The rule catalogue: `rules/*.toml`, validated when loaded.

In a wheel the files sit in `hardcheck/rules/`; in a source checkout (editable install,
tests) they are read from the repository's top-level `rules/` directory.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from . import _toml
from .model import Finding, Location, Severity, Status
from .safetext import redact_urls, safe

RULE_FIELDS = {
    "id",
    "name",
    "audit",
    "title",
    "severity",
    "owner",
    "expected",
    "rollback",
    "rationale",
    "bypass",
    "references",
    "example",
    "no-examples",
    "upstream",
}
REQUIRED = (
    "id",
    "name",
    "audit",
    "title",
    "severity",
    "owner",
    "expected",
    "rollback",
    "rationale",
    "bypass",
    "references",
)
EXPECTS = ("pass", "fail", "error", "skip")
EXAMPLE_FIELDS = {"expect", "files", "modes", "links", "environment", "note", "response", "profile"}
RESPONSE_FIELDS = {"status", "headers", "body", "scheme", "trusted", "answer", "http"}
ID_PATTERN = re.compile(r"^[A-Z]{2,4}[0-9]{3}$")
NAME_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class CatalogueError(Exception):
    """The catalogue itself is broken: a packaging or development error."""


@dataclass(frozen=True)
class Response:
    """What a live rule's example URL answers (the catalogue test serves it on 127.0.0.1).
    `{host}` in a header value is the server's host:port."""

    status: int = 200
    headers: tuple[tuple[str, str], ...] = ()  # in order; a name may repeat
    body: str = ""
    scheme: str = "http"  # https: served with TLS
    trusted: bool = True  # https: whether the audit is given the certificate's CA
    answer: bool = True  # false: the server closes the connection without answering
    http: Response | None = None  # https: what the http:// twin answers (default: a redirect)


@dataclass(frozen=True)
class Example:
    expect: str  # the status the rule must report: pass, fail, error or skip
    files: tuple[tuple[str, str], ...]
    modes: tuple[tuple[str, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()
    environment: str | None = None
    note: str = ""
    response: Response | None = None  # a live rule's example: the URL's answer
    profile: str | None = None  # the headers profile the example is judged under


PROJECT_URI = "https://github.com/hardcheck/hardcheck"
RULES_URI = PROJECT_URI + "/blob/main/rules/{audit}.toml"


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    audit: str
    title: str
    severity: Severity
    owner: str
    expected: str
    rollback: str
    rationale: str
    bypass: str
    references: tuple[str, ...]
    examples: tuple[Example, ...]
    no_examples: str = ""
    upstream: tuple[str, ...] = ()

    @property
    def help_uri(self) -> str:
        """Where to read about the rule on the web: its first web reference, else its
        entry in the catalogue."""
        web = [r for r in self.references if r.startswith("https://")]
        return web[0] if web else RULES_URI.format(audit=self.audit)

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "name": self.name,
            "audit": self.audit,
            "title": self.title,
            "severity": self.severity.value,
            "owner": self.owner,
            "expected": self.expected,
            "rollback": self.rollback,
            "rationale": self.rationale,
            "bypass": self.bypass,
            "references": list(self.references),
            "upstream": list(self.upstream),
            "examples": [
                {
                    "expect": e.expect,
                    "files": dict(e.files),
                    "modes": dict(e.modes),
                    "links": dict(e.links),
                    "environment": e.environment,
                    "note": e.note,
                    "response": _response_dict(e.response),
                    "profile": e.profile,
                }
                for e in self.examples
            ],
        }


class Catalogue:
    def __init__(self, rules: list[Rule]):
        self._by_id = {r.id: r for r in rules}
        self._upstream = {u.upper(): r for r in rules for u in r.upstream}

    def __iter__(self):
        return iter(sorted(self._by_id.values(), key=lambda r: r.id))

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, rule_id: str) -> bool:
        return rule_id in self._by_id

    def get(self, rule_id: str) -> Rule:
        return self._by_id[rule_id]

    def find(self, query: str) -> Rule | None:
        """Look a rule up by id, name or upstream id (e.g. bandit's B602), any case."""
        q = query.strip()
        if q.upper() in self._by_id:
            return self._by_id[q.upper()]
        for rule in self._by_id.values():
            if rule.name == q.lower():
                return rule
        return self._upstream.get(q.upper())

    def for_audit(self, audit: str) -> list[Rule]:
        return [r for r in self if r.audit == audit]

    def finding(
        self,
        rule_id: str,
        *,
        audit: str,
        status: Status,
        message: str,
        location: Location | None = None,
        owners: Mapping[str, str] | None = None,
        severity: Severity | None = None,
        evidence: str | None = None,
        key: str = "",
        upstream_id: str | None = None,
    ) -> Finding:
        """The one place a `Finding` is built from a rule: title, owner, expected state,
        rollback and references come from the catalogue. The owner is the config's owner
        for the rule, else for the audit, else the rule's own. Text is made display-safe."""
        rule = self._by_id[rule_id]  # an unknown id is a bug: tests check every id in the code
        owners = owners or {}
        return Finding(
            rule_id=rule.id,
            audit=audit,
            status=status,
            severity=severity or rule.severity,
            title=rule.title,
            message=safe(redact_urls(message)),
            location=_safe_location(location or Location()),
            evidence=safe(redact_urls(evidence)) if evidence is not None else None,
            owner=safe(owners.get(rule.id) or owners.get(audit) or rule.owner),
            expected=rule.expected,
            rollback=rule.rollback,
            references=rule.references,
            upstream_id=upstream_id,
            key=key,
        )


def _safe_location(loc: Location) -> Location:
    """Setting names and URLs come from the tree or the user (a logger named with a lone
    surrogate or an ESC): shown escaped, like the message."""

    def shown(value: str | None) -> str | None:
        return None if value is None else safe(value)

    url = None if loc.url is None else redact_urls(loc.url)
    return dataclasses.replace(
        loc, path=shown(loc.path), url=shown(url), setting=shown(loc.setting)
    )


def rules_dir() -> Path:
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


def _pairs(value, where: str, field: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise CatalogueError(f"{where}: example '{field}' must be a table of strings")
    return tuple(sorted(value.items()))


def _response_dict(r: Response | None) -> dict | None:
    if r is None:
        return None
    return {
        "status": r.status,
        "headers": [list(h) for h in r.headers],
        "body": r.body,
        "scheme": r.scheme,
        "trusted": r.trusted,
        "answer": r.answer,
        "http": _response_dict(r.http),
    }


def _response(raw, where: str) -> Response:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: an example response must be a table")
    unknown = set(raw) - RESPONSE_FIELDS
    if unknown:
        raise CatalogueError(f"{where}: unknown response field(s) {sorted(unknown)}")
    headers: list[tuple[str, str]] = []
    for name, value in raw.get("headers", {}).items():
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise CatalogueError(f"{where}: response header {name!r} must be a string or strings")
        headers += [(str(name), v) for v in values]
    status, scheme = raw.get("status", 200), raw.get("scheme", "http")
    if not isinstance(status, int) or not 100 <= status <= 599 or scheme not in ("http", "https"):
        raise CatalogueError(f"{where}: response status must be 100-599, scheme http or https")
    return Response(
        status=status,
        headers=tuple(headers),
        body=str(raw.get("body", "")),
        scheme=scheme,
        trusted=bool(raw.get("trusted", True)),
        answer=bool(raw.get("answer", True)),
        http=_response(raw["http"], where) if "http" in raw else None,
    )


def _example(raw, where: str) -> Example:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: each example must be a table")
    unknown = set(raw) - EXAMPLE_FIELDS
    if unknown:
        raise CatalogueError(f"{where}: unknown example field(s) {sorted(unknown)}")
    expect = raw.get("expect")
    if expect not in EXPECTS:
        raise CatalogueError(f"{where}: example 'expect' must be one of {', '.join(EXPECTS)}")
    return Example(
        expect=expect,
        files=_pairs(raw.get("files", {}), where, "files"),
        modes=_pairs(raw.get("modes", {}), where, "modes"),
        links=_pairs(raw.get("links", {}), where, "links"),
        environment=raw.get("environment"),
        note=str(raw.get("note", "")),
        response=_response(raw["response"], where) if "response" in raw else None,
        profile=raw.get("profile"),
    )


def parse_rule(raw: dict, where: str) -> Rule:
    if not isinstance(raw, dict):
        raise CatalogueError(f"{where}: a rule must be a table")
    rid = raw.get("id", "?")
    where = f"{where} rule {rid}"
    unknown = set(raw) - RULE_FIELDS
    if unknown:
        raise CatalogueError(f"{where}: unknown field(s) {sorted(unknown)}")
    missing = [f for f in REQUIRED if f not in raw or raw[f] in ("", None)]
    if missing:
        raise CatalogueError(f"{where}: missing field(s) {missing}")
    if not ID_PATTERN.match(str(rid)):
        raise CatalogueError(f"{where}: id must be an area prefix and 3 digits, e.g. PRM001")
    if not NAME_PATTERN.match(str(raw["name"])):
        raise CatalogueError(f"{where}: name must be kebab-case")
    try:
        severity = Severity.parse(str(raw["severity"]))
    except ValueError:
        raise CatalogueError(f"{where}: unknown severity {raw['severity']!r}") from None
    refs = raw["references"]
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise CatalogueError(f"{where}: references must be a list of strings")
    examples = tuple(_example(e, where) for e in raw.get("example", []))
    no_examples = str(raw.get("no-examples", ""))
    kinds = {e.expect == "pass" for e in examples}
    if not no_examples and kinds != {True, False}:
        raise CatalogueError(
            f"{where}: needs a passing example and one that is not a pass "
            "(or 'no-examples' saying why it cannot have them)"
        )
    for key in ("title", "owner", "expected", "rollback", "rationale", "bypass", "audit"):
        if not isinstance(raw[key], str):
            raise CatalogueError(f"{where}: {key} must be a string")
    upstream = raw.get("upstream", [])
    return Rule(
        id=str(rid),
        name=str(raw["name"]),
        audit=raw["audit"],
        title=raw["title"],
        severity=severity,
        owner=raw["owner"],
        expected=raw["expected"].strip(),
        rollback=raw["rollback"].strip(),
        rationale=raw["rationale"].strip(),
        bypass=raw["bypass"].strip(),
        references=tuple(refs),
        examples=examples,
        no_examples=no_examples,
        upstream=tuple(upstream),
    )


def load_catalogue_from(directory: Path) -> Catalogue:
    rules: list[Rule] = []
    seen_ids: dict[str, str] = {}
    seen_names: dict[str, str] = {}
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise CatalogueError(f"no rule files found in {directory}")
    for path in files:
        try:
            data = _toml.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, _toml.TOMLDecodeError) as exc:
            raise CatalogueError(f"{path.name}: cannot be read: {exc}") from None
        unknown = set(data) - {"rule"}
        if unknown:
            raise CatalogueError(f"{path.name}: unknown top-level key(s) {sorted(unknown)}")
        for raw in data.get("rule", []):
            rule = parse_rule(raw, path.name)
            if rule.id in seen_ids:
                raise CatalogueError(
                    f"{path.name}: duplicate rule id {rule.id} (also in {seen_ids[rule.id]})"
                )
            if rule.name in seen_names:
                raise CatalogueError(
                    f"{path.name}: duplicate rule name {rule.name} "
                    f"(also in {seen_names[rule.name]})"
                )
            seen_ids[rule.id] = path.name
            seen_names[rule.name] = path.name
            rules.append(rule)
    return Catalogue(rules)


@lru_cache(maxsize=1)
def load_catalogue() -> Catalogue:
    return load_catalogue_from(rules_dir())
