"""The terminal checklist, drawn with rich.

Every string from the target was escaped by `safetext.safe` when its finding was made,
and is added here as plain `Text` (never parsed as markup), so neither ANSI sequences
nor rich markup in a file name can reach the terminal. Colour only on a terminal and
never with NO_COLOR or --no-color; no box-drawing at all, so piped output stays plain.
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import textwrap
from collections import Counter
from typing import IO

from rich.console import Console
from rich.text import Text

from ..model import SEVERITY_ORDER, Finding, Severity, Status, gate_label
from ..safetext import safe
from . import RenderOptions
from .model import Report, grade

SYMBOLS = {Status.PASS: "✔", Status.FAIL: "✘", Status.SKIP: "–", Status.ERROR: "!"}
ASCII = {Status.PASS: "ok", Status.FAIL: "X", Status.SKIP: "-", Status.ERROR: "!"}
STYLE = {Status.PASS: "green", Status.FAIL: "bold red", Status.SKIP: "dim", Status.ERROR: "yellow"}
SEVERITY_STYLE = {
    Severity.CRITICAL: "bold magenta",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
    Severity.INFO: "dim",
}
AUDIT_LABEL = {"core": "configuration"}
COUNT_ORDER = (Status.FAIL, Status.ERROR, Status.SKIP, Status.PASS)
DETAIL_INDENT = 14
PIPE_WIDTH = 160


def _pipe_width() -> int:
    """COLUMNS when the caller sets it (a CI log viewer's width, `COLUMNS=80 … | less`),
    else PIPE_WIDTH: long lines for logs and files."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return PIPE_WIDTH
    return max(40, min(columns, 1000))


def make_console(stream: IO[str], *, color: bool | None = None) -> Console:
    """A terminal gets its own width and colour; a pipe or file gets long plain lines."""
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    console = Console(
        file=stream,
        no_color=color is False,
        width=None if is_tty else _pipe_width(),
        highlight=False,
        emoji=False,
        markup=False,
    )
    # Measured once: otherwise rich asks the terminal for its size on every print, which
    # was a large part of drawing a checklist of thousands of items.
    console.size = console.size
    return console


def _symbols(stream: IO[str]) -> dict[Status, str]:
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
    return SYMBOLS if encoding.startswith("utf") else ASCII


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# a sentence ends at ". " unless the word before is an abbreviation ("e.g. ", "i.e. ")
_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)\.\s")


def _first_sentence(text: str) -> str:
    line = _first_line(text)
    match = _SENTENCE_END.search(line)
    return line[: match.start() + 1] if match else line


