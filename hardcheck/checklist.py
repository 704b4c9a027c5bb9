"""From what an audit returned to its checklist: every rule of the audit gets an item.

A rule with findings keeps them. A rule without is a `pass` only when the audit looked at
something for it and nothing it needed was unreadable; it is a `skip` that says why when
the audit says the rule does not apply or nothing was there to look at; and any rule that
needed an input it could not read gets an `error` item naming that input, whatever else
it found, so the run is incomplete (exit 3) rather than silently partial.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace

from .audits.base import AuditContext, AuditOutput, Coverage, PathTest
from .model import Finding, Location, Status

SHOWN_PATHS = 3


def describe(kinds: Mapping[str, int]) -> str:
    """{"Python file": 12, "layer (nginx)": 1} -> "12 Python file(s), 1 layer(s) (nginx)"."""
    parts = []
    for kind, n in kinds.items():
        noun, paren, detail = kind.partition(" (")
        parts.append(f"{n} {noun}(s)" + (f" ({detail}" if paren else ""))
    return ", ".join(parts)


def _unread_message(unread: Mapping[str, str], looked: Mapping[str, int] | None) -> str:
    shown = "; ".join(f"{path} ({why})" for path, why in list(unread.items())[:SHOWN_PATHS])
    more = f"; and {len(unread) - SHOWN_PATHS} more" if len(unread) > SHOWN_PATHS else ""
    read = f"; it checked only {describe(looked)}" if looked else "; it checked nothing else"
    return f"could not read {len(unread)} input(s) this rule needs: {shown}{more}{read}"


def charge_inventory_problems(
    coverage: Coverage, problems: list[tuple[str, str]], inputs: Mapping[str, PathTest]
) -> None:
    """Paths the inventory could not list or stat, charged to the rules that read them."""
    for path, why in problems:
        whole_directory = why.startswith("cannot list")
        for rule, reads in inputs.items():
            if whole_directory or reads(path):
                coverage.could_not_read(rule, path, why)


def checklist(
    ctx: AuditContext, output: AuditOutput, inputs: Mapping[str, PathTest]
) -> list[Finding]:
    coverage = Coverage()
    coverage.update(output.coverage)
    charge_inventory_problems(coverage, ctx.inventory.problems, inputs)
    statuses: dict[str, set[Status]] = {}
    for f in output.findings:
        statuses.setdefault(f.rule_id, set()).add(f.status)
    findings = list(output.findings)
    for rule in ctx.catalogue.for_audit(ctx.audit):
        seen = statuses.get(rule.id, set())
        looked = coverage.looked.get(rule.id)
        unread = coverage.unread.get(rule.id)
        if Status.PASS in seen and not looked:
            # a pass the audit cannot show it looked for is a bug, never a pass
            findings = [
                replace(f, status=Status.ERROR, message=f"{f.message} [no coverage recorded]")
                if f.rule_id == rule.id and f.status is Status.PASS
                else f
                for f in findings
            ]
        if unread:
            findings.append(
                ctx.finding(rule.id, Status.ERROR, _unread_message(unread, looked), key="unread")
            )
            continue
        if seen:
            continue
        if rule.id in coverage.not_applicable:
            findings.append(ctx.skipped(rule.id, coverage.not_applicable[rule.id]))
        elif looked:
            findings.append(ctx.finding(rule.id, Status.PASS, f"checked {describe(looked)}"))
        else:
            findings.append(
                ctx.skipped(rule.id, "nothing to check: the tree holds no input this rule reads")
            )
    return findings


def headline(findings: list[Finding], note: str) -> str:
    """The audit's one-line summary: its note, and how many of its checks ran when some
    did not (with why)."""
    by_rule: dict[str, set[Status]] = {}
    for f in findings:
        if not f.rule_id.startswith("RUN"):  # hardcheck's own items about inputs, not checks
            by_rule.setdefault(f.rule_id, set()).add(f.status)
    skipped = {rule for rule, s in by_rule.items() if s == {Status.SKIP}}
    parts = [note] if note else []
    if skipped and len(skipped) < len(by_rule):
        # the rule-level reasons (a skip of one file has a location; it says why elsewhere)
        reasons = Counter(
            f.message
            for f in findings
            if f.rule_id in skipped and f.status is Status.SKIP and f.location == Location()
        )
        why = "; ".join(f"{n}× {r}" if n > 1 else r for r, n in reasons.most_common(3))
        parts.append(
            f"{len(by_rule) - len(skipped)} of {len(by_rule)} checks ran; "
            f"{len(skipped)} did not" + (f" ({why})" if why else "")
        )
    return "; ".join(parts)
