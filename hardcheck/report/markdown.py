"""Markdown for PR comments and CI job summaries: a compact summary, then per audit the
failures and errors with collapsible details. Target-derived text is escaped so a file
name cannot inject links, images or HTML."""

from __future__ import annotations

import html
import re

from ..model import Finding, Status, gate_label
from . import RenderOptions
from .model import Report, grade

_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+!|~])")
ICON = {Status.PASS: "✅", Status.FAIL: "❌", Status.SKIP: "➖", Status.ERROR: "⚠️"}


def html_text(text: str) -> str:
    """For text inside HTML tags: escaped, brackets too, so nothing can read as a link."""
    return html.escape(text).replace("[", "&#91;").replace("]", "&#93;")


def md(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("\n", " ")


# GitHub's limit for a PR comment or a job summary; RESERVED keeps room for the trailer
MAX_CHARS = 65_536
RESERVED = 4_096


def catalogue_md(text: str) -> str:
    """Catalogue text is ours, written as Markdown (`code` spans): only HTML is escaped."""
    return html.escape(text, quote=False).replace("\n", " ")


def _item(f: Finding) -> list[str]:
    where = html_text(f.location.display())  # inside HTML, Markdown escapes would show
    block = [
        f"<details><summary>{ICON[f.status]} <b>{f.severity.value.upper()}</b> {f.rule_id} "
        f"{html_text(f.title)} — <code>{where}</code></summary>",
        "",
        f"- {md(f.message)}",
    ]
    if f.status is Status.FAIL:
        block.append(f"- **expected:** {catalogue_md(f.expected)}")
        block.append(f"- **owner:** {md(f.owner)} · **rollback:** {catalogue_md(f.rollback)}")
    return [*block, "", "</details>"]


def render(report: Report, options: RenderOptions) -> str:
    counts = report.counts()
    by_status = counts["by_status"]
    value = report.score
    verdict = {0: "PASS", 1: "FAIL", 3: "INCOMPLETE"}[report.exit_code]
    lines = [
        f"## hardcheck: {verdict} — score {value}/100 ({grade(value)})",
        "",
        f"`{md(report.target)}` · fail-on **{gate_label(report.fail_on)}** · "
        f"{by_status['fail']} fail, {by_status['error']} error, {by_status['skip']} skip, {by_status['pass']} pass"
        + (f", {counts['suppressed']} suppressed" if counts["suppressed"] else ""),
        "",
        "| audit | status | fail | error | score |",
        "|---|---|---|---|---|",
    ]
    for a in report.audits:
        lines.append(
            f"| {a.name} | {ICON[a.status]} {a.status.value} | {a.counts['fail']} | {a.counts['error']} | {a.score} |"
        )
    size = sum(len(line) + 1 for line in lines)
    left_out = 0
    for a in report.audits:
        items = options.shown(
            [
                f
                for f in report.findings
                if f.audit == a.name and f.status in (Status.FAIL, Status.ERROR)
            ]
        )
        if not items:
            continue
        heading = ["", f"### {a.name}", ""]
        for f in items:
            block = _item(f)
            cost = sum(len(line) + 1 for line in (*heading, *block))
            if size + cost > MAX_CHARS - RESERVED:
                left_out += 1
                continue
            lines += [*heading, *block]
            size += cost
            heading = []
    if left_out:
        lines += [
            "",
            f"> **{left_out} more failing or error items are not shown**: a pull-request "
            f"comment holds {MAX_CHARS:,} characters. See the JSON report artifact.",
        ]
    if report.suppressed:
        lines += ["", "### suppressed", ""]
        for s in report.suppressed:
            lines.append(
                f"- {s.finding.rule_id} `{md(s.finding.location.display())}` — {md(s.reason)}"
                + (f" (until {s.expires})" if s.expires else "")
            )
    return "\n".join(lines) + "\n"
