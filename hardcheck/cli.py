"""The `hardcheck` command line (click). Engines and the pipeline are imported inside
the commands that need them, so `--version`, `rules` and `explain` start fast."""

from __future__ import annotations

import difflib
import json
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .catalogue import Response

from . import __version__
from .config import MAX_JOBS, MAX_TIMEOUT

EXIT_USAGE = 2
SEVERITIES = ("critical", "high", "medium", "low", "info")
ENVIRONMENTS = ("production", "staging", "development")

AUDIT_HELP = """Audit the service tree at PATH (default: the current directory).

\b
Examples:
  hardcheck audit .
  hardcheck audit deploy/ --environment staging --fail-on medium
  hardcheck audit . --format json --output report.json   # checklist on screen, JSON to file
  hardcheck audit . --format json:report.json --format console
  hardcheck audit . --only permissions --quiet

\b
Exit codes:
  0  complete, nothing at or above --fail-on
  1  findings at or above --fail-on
  2  usage or configuration error (nothing audited)
  3  incomplete: an audit errored, and nothing at or above --fail-on
"""


def fail_usage(message: str) -> None:
    # escaped here, not by click: click strips ANSI only when stderr is not a terminal,
    # and these messages quote config keys and values from the audited tree
    from .safetext import safe

    click.echo(f"hardcheck: error: {safe(message)}", err=True)
    sys.exit(EXIT_USAGE)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(
    __version__, "--version", prog_name="hardcheck", message="%(prog)s %(version)s"
)
def main() -> None:
    """hardcheck: one security-hardening checklist for a Python web service.

    \b
    Start with:
      hardcheck audit .          run every audit on this tree
      hardcheck rules            list the rule catalogue
      hardcheck explain PRM002   one rule in full
      hardcheck init             write a starter hardcheck.toml
    """


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so the run stops like on Ctrl-C."""


def _terminated(signum, frame) -> None:
    raise Terminated()


def _progress(path: str):
    """A spinner on stderr while the audit runs, only when stderr is a terminal."""
    import contextlib

    if not sys.stderr.isatty():
        return contextlib.nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"hardcheck: auditing {path} …", spinner="dots")


LABEL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
RESERVED_LABELS = ("audit", "severity", "status")  # hardcheck's own series labels


def _labels(values: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or not LABEL_NAME.match(name) or name.startswith("__"):
            fail_usage(f"--label {item!r}: expected NAME=VALUE with a Prometheus label name")
        if name in RESERVED_LABELS:
            fail_usage(
                f"--label {name}: hardcheck's series already use it ({', '.join(RESERVED_LABELS)})"
            )
        out[name] = value
    return out


def _severity_filter(value: str | None) -> frozenset[str] | None:
    if not value:
        return None
    chosen = {v.strip().lower() for v in value.split(",") if v.strip()}
    unknown = sorted(chosen - set(SEVERITIES))
    if unknown or not chosen:
        fail_usage(
            f"--severity {value!r}: {'unknown ' + ', '.join(unknown) if unknown else 'nothing given'}; "
            f"allowed: {', '.join(SEVERITIES)} (comma-separated)"
        )
    return frozenset(chosen)


def _parse_formats(formats: tuple[str, ...], output: str | None) -> list[tuple[str, str | None]]:
    from .report import FORMATS

    parsed: list[tuple[str, str | None]] = []
    for value in formats or ("console",):
        name, _, path = value.partition(":")
        name = name.strip().lower()
        if name not in FORMATS:
            hint = difflib.get_close_matches(name, FORMATS, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            fail_usage(f"unknown format '{name}'{suggestion}; available: {', '.join(FORMATS)}")
        parsed.append((name, path or None))
    if output:
        open_slots = [i for i, (n, p) in enumerate(parsed) if n != "console" and p is None]
        if len(open_slots) != 1:
            fail_usage("--output needs exactly one non-console --format without a :FILE")
        i = open_slots[0]
        parsed[i] = (parsed[i][0], output)
    to_stdout = [n for n, p in parsed if n != "console" and p is None]
    if len(to_stdout) > 1 or (to_stdout and ("console", None) in parsed):
        fail_usage("only one format can go to standard output; give the others a :FILE")
    if ("console", None) not in parsed and not to_stdout:
        parsed.append(("console", None))  # files are written; the checklist stays on screen
    return parsed


# The flags that set one audit's option, each as its config table would: flag -> (audit,
# option). A new such flag is its click option plus one row here.
OPTION_FLAGS: dict[str, tuple[str, str]] = {
    "history": ("secrets", "history"),
    "vuln_db": ("dependencies", "vuln-db"),
    "environment_deps": ("dependencies", "environment-deps"),
    "headers_profile": ("headers", "profile"),
    "insecure": ("headers", "insecure"),
    "probe_uploads": ("uploads", "probe"),
}


def audit_options(flags: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The option flags given on the command line, as `hardcheck.audit(options=...)`."""
    out: dict[str, dict[str, Any]] = {}
    for flag, value in flags.items():
        if value is None or value is False or value == ():
            continue  # not given: the config file (or the default) decides
        audit_name, key = OPTION_FLAGS[flag]
        out.setdefault(audit_name, {})[key] = list(value) if isinstance(value, tuple) else value
    return out


