"""Config suppressions, failing closed.

A suppression hides matching `fail` findings only while it has a reason and has not
expired. One without a reason, one past its expiry date, and one that matches nothing
suppress nothing and are themselves reported. `error` and `skip` items are never
suppressed: an audit that could not look must stay visible.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass

from .catalogue import Catalogue
from .config import Suppression
from .inventory import ReadSkipped, path_spec, read_path
from .model import Finding, Location, Status, SuppressedFinding, SuppressionOutcome
from .safetext import safe

NO_REASON, UNUSED, EXPIRED = "CFG001", "CFG002", "CFG003"
CORE = "core"  # the audit name of findings about hardcheck's own configuration


@dataclass(frozen=True)
class SuppressionResult:
    kept: list[Finding]
    suppressed: list[SuppressedFinding]
    outcomes: list[SuppressionOutcome]
    problems: list[Finding]


def _matches(s: Suppression, rule_id: str, finding: Finding, spec) -> bool:
    if finding.rule_id != rule_id or finding.status is not Status.FAIL:
        return False
    if spec is None:
        return True
    return finding.location.path is not None and spec.match_file(finding.location.path)


def apply_suppressions(
    findings: list[Finding],
    suppressions: tuple[Suppression, ...],
    catalogue: Catalogue,
    audits_run: set[str],
    owners: dict[str, str],
    today: dt.date,
) -> SuppressionResult:
    suppressed: list[SuppressedFinding] = []
    outcomes: list[SuppressionOutcome] = []
    problems: list[Finding] = []
    hidden: set[int] = set()

    def problem(rule_id: str, s: Suppression, message: str) -> Finding:
        return catalogue.finding(
            rule_id,
            audit=CORE,
            status=Status.FAIL,
            message=message,
            location=Location(setting=f"suppress[{s.index}]"),
            owners=owners,
            evidence=f"rule={s.rule} path={s.path or '*'}",
            key=f"{s.rule}|{s.path or ''}",
        )

    for s in suppressions:
        rule = catalogue.find(s.rule)
        rule_id = rule.id if rule else s.rule
        spec = path_spec([s.path]) if s.path else None
        matching = [i for i, f in enumerate(findings) if _matches(s, rule_id, f, spec)]
        expires = s.expires.isoformat() if s.expires else None
        if not s.reason:
            state = "no-reason"
            problems.append(
                problem(
                    NO_REASON,
                    s,
                    f"suppression of {rule_id} has no reason, so it suppresses nothing "
                    f"({len(matching)} finding(s) stay reported)",
                )
            )
        elif s.expires and s.expires < today:
            state = "expired"
            problems.append(
                problem(
                    EXPIRED,
                    s,
                    f"suppression of {rule_id} expired on {expires}; the {len(matching)} "
                    "finding(s) it hid are reported again",
                )
            )
        elif not matching:
            state = "unused"
            if rule is None or rule.audit in audits_run:
                problems.append(
                    problem(UNUSED, s, f"suppression of {rule_id} matches no finding; remove it")
                )
        else:
            state = "active"
            for i in matching:
                if i not in hidden:
                    hidden.add(i)
                    suppressed.append(SuppressedFinding(findings[i], s.reason, expires, "config"))
        outcomes.append(SuppressionOutcome(s.rule, s.path, s.reason, expires, state, len(matching)))
    kept = [f for i, f in enumerate(findings) if i not in hidden]
    return SuppressionResult(kept, suppressed, outcomes, problems)


INLINE = re.compile(r"hardcheck:\s*ignore\[([A-Za-z0-9_,\s-]+)\]\s*(.*)$")


INLINE_MAX_READ = 4 * 1024 * 1024


def _inline_comments(
    findings: list[Finding], root
) -> dict[tuple[str | None, int | None], re.Match[str]]:
    """The inline-ignore comments on the lines of failing findings, reading each file once
    and keeping only those lines (a tree with thousands of findings held every line of
    every file that had one)."""
    wanted: dict[str, set[int]] = {}
    for f in findings:
        if f.status is Status.FAIL and f.location.path and f.location.line:
            wanted.setdefault(f.location.path, set()).add(f.location.line)
    found: dict[tuple[str | None, int | None], re.Match[str]] = {}
    for path, numbers in wanted.items():
        try:
            data = read_path(os.path.join(root, path), INLINE_MAX_READ)
        except ReadSkipped:  # a FIFO, a link, a file too large: no inline ignore in it
            continue
        if b"hardcheck" not in data:
            continue
        lines = data.decode("utf-8", "replace").splitlines()
        for number in numbers:
            match = INLINE.search(lines[number - 1]) if number <= len(lines) else None
            if match:
                found[(path, number)] = match
    return found


def apply_inline_ignores(
    findings: list[Finding], root, catalogue: Catalogue, owners: dict[str, str]
) -> SuppressionResult:
    """`# hardcheck: ignore[RULE] reason` on the line of a failing finding suppresses it.
    Without a reason it suppresses nothing and is reported (CFG001), like a config one."""
    comments = _inline_comments(findings, root)
    kept: list[Finding] = []
    suppressed: list[SuppressedFinding] = []
    problems: list[Finding] = []
    for f in findings:
        loc = f.location
        match = comments.get((loc.path, loc.line)) if f.status is Status.FAIL else None
        if not match:
            kept.append(f)
            continue
        names = {n.strip() for n in match.group(1).split(",") if n.strip()}
        rules = {r.id for n in names if (r := catalogue.find(n)) is not None}
        if f.rule_id not in rules:
            kept.append(f)
            continue
        reason = match.group(2).strip().strip("#").strip()
        if not reason:
            kept.append(f)
            problems.append(
                catalogue.finding(
                    NO_REASON,
                    audit=CORE,
                    status=Status.FAIL,
                    message=f"inline ignore of {f.rule_id} has no reason, so it suppresses nothing",
                    location=Location(path=loc.path, line=loc.line),
                    owners=owners,
                    key=f"inline:{f.rule_id}",
                )
            )
            continue
        suppressed.append(SuppressedFinding(f, safe(reason[:200]), None, "inline"))
    return SuppressionResult(kept, suppressed, [], problems)
