"""bandit as a library, in worker processes: one BanditManager per chunk of files.

Only plain records leave a worker: location, test id and name, severity, confidence,
CWE and bandit's one-line issue text — never the `code` excerpt bandit attaches (it is
read from neighbouring lines and can hold a secret).
"""

from __future__ import annotations

import ast
import dataclasses
import json
import logging
import os
import re
import threading
import tokenize
import types
from dataclasses import dataclass, field
from typing import Any

from ...cache import digest_bytes
from ...readers.pyast import PARSE_LOCK

_STATE: dict[str, Any] = {}


@dataclass(frozen=True)
class BanditOptions:
    config_file: str = ""  # the target's pyproject.toml when it has [tool.bandit]
    tests: tuple[str, ...] = ()
    skips: tuple[str, ...] = ()
    baseline: str = ""  # JSON text of a bandit baseline, paths already rebased to absolute


@dataclass
class Issue:
    rel: str
    line: int
    test_id: str
    test_name: str
    severity: str
    confidence: str
    cwe: int
    text: str


@dataclass
class BanditResult:
    issues: list[Issue] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    loc: int = 0
    nosec: int = 0
    baseline_known: int = 0


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def redact(text: str) -> str:
    """bandit quotes the offending literal in some texts (B105-B107: "Possible hardcoded
    password: 'hunter2'"): drop every quoted span before the text leaves the worker."""
    return _QUOTED.sub("'<redacted>'", text)


def profile_for(options: BanditOptions) -> dict[str, set[str]]:
    """bandit's CLI turns `tests`/`skips` into a profile; the manager alone ignores them."""
    tests, skips = set(options.tests), set(options.skips)
    if options.config_file:
        from bandit.core import config as b_config

        conf = b_config.BanditConfig(options.config_file)
        tests |= set(conf.get_option("tests") or ())
        skips |= set(conf.get_option("skips") or ())
    return {"include": tests, "exclude": skips}


class _NosecTokenize:
    """Stands in for the `tokenize` module inside bandit's manager. bandit tokenizes every
    file (pure Python: a tenth of its time on Django) only to collect `# nosec` comments
    (its NOSEC_COMMENT regex is case-sensitive); a file without the text "nosec" has none,
    so it gets an empty token stream — the nosec map bandit builds is the same."""

    COMMENT = tokenize.COMMENT
    TokenError = tokenize.TokenError

    @staticmethod
    def tokenize(readline):
        handle = readline.__self__  # bandit passes `fdata.readline`, fdata at offset 0
        data = handle.read()
        handle.seek(0)
        return tokenize.tokenize(readline) if b"nosec" in data else iter(())


# per thread: the trees bandit parsed and has not let go of (the main process runs bandit
# in its pool thread and, on a small tree, in the code audit's)
_PARSED = threading.local()


def _locked_parse(*args: Any, **kwargs: Any) -> ast.AST:
    _let_go()  # bandit is done with the previous file's tree when it parses the next
    with PARSE_LOCK:
        tree = ast.parse(*args, **kwargs)
    _PARSED.tree = tree
    return tree


def _let_go() -> None:
    """Take apart the trees bandit parsed. Its visitor links every node to its parent and
    sibling, so each tree is one large cycle, and on CPython 3.11 some of them were never
    collected at all (measured: a worker kept about one tree in ten, growing with every
    chunk). Without the links and the module's body, reference counting frees them at once."""
    tree = getattr(_PARSED, "tree", None)
    _PARSED.tree = None
    if tree is not None:
        for node in ast.walk(tree):
            node.__dict__.pop("_bandit_parent", None)
            node.__dict__.pop("_bandit_sibling", None)
        if isinstance(tree, ast.Module):
            tree.body = []


def _locked_ast() -> types.ModuleType:
    """Stands in for the `ast` module inside bandit's node visitor: a copy of it whose
    `parse` (one per file) holds hardcheck's PARSE_LOCK, as every parse in a process with
    audit threads must (the run's main process is one of its workers), and takes the
    previous file's tree apart. A copy, not a proxy: the visitor reads `ast.AST` and
    `ast.iter_fields` for every node."""
    module = types.ModuleType("ast")
    module.__dict__.update(vars(ast))
    module.parse = _locked_parse  # type: ignore[attr-defined]
    return module