@main.command("audit", help=AUDIT_HELP)
@click.argument("path", default=".", required=False)
@click.option(
    "--config",
    "-c",
    "config_file",
    metavar="FILE",
    help="hardcheck.toml or pyproject.toml to use.",
)
@click.option("--only", multiple=True, metavar="AUDIT,...", help="Run only these audits.")
@click.option("--skip", multiple=True, metavar="AUDIT,...", help="Do not run these audits.")
@click.option(
    "--fail-on",
    type=click.Choice((*SEVERITIES, "never"), case_sensitive=False),
    callback=lambda _ctx, _param, value: value.lower() if value else value,
    help="Lowest severity that fails the run [default: high]; never: findings never fail it "
    "(an incomplete run still exits 3).",
)
@click.option(
    "--severity",
    "severities",
    metavar="SEVERITY,...",
    callback=lambda _ctx, _param, value: _severity_filter(value),
    help="Show only failures of these severities in the checklist (console, Markdown, HTML); "
    "machine formats and the exit code keep every finding.",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even when findings fail the run or it is incomplete (usage errors still exit 2).",
)
@click.option(
    "--format",
    "-f",
    "formats",
    multiple=True,
    metavar="FORMAT[:FILE]",
    help="console (default), json, sarif, junit, markdown, openmetrics, html, codequality "
    "(GitLab Code Quality), gitlab-sast (GitLab security report); repeatable. "
    "FORMAT:FILE writes to FILE.",
)
@click.option("--output", "-o", metavar="FILE", help="File for the one non-console --format.")
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="NAME=VALUE",
    callback=lambda _ctx, _param, value: _labels(value),
    help="A label on every OpenMetrics series, repeatable: target=NAME replaces the audited "
    "path, service=NAME the service names of the tree.",
)
@click.option(
    "--environment",
    type=click.Choice(ENVIRONMENTS),
    help="What the tree is deployed as [default: production].",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True, max=MAX_TIMEOUT),
    help="Seconds each audit may take [default: 600].",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=1, max=MAX_JOBS),
    help="Worker processes for CPU-heavy audits, at most the usable cores [default: the usable cores].",
)
@click.option(
    "--history",
    type=click.IntRange(min=0),
    metavar="N",
    help="Also scan the last N commits for secrets since removed.",
)
@click.option(
    "--vuln-db",
    metavar="DIR",
    help="Offline OSV database (PyPA advisory-database layout) for the dependencies audit.",
)
@click.option(
    "--environment-deps",
    is_flag=True,
    help="Also audit the packages installed in this environment.",
)
@click.option(
    "--url",
    "urls",
    multiple=True,
    metavar="URL",
    help="A live URL for the headers audit (repeatable).",
)
@click.option(
    "--headers-profile",
    type=click.Choice(("default", "strict")),
    help="strict adds OWASP Secure Headers expectations.",
)
@click.option(
    "--insecure", is_flag=True, help="Do not verify TLS certificates (the report says so)."
)
@click.option(
    "--probe-uploads",
    multiple=True,
    metavar="URL",
    help="Opt-in: POST a body just over the expected limit to URL (bounded; repeatable).",
)
@click.option(
    "--trend",
    multiple=True,
    metavar="REPORT",
    help="Earlier JSON reports for the HTML report's score trend.",
)
@click.option(
    "--baseline",
    "baseline_file",
    metavar="FILE",
    help="Only findings not in this baseline count toward the exit code.",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Scan every file again; neither read nor write the result cache "
    "(HARDCHECK_NO_CACHE=1 does the same).",
)
@click.option(
    "--cache-dir",
    metavar="DIR",
    help="Result cache directory [default: the user cache directory, or HARDCHECK_CACHE_DIR].",
)
@click.option(
    "--quiet", "-q", is_flag=True, help="Show only the summary, failures and errors, briefly."
)
@click.option(
    "--verbose",
    "-v",
    is_flag=True,
    help="Show every item by audit (passes and skips too), with timings and what each read.",
)
@click.option("--no-color", is_flag=True, help="No colour (NO_COLOR is honoured too).")
@click.option(
    "--overwrite-in-target",
    is_flag=True,
    help="Let a report replace a file of the audited tree that is not a hardcheck report.",
)
def audit_command(
    path: str,
    config_file: str | None,
    only: tuple[str, ...],
    skip: tuple[str, ...],
    fail_on: str | None,
    formats: tuple[str, ...],
    output: str | None,
    environment: str | None,
    timeout: float | None,
    jobs: int | None,
    urls: tuple[str, ...],
    trend: tuple[str, ...],
    baseline_file: str | None,
    no_cache: bool,
    cache_dir: str | None,
    quiet: bool,
    verbose: bool,
    no_color: bool,
    overwrite_in_target: bool,
    exit_zero: bool,
    severities: frozenset[str] | None,
    labels: dict[str, str],
    **option_flags: Any,
) -> None:
    from .api import ARTIFACT_CACHE_NOTE, audit
    from .cache import NO_CACHE_NOTE
    from .catalogue import CatalogueError
    from .config import ConfigError
    from .report import RenderOptions, render_text
    from .report.output import output_problem, write_atomic

    for url in urls:
        if "://" not in url:
            fail_usage(f"--url {url!r} has no scheme (did you mean 'https://{url}'?)")
    outputs = _parse_formats(formats, output)
    for name, target in outputs:
        if target is not None:
            problem = output_problem(Path(path), Path(target), overwrite_in_target)
            if problem:
                fail_usage(f"--format {name}: {problem}")
    progress = _progress(path)
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        with progress:
            report = audit(
                path,
                config_file=config_file,
                only=only,
                skip=skip,
                fail_on=fail_on,
                environment=environment,
                timeout=timeout,
                jobs=jobs,
                urls=urls,
                options=audit_options(option_flags),
                baseline=baseline_file,
                cache=False if no_cache else None,
                cache_dir=cache_dir,
            )
    except (ConfigError, CatalogueError) as exc:
        fail_usage(str(exc))
        return
    except KeyboardInterrupt as exc:
        # Reports are rendered only after the audits finish, so nothing partial exists.
        # Worker pools may still be busy: leave without waiting for them.
        code = 143 if isinstance(exc, Terminated) else 130
        sys.stderr.write(
            f"hardcheck: interrupted ({'SIGTERM' if code == 143 else 'SIGINT'}); no report written\n"
        )
        sys.stderr.flush()
        if "hardcheck.pool" in sys.modules:  # worker processes were started
            sys.modules["hardcheck.pool"].kill_children()
        os._exit(code)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if config_file is None and Path(path).is_dir():
        from .config import shadowed_config
        from .safetext import safe

        ignored = shadowed_config(Path(path))
        if ignored is not None:
            click.echo(
                f"hardcheck: warning: {safe(str(ignored))}'s [tool.hardcheck] is ignored: "
                "hardcheck.toml beside it is the config (they are not merged)",
                err=True,
            )
    if report.cache and report.cache["note"] not in ("", NO_CACHE_NOTE, ARTIFACT_CACHE_NOTE):
        click.echo(f"hardcheck: warning: {report.cache['note']}", err=True)
    history = []
    if trend:
        from .fleet import load_report

        for earlier in trend:
            try:
                history.append(load_report(earlier))
            except ConfigError as exc:
                fail_usage(str(exc))
    color = False if (no_color or os.environ.get("NO_COLOR")) else None
    options = RenderOptions(
        history=history,
        color=color,
        quiet=quiet,
        verbose=verbose,
        severities=severities,
        labels=labels,
    )
    for name, target in outputs:
        if name == "console" and target is None:
            continue  # drawn last, on the terminal
        text = render_text(name, report, options)
        if target is None:
            sys.stdout.write(text)
            continue
        try:
            write_atomic(Path(target), text)
        except OSError as exc:
            fail_usage(f"cannot write the {name} report to {target}: {exc.strerror or exc}")
    if ("console", None) in outputs:
        from .report import console as console_renderer

        console_renderer.draw(report, sys.stdout, options)
    sys.exit(0 if exit_zero else report.exit_code)