class ConsoleRenderer:
    def __init__(self, stream: IO[str], options: RenderOptions | None = None):
        self.options = options or RenderOptions()
        self.console = make_console(stream, color=self.options.color)
        self.symbols = _symbols(stream)
        self.quiet = self.options.quiet
        self.verbose = self.options.verbose
        self.report: Report | None = None
        self.services = 0  # how many services the findings name
        self.explained: set[str] = set()  # rules whose expected/rollback were printed

    def item(self, f: Finding) -> None:
        line = Text("  ")
        line.append(self.symbols[f.status], STYLE[f.status])
        line.append(" ")
        if f.status is Status.FAIL:
            line.append(f"{f.severity.value.upper():<8}", SEVERITY_STYLE[f.severity])
        else:
            line.append(f"{f.status.value:<8}", STYLE[f.status])
        line.append(f" {f.rule_id} ", "bold")
        state = self.report.baseline_state(f) if self.report is not None else None
        if state:
            line.append(f"[{state}] ", "dim" if state == "known" else "bold yellow")
        if f.status is Status.PASS:
            # a passing item reads as what was checked, not as the failure's title
            line.append(f"{f.title}: ", "dim")
            line.append(f.message)
            self.hanging(line, DETAIL_INDENT)
            return
        line.append(f.title)
        # a tree of one service names it once, in the header
        where = f.location.display(service=self.services != 1)
        if where != "-":
            line.append(f"  {where}", "blue")
        self.hanging(line, DETAIL_INDENT)
        self.detail("", f.message)
        if f.status is Status.FAIL and not self.quiet:
            if f.rule_id in self.explained:
                self.detail("owner", f"{f.owner} · expected and rollback as above ({f.rule_id})")
                return
            self.explained.add(f.rule_id)
            self.detail("expected", _first_line(f.expected))
            self.detail("owner", f.owner)
            self.detail("rollback", _first_sentence(f.rollback))

    def hanging(self, line: Text, indent: int) -> None:
        """A headline wrapped with a hanging indent: continuation lines start under the
        text, not at column 0 (rich wraps back to the margin)."""
        width = self.console.width
        if line.cell_len <= width:
            self.console.print(line)
            return
        lines = line.wrap(self.console, max(width - indent, 20))
        for i, part in enumerate(lines):
            part.rstrip()
            self.console.print(part if i == 0 else Text(" " * indent) + part)

    def detail(self, label: str, value: str) -> None:
        """An indented line wrapped with a hanging indent (textwrap: rich pads wrapped
        lines with trailing spaces, which litters logs)."""
        prefix = f"{label}: " if label else ""
        pad = " " * DETAIL_INDENT
        wrapped = textwrap.fill(
            prefix + value,
            width=max(self.console.width, DETAIL_INDENT + 20),
            initial_indent=pad,
            subsequent_indent=pad,
            break_on_hyphens=False,
        )
        text = Text(wrapped)
        if prefix:
            text.stylize("dim", DETAIL_INDENT, DETAIL_INDENT + len(prefix))
        self.console.print(text, soft_wrap=True)

    def render(self, report: Report) -> None:
        """Default: the summary, then every failure most severe first across audits, then
        errors, then a line per audit. --verbose: every item grouped by audit, with its
        timing and what it read, then the summary. --quiet: failures and errors only."""
        self.report = report
        named = {f.location.service for f in report.findings if f.location.service}
        self.services = len(named)
        self.header(report, next(iter(named)) if len(named) == 1 else None)
        if self.verbose:
            self.by_audit(report)
            self.suppressed(report)
            self.summary(report)
            return
        self.summary(report)
        fails = self.options.shown([f for f in report.findings if f.status is Status.FAIL])
        order = {a.name: i for i, a in enumerate(report.audits)}
        fails.sort(key=lambda f: (-f.severity.rank, order.get(f.audit, len(order)), f.sort_key()))
        # failures in test code are information: counted in one line, listed with -v
        in_tests = [f for f in fails if f.location.test_code and f.severity is Severity.INFO]
        listed = [f for f in fails if not (f.location.test_code and f.severity is Severity.INFO)]
        self.section(f"failures, most severe first ({len(fails)})", listed)
        if in_tests:
            rules = Counter(f.rule_id for f in in_tests)
            each = ", ".join(f"{rule} ×{n}" for rule, n in rules.most_common())
            line = Text(
                f"  … and {len(in_tests)} in test code, at info ({each}): -v lists them", "dim"
            )
            self.hanging(line, 4)
        errors = [f for f in report.findings if f.status is Status.ERROR]
        self.section(f"errors: not audited ({len(errors)})", errors)
        if not self.quiet:
            self.audit_lines(report)
            self.suppressed(report)
            self.console.print()
            self.verdict(report)

    def header(self, report: Report, service: str | None) -> None:
        header = Text("hardcheck ", "bold")
        header.append(report.tool_version)
        header.append(f" · {report.target}")
        if service:
            header.append(f" · service {service}")
        config = report.config.get("file")
        header.append(
            f" · environment {report.config.get('environment')} · fail-on {gate_label(report.fail_on)}"
            + f" · config {safe(os.path.basename(config)) if config else 'none (defaults)'}",
            "dim",
        )
        self.hanging(header, 2)
        inv = report.inventory
        inv_line = Text(
            f"inventory: {inv['files']} files ({inv['content_files']} content)"
            f" listed by {inv['source']}"
            f", {inv['excluded']} excluded",
            "dim",
        )
        self.hanging(inv_line, 2)
        if inv.get("note"):
            self.console.print(Text(f"note: {inv['note']}", "yellow"))

    def section(self, title: str, items: list[Finding]) -> None:
        if not items:
            return
        self.console.print()
        self.console.print(Text(title, "bold underline"))
        for f in items:
            self.item(f)

    def audit_lines(self, report: Report) -> None:
        """One line per audit: how it ended, its counts and what it did not check."""
        self.console.print()
        self.console.print(Text("audits", "bold underline"))
        width = max((len(AUDIT_LABEL.get(a.name, a.name)) for a in report.audits), default=0)
        for a in report.audits:
            line = Text("  ")
            line.append(f"{self.symbols[a.status]} ", STYLE[a.status])
            line.append(f"{AUDIT_LABEL.get(a.name, a.name):<{width}}  ", "bold")
            line.append(f"{a.status.value:<5}  ", STYLE[a.status])
            counts = ", ".join(
                f"{a.counts[s.value]} {s.value}" for s in COUNT_ORDER if a.counts.get(s.value)
            )
            line.append(counts or "no items")
            if a.message:
                line.append(f" · {a.message}", "yellow" if a.status is Status.ERROR else "dim")
            self.hanging(line, 4)

    def by_audit(self, report: Report) -> None:
        c = self.console
        groups: dict[str, list[Finding]] = {}
        for f in self.options.shown(report.findings):
            groups.setdefault(f.audit, []).append(f)
        summaries = {a.name: a for a in report.audits}
        for name in [*summaries, *(g for g in groups if g not in summaries)]:
            items = groups.get(name, [])
            summary = summaries.get(name)
            c.print()
            title = Text(AUDIT_LABEL.get(name, name), "bold underline")
            if summary is not None:
                title.append(" ")
                title.append(
                    f"{self.symbols[summary.status]} {summary.status.value}", STYLE[summary.status]
                )
                title.append(f"  ({summary.duration_seconds:.2f}s)", "dim")
                if summary.message:
                    title.append(f"  {summary.message}", "yellow")
            self.hanging(title, 2)
            if summary is not None:
                self.inputs(summary.stats)
            for f in items:
                self.item(f)

    def inputs(self, stats: dict[str, int]) -> None:
        """What an audit read, from its stats (`from_cache`: the whole result was kept)."""
        read = ", ".join(
            f"{k.replace('_', ' ')} {v}"
            for k, v in sorted(stats.items())
            if k not in ("from_cache", "worker_process")
        )
        if stats.get("from_cache"):
            read += " (the result of an earlier run of the same inputs, from the cache)"
        if read:
            self.detail("read", read.lstrip())

    def suppressed(self, report: Report) -> None:
        if not report.suppressed:
            return
        c = self.console
        c.print()
        c.print(Text("suppressed", "bold underline"))
        for s in report.suppressed:
            line = Text(f"  {s.finding.rule_id} {s.finding.location.display()}  ", "dim")
            line.append(f"reason: {s.reason}")
            if s.expires:
                line.append(f" (until {s.expires})", "dim")
            c.print(line)

    def summary(self, report: Report) -> None:
        c = self.console
        counts = report.counts()
        by_status = counts["by_status"]
        sev = ", ".join(f"{n} {s}" for s, n in counts["failing_by_severity"].items() if n)
        value = report.score
        broken = _unfinished(report)
        c.print()
        line = Text("summary: ", "bold")
        line.append(f"{by_status['fail']} fail", STYLE[Status.FAIL] if by_status["fail"] else "")
        if sev:
            line.append(f" ({sev})")
        line.append(
            f", {by_status['error']} error, {by_status['skip']} skip, {by_status['pass']} pass"
        )
        if counts["suppressed"]:
            line.append(f", {counts['suppressed']} suppressed")
        if counts["in_test_code"]:
            line.append(f" · {counts['in_test_code']} of the fails in test code, at info")
        line.append(f" · score {value}/100 ({grade(value)})")
        if broken:
            # errors do not lower the score, so say that it covers only what was audited
            line.append(f" · incomplete ({broken}): it scores only what was audited", "yellow")
        self.hanging(line, 2)
        stale = report.stale_vuln_db()
        if stale is not None:
            warning = Text(
                f"warning: the vulnerability database is {stale[0]} days old (max-db-age "
                f"{stale[1]}): advisories since are unknown; run `hardcheck db update`",
                "bold yellow",
            )
            self.hanging(warning, 2)
        hidden = len(report.findings) - len(self.options.shown(report.findings))
        if hidden:
            shown = ",".join(
                s.value
                for s in reversed(SEVERITY_ORDER)
                if s.value in (self.options.severities or ())
            )
            note = f"{hidden} failure(s) of other severities not shown (--severity {shown})"
            self.hanging(Text(note, "dim"), 2)
        if report.baseline is not None:
            known = sum(1 for f in report.findings if report.baseline_state(f) == "known")
            c.print(
                Text(
                    f"baseline {report.baseline.file}: {known} known, {len(report.fixed)} fixed since",
                    "dim",
                )
            )
        self.verdict(report)

    def verdict(self, report: Report) -> None:
        code = report.exit_code
        new = "new " if report.baseline is not None else ""
        broken = _unfinished(report)
        if code == 1:
            verdict = Text(
                f"result: FAIL — {len(report.failing)} {new}finding(s) at or above "
                f"{gate_label(report.fail_on)} (exit 1)",
                "bold red",
            )
        elif code == 3:
            verdict = Text(
                f"result: INCOMPLETE — could not finish: {broken} (exit 3)", "bold yellow"
            )
        elif report.fail_on is None:
            verdict = Text(
                "result: PASS — --fail-on never: findings do not fail the run (exit 0)",
                "bold green",
            )
        else:
            verdict = Text(
                f"result: PASS — nothing {new}at or above {report.fail_on.value} (exit 0)",
                "bold green",
            )
        self.hanging(verdict, 2)


def _unfinished(report: Report) -> str:
    return ", ".join(a.name for a in report.audits if a.status is Status.ERROR)


def draw(report: Report, stream: IO[str], options: RenderOptions) -> None:
    """The checklist on a stream: a terminal gets its width and colour."""
    ConsoleRenderer(stream, options).render(report)


class _Text(io.StringIO):
    encoding = "utf-8"  # what write_atomic writes: the checklist keeps its symbols


def render(report: Report, options: RenderOptions) -> str:
    """The checklist as plain text (console:FILE)."""
    out = _Text()
    draw(report, out, dataclasses.replace(options, color=False))
    return out.getvalue()