def init_worker(options: BanditOptions) -> None:
    logging.getLogger("bandit").setLevel(logging.ERROR)  # also keeps rich's progress bar off stdout
    from bandit.core import config as b_config
    from bandit.core import manager as b_manager
    from bandit.core import node_visitor as b_node_visitor

    if getattr(b_manager, "tokenize", None) is tokenize:
        b_manager.tokenize = _NosecTokenize
    if getattr(b_node_visitor, "ast", None) is ast:
        b_node_visitor.ast = _locked_ast()

    _STATE["options"] = options
    _STATE["config"] = b_config.BanditConfig(options.config_file or None)
    _STATE["profile"] = profile_for(options)


def _digest(path: str) -> str | None:
    try:
        with open(path, "rb") as fh:
            return digest_bytes(fh.read())
    except OSError:
        return None


def scan_chunk(root: str, rels: list[str]) -> list[tuple[str, str | None, BanditResult]]:
    """One BanditManager over a chunk; each file's own result (and the digest of its bytes,
    taken just before bandit reads them) for the result cache."""
    from bandit.core import manager as b_manager

    options: BanditOptions = _STATE["options"]
    mgr = b_manager.BanditManager(_STATE["config"], "file", profile=_STATE["profile"])
    by_abs = {os.path.join(root, rel): rel for rel in rels}
    digests = {rel: _digest(path) for path, rel in by_abs.items()}
    mgr.files_list = sorted(by_abs)
    if options.baseline:
        mgr.populate_baseline(options.baseline)
    try:
        mgr.run_tests()
    finally:
        _let_go()
    per_file = {rel: BanditResult() for rel in rels}

    def of(fname: str) -> BanditResult:
        return per_file.setdefault(by_abs.get(fname, fname), BanditResult())

    issues = list(mgr.get_issue_list())  # with a baseline, a dict {new issue: [candidates]}
    for issue in mgr.results:
        of(issue.fname).baseline_known += 1
    for issue in issues:
        result = of(issue.fname)
        result.baseline_known -= 1
        result.issues.append(
            Issue(
                rel=by_abs.get(issue.fname, issue.fname),
                line=issue.lineno,
                test_id=issue.test_id,
                test_name=issue.test,
                severity=issue.severity,
                confidence=issue.confidence,
                cwe=getattr(issue.cwe, "id", 0) or 0,
                text=redact(issue.text),
            )
        )
    for fname, reason in mgr.get_skipped():
        of(fname).skipped.append((by_abs.get(fname, fname), reason))
    for path, rel in by_abs.items():
        metrics = mgr.metrics.data.get(path, {})
        result = per_file[rel]
        result.loc = int(metrics.get("loc", 0))
        # bare `# nosec` counts as nosec, `# nosec B602` as skipped_tests: both are suppressions
        result.nosec = int(metrics.get("nosec", 0)) + int(metrics.get("skipped_tests", 0))
    return [(rel, digests.get(rel), result) for rel, result in per_file.items()]


def encode_result(result: BanditResult) -> dict[str, Any]:
    return dataclasses.asdict(result)


def decode_result(data: dict[str, Any]) -> BanditResult:
    return BanditResult(
        issues=[Issue(**i) for i in data["issues"]],
        skipped=[(str(a), str(b)) for a, b in data["skipped"]],
        loc=int(data["loc"]),
        nosec=int(data["nosec"]),
        baseline_known=int(data["baseline_known"]),
    )


def rebase_baseline(text: str, root: str) -> str:
    """bandit matches baseline issues on `filename` exactly; make them absolute like ours."""
    data = json.loads(text)
    for item in data.get("results", []):
        name = str(item.get("filename", ""))
        item["filename"] = os.path.join(root, os.path.normpath(name))
    return json.dumps(data)