@main.group("db")
def db_group() -> None:
    """The offline vulnerability database the dependencies audit reads."""


@db_group.command("update")
@click.option(
    "--dir",
    "directory",
    metavar="DIR",
    help="Where to keep it [default: the user data directory; HARDCHECK_DATA_DIR moves it].",
)
@click.option(
    "--from",
    "source",
    metavar="URL",
    help="OSV's PyPI export to fetch [default: $HARDCHECK_OSV_DB_URL, else OSV's all.zip].",
)
@click.option("--timeout", type=float, default=120.0, show_default=True, help="Seconds.")
def db_update_command(directory: str | None, source: str | None, timeout: float) -> None:
    """Fetch OSV's PyPI advisories, check the archive, and swap it in atomically.

    \b
    The database in place stays as it was when the download is truncated or the archive
    is not a well-formed OSV export. Once installed, `hardcheck audit` checks pinned
    dependencies against it by default (no --vuln-db needed) and says its age.
    """
    from .audits.dependencies import dbupdate

    target = Path(directory) if directory else dbupdate.default_db_dir()
    url = source or os.environ.get(dbupdate.URL_ENV) or dbupdate.DEFAULT_URL
    problem = dbupdate.url_problem(url)
    if problem:
        fail_usage(f"db update {problem}")  # a usage error: nothing is created
    try:
        done = dbupdate.update(target, url, timeout)
    except dbupdate.UpdateError as exc:
        from .safetext import safe

        click.echo(
            f"hardcheck: db update failed: {safe(str(exc))} (the database in place is unchanged)",
            err=True,
        )
        sys.exit(1)
    click.echo(
        f"hardcheck: installed {done.records} OSV records (newest {done.newest}) from "
        f"{done.source} into {done.path}"
    )


@main.group("cache")
def cache_group() -> None:
    """The result cache (per-file engine results, keyed by content)."""


@cache_group.command("clear")
@click.option("--cache-dir", metavar="DIR", help="The cache directory to clear.")
def cache_clear(cache_dir: str | None) -> None:
    """Remove every cached result."""
    from .cache import clear

    try:
        where, count = clear(Path(cache_dir) if cache_dir else None)
    except OSError as exc:
        fail_usage(f"cannot clear the cache: {exc.strerror or exc}")
        return
    click.echo(f"cleared {where}: {count} cached result(s) removed")


@main.group("baseline")
def baseline_group() -> None:
    """Baselines: gate CI only on findings that are new."""


@baseline_group.command("create")
@click.argument("path", default=".", required=False)
@click.option(
    "--output", "-o", metavar="FILE", default="hardcheck-baseline.json", show_default=True
)
@click.option("--config", "config_file", metavar="FILE")
@click.option("--only", multiple=True, metavar="AUDIT,...")
@click.option("--skip", multiple=True, metavar="AUDIT,...")
@click.option("--vuln-db", metavar="DIR")
def baseline_create(
    path: str, output: str, config_file: str | None, only, skip, vuln_db: str | None
) -> None:
    """Audit PATH and write the fingerprints of its failing findings to FILE.

    \b
    Then, in CI:
      hardcheck audit . --baseline hardcheck-baseline.json
    """
    from . import baseline
    from .api import audit
    from .config import ConfigError
    from .report.output import write_atomic

    try:
        report = audit(
            path,
            config_file=config_file,
            only=only,
            skip=skip,
            options=audit_options({"vuln_db": vuln_db}),
        )
    except ConfigError as exc:
        fail_usage(str(exc))
        return
    try:
        write_atomic(Path(output), baseline.create(report))
    except OSError as exc:
        fail_usage(f"cannot write {output}: {exc.strerror or exc}")
    fails = sum(1 for f in report.findings if f.status.value == "fail")
    click.echo(f"wrote {output}: {fails} failing finding(s) baselined")


@main.command("diff")
@click.argument("old")
@click.argument("new")
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="high",
    show_default=True,
    help="Exit 1 when a new finding is at or above this.",
)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True
)
def diff_command(old: str, new: str, fail_on: str, fmt: str) -> None:
    """New, fixed and changed findings between two JSON reports.

    \b
    Example:
      hardcheck diff last-night.json tonight.json --fail-on medium
    """
    from .config import ConfigError
    from .fleet import diff, load_report, new_at_or_above, where
    from .model import Severity
    from .safetext import safe

    try:
        result = diff(load_report(old), load_report(new))
    except ConfigError as exc:
        fail_usage(str(exc))
        return
    gate = new_at_or_above(result, Severity(fail_on))
    if fmt == "json":
        click.echo(json.dumps(result, indent=2))
    else:
        old_score, new_score = result["old"]["score"], result["new"]["score"]
        moved = [a for a in result["audits"] if a["old"] != a["new"]]
        per_audit = ", ".join(f"{a['name']} {a['old']} -> {a['new']}" for a in moved)
        click.echo(f"score {old_score} -> {new_score}" + (f" ({per_audit})" if per_audit else ""))
        for title, key in (("new", "new_findings"), ("fixed", "fixed_findings")):
            click.echo(f"{title}: {len(result[key])}")
            for f in result[key]:
                click.echo(
                    f"  {f['severity']:<8} {f['rule_id']} {where(f['location'])}: {f['message'][:100]}"
                )
        click.echo(f"changed: {len(result['changed_findings'])}")
        for c in result["changed_findings"]:
            what = "; ".join(f"{k} {v[0]!r} -> {v[1]!r}" for k, v in c["changes"].items())
            click.echo(f"  {c['rule_id']} {where(c['location'])}: {safe(what)[:160]}")
    sys.exit(1 if gate else 0)


@main.command("merge")
@click.argument("reports", nargs=-1, required=True)
@click.option(
    "--output", "-o", metavar="FILE", help="Write the fleet report here (default: standard output)."
)
@click.option(
    "--format",
    "-f",
    "fmt",
    type=click.Choice(("json", "html")),
    default="json",
    show_default=True,
    help="json (its schema: hardcheck schema fleet) or html (a row per service, drill-down).",
)
def merge_command(reports: tuple[str, ...], output: str | None, fmt: str) -> None:
    """Merge many services' JSON reports into one fleet report for dashboards.

    \b
    A report given twice (the same target and run id) counts once.
    Example:
      hardcheck merge reports/*.json -o fleet.json
      hardcheck merge reports/*.json -f html -o fleet.html
    """
    from .config import ConfigError
    from .fleet import load_report, merge
    from .report.output import write_atomic

    try:
        fleet = merge([load_report(r) for r in reports])
    except ConfigError as exc:
        fail_usage(str(exc))
        return
    if fmt == "html":
        from .report.fleet_html import render

        text = render(fleet)
    else:
        text = json.dumps(fleet, indent=2) + "\n"
    if output:
        try:
            write_atomic(Path(output), text)
        except OSError as exc:
            fail_usage(f"cannot write {output}: {exc.strerror or exc}")
        dup = fleet["summary"]["duplicates"]
        click.echo(
            f"wrote {output}: {fleet['summary']['services']} service(s)"
            + (f"; {dup} duplicate report(s) counted once" if dup else "")
        )
    else:
        sys.stdout.write(text)


@main.command("services")
@click.argument("path", default=".", required=False)
@click.option("--format", "fmt", type=click.Choice(("table", "json")), default="table")
@click.option(
    "--config", "config_file", metavar="FILE", help="hardcheck.toml or pyproject.toml to use."
)
def services_command(path: str, fmt: str, config_file: str | None) -> None:
    """Show how PATH is deployed, as the audits see it: start commands, the proxy in front.

    Environment values are shown only for settings that are never secret."""
    from .api import discover
    from .config import ConfigError
    from .services import describe

    try:
        model = discover(path, config_file=config_file)
    except ConfigError as exc:
        fail_usage(str(exc))
        return
    if fmt == "json":
        click.echo(json.dumps(describe.to_dict(model), indent=2))
    else:
        click.echo(describe.table(model), nl=False)


@main.command("rules")
@click.option(
    "--format", "fmt", type=click.Choice(("table", "json")), default="table", show_default=True
)
@click.option("--audit", "audit_name", metavar="AUDIT", help="Only this audit's rules.")
def rules_command(fmt: str, audit_name: str | None) -> None:
    """List the rule catalogue.

    \b
    Examples:
      hardcheck rules
      hardcheck rules --audit permissions --format json
    """
    from .catalogue import load_catalogue

    rules = [r for r in load_catalogue() if not audit_name or r.audit == audit_name]
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rules], indent=2))
        return
    from rich.table import Table

    from .report.console import make_console

    table = Table(box=None, pad_edge=False, show_edge=False)
    for col in ("id", "name", "audit", "severity", "owner", "title"):
        table.add_column(col, no_wrap=col != "title")
    for r in rules:
        table.add_row(r.id, r.name, r.audit, r.severity.value, r.owner, r.title)
    make_console(sys.stdout).print(table)


@main.command("explain")
@click.argument("rule_id")
def explain_command(rule_id: str) -> None:
    """Show one rule in full: what, why, expected state, rollback, bypass, examples.

    RULE_ID may be an id (PRM002), a name (secret-file-readable) or an upstream id.
    """
    from .audits import outcomes_of
    from .catalogue import load_catalogue

    catalogue = load_catalogue()
    rule = catalogue.find(rule_id)
    if rule is None:
        known = [r.id for r in catalogue] + [r.name for r in catalogue]
        hint = difflib.get_close_matches(rule_id, known, n=1)
        suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
        fail_usage(f"no rule '{rule_id}'{suggestion}; see `hardcheck rules`")
        return
    sections = [
        f"{rule.id} {rule.name}  [{rule.audit}, {rule.severity.value}, owner: {rule.owner}]",
        rule.title,
        "",
        "Why it matters:",
        _indent(rule.rationale),
        "",
        "Expected (passing) state:",
        _indent(rule.expected),
        "",
        "Rollback (undoing the fix safely):",
        _indent(rule.rollback),
        "",
        "When it does not apply / is skipped:",
        _indent(rule.bypass),
    ]
    for example in rule.examples:
        sections += [
            "",
            f"Example that should {example.expect.upper()}:"
            + (f" ({example.note})" if example.note else ""),
        ]
        for name, content in example.files:
            sections.append(f"  --- {name}")
            sections.append(_indent(content.rstrip("\n"), 6))
        for name, mode in example.modes:
            sections.append(f"  mode {mode} on {name}")
        for name, target in example.links:
            sections.append(f"  symlink {name} -> {target}")
        if example.response is not None:
            sections += _response_lines(example.response, example.profile)
    if rule.no_examples:
        sections += ["", f"Examples: none ({rule.no_examples})"]
    outcomes = outcomes_of(rule.audit, rule.id)
    if outcomes:
        sections += ["", "Named outcomes (verdict, score modifier, severity):"]
        width = max(len(name) for name, _ in outcomes)
        for name, o in outcomes:
            severity = o.severity or (rule.severity.value if o.status == "fail" else "")
            strict = (
                f"; strict profile: {o.strict[0]} {o.strict[1] or ''}".rstrip() if o.strict else ""
            )
            sections.append(
                f"  {name:<{width}}  {o.status:<4} {o.modifier:>+4}  {severity:<6}  {o.description}{strict}"
            )
    if rule.references:
        sections += ["", "References:", *(f"  - {ref}" for ref in rule.references)]
    click.echo("\n".join(sections))


def _response_lines(r: Response, profile: str | None) -> list[str]:
    """A live rule's example: what the URL answers."""
    how = f"{r.scheme}" + ("" if r.trusted else ", certificate not trusted")
    how += f", {profile} profile" if profile else ""
    if not r.answer:
        return [f"  --- the URL ({how}) closes the connection without answering"]
    lines = [f"  --- the URL ({how}) answers", f"      HTTP {r.status}"]
    lines += [f"      {name}: {value}" for name, value in r.headers]
    if r.body:
        lines.append(f"      (body) {r.body}")
    if r.http is not None:
        lines.append(f"      its http:// twin answers HTTP {r.http.status}")
        lines += [f"      {name}: {value}" for name, value in r.http.headers]
    return lines


def _indent(text: str, width: int = 2) -> str:
    pad = " " * width
    return "\n".join(pad + line if line else line for line in text.splitlines())


@main.command("init")
@click.argument("directory", default=".", required=False)
@click.option(
    "--pyproject", is_flag=True, help="Append a [tool.hardcheck] section to pyproject.toml."
)
@click.option("--stdout", "to_stdout", is_flag=True, help="Print the starter config instead.")
def init_command(directory: str, pyproject: bool, to_stdout: bool) -> None:
    """Write a commented starter config: hardcheck.toml, or a [tool.hardcheck] section.

    Never overwrites: refuses when the directory already has hardcheck configuration.

    \b
    Examples:
      hardcheck init
      hardcheck init --pyproject
      hardcheck init --pyproject --stdout
    """
    from .config import find_config_file
    from .starter import STARTER_CONFIG, as_pyproject

    text = as_pyproject() if pyproject else STARTER_CONFIG
    if to_stdout:
        click.echo(text, nl=False)
        return
    root = Path(directory)
    if not root.is_dir():
        fail_usage(f"not a directory: {directory}")
    existing, _ = find_config_file(root)
    if existing is not None:
        fail_usage(f"{existing} already holds hardcheck configuration; not overwriting it")
    target = root / ("pyproject.toml" if pyproject else "hardcheck.toml")
    try:
        if pyproject:
            with open(target, "a", encoding="utf-8") as fh:
                fh.write(("\n" if fh.tell() else "") + text)
        else:
            with open(target, "x", encoding="utf-8") as fh:
                fh.write(text)
    except FileExistsError:
        fail_usage(f"{target} exists; not overwriting it")
    except OSError as exc:
        fail_usage(f"cannot write {target}: {exc.strerror}")
    click.echo(f"wrote {target}; edit it, then run: hardcheck audit {directory}")


@main.command("schema")
@click.argument(
    "kind", type=click.Choice(("report", "config", "fleet")), default="report", required=False
)
def schema_command(kind: str) -> None:
    """Print the JSON Schema of the JSON report (default), the configuration, or the fleet
    report `hardcheck merge` writes."""
    if kind in ("report", "fleet"):
        from .report import FLEET_SCHEMA_PATH, schema_text

        text = schema_text() if kind == "report" else FLEET_SCHEMA_PATH.read_text(encoding="utf-8")
        click.echo(text, nl=False)
        return
    from . import audits
    from .config import core_schema

    click.echo(json.dumps(core_schema(audits.ConfigSchemas()), indent=2))


if __name__ == "__main__":  # pragma: no cover
    main()
