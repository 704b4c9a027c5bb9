"""The headers audit: does the running service send the headers and cookie flags a
hardened service sends — and does its configuration promise them?

Live: each URL the user named (--url, or [headers] urls) is fetched with httpx under
hard bounds (see hardcheck.audits.headers.fetch), its https URLs' http:// twin is fetched to check
the redirect, and one more request with a foreign Origin checks CORS. Every check is a
named outcome with an Observatory-style modifier; each URL gets a score and grade.
Static: Django settings, Flask session-cookie config and nginx add_header. Where both
exist, promises the configuration makes and the live response breaks are reported.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from ... import __version__
from ...inventory import ReadSkipped, path_spec, read_text
from ...model import Finding, Location, Severity, Status
from ...readers.appfiles import DEFAULT_DEVELOPMENT_PATHS, settings_like_path
from ...readers.pyast import SourceError, parse_source
from ...services.model import is_nginx_candidate
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest, Rules
from .checks import FOREIGN_ORIGIN, Result, check_all, check_tls, grade
from .fetch import Fetched, fetch
from .static import (
    StaticFindings,
    aiohttp_session,
    django_settings,
    flask_config,
    nginx_headers,
    production_django_settings,
)

# What each rule reads: live responses, or the configuration in the tree.
LIVE_RULES = (*(f"HDR{n:03d}" for n in range(1, 17)), "HDR017", "HDR019")
TLS, FETCHED, PROMISES = "HDR013", "HDR018", "HDR024"
STRICT_ONLY = ("HDR015", "HDR016")
DJANGO, FLASK, AIOHTTP_SESSION = "HDR020", "HDR021", "HDR025"
APP_RULES = (DJANGO, FLASK, AIOHTTP_SESSION)
NGINX_RULES = ("HDR022", "HDR023")


def http_twin(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port and parts.port != 443:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(("http", netloc, parts.path or "/", parts.query, ""))


class HeadersAudit(Audit):
    name = "headers"
    config_schema: ClassVar[dict[str, Any]] = {
        "urls": {"type": "array", "items": {"type": "string"}},
        "profile": {"enum": ["default", "strict"]},
        "insecure": {"type": "boolean", "description": "do not verify TLS (the report says so)"},
        "ca-file": {"type": "string", "description": "extra CA bundle (PEM) to trust"},
        "concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
        "timeout": {
            "type": "number",
            "exclusiveMinimum": 0,
            "description": "seconds per URL, all requests included",
        },
        "max-redirects": {"type": "integer", "minimum": 0, "maximum": 30},
        "request-headers": {
            "type": "object",
            "additionalProperties": {"type": "string"},
            "description": "sent, never reported",
        },
        "http-twin": {
            "type": "boolean",
            "description": "also fetch http:// for https URLs (default true)",
        },
    }

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return {**dict.fromkeys(APP_RULES, _python_file), **dict.fromkeys(NGINX_RULES, _conf_file)}

    def memo_reads(self, ctx: AuditContext) -> PathTest | None:
        # with no URL it judges the tree alone
        if ctx.config.urls or ctx.options.get("urls"):
            return None
        return _static_reads

    def memo_relevant(self, rel: str, data: bytes) -> bool:
        # read_static skips, unparsed, modules without these markers; a settings module or
        # an entry point can still change which settings production loads without one
        if not rel.endswith(".py"):
            return True
        base = rel.rsplit("/", 1)[-1]
        if settings_like_path(rel) or base in ("manage.py", "wsgi.py", "asgi.py"):
            return True
        return any(m in data for m in STATIC_MARKERS)

    def run(self, ctx: AuditContext) -> AuditOutput:
        opts = ctx.options
        urls = list(dict.fromkeys([*ctx.config.urls, *opts.get("urls", [])]))
        strict = opts.get("profile", "default") == "strict"
        findings: list[Finding] = []
        cov = Coverage()
        static = self.read_static(ctx, cov)
        for r in static.results:
            findings.append(
                ctx.fail(
                    r.rule,
                    r.message,
                    Location(path=r.path, line=r.line, setting=r.setting),
                    severity=Severity(r.severity) if r.severity else None,
                    key=r.key,
                )
            )
        answered: list[str] = []  # URLs that answered: the live rules looked at these
        if urls:
            if opts.get("insecure"):
                ctx.note = "TLS certificates were NOT verified (insecure mode)"
            fetched = asyncio.run(self.fetch_all(ctx, urls, strict, static))
            for url, (ok, url_findings) in zip(urls, fetched):
                if ok:
                    answered.append(url)
                findings += url_findings
        ctx.stats["urls"] = len(urls)
        self.live_coverage(cov, urls, answered, strict, static)
        return AuditOutput(findings, cov)

    @staticmethod
    def live_coverage(
        cov: Coverage, urls: list[str], answered: list[str], strict: bool, static: StaticFindings
    ) -> None:
        cov.saw(FETCHED, "URL", len(urls))
        if not urls:
            cov.skip((*LIVE_RULES, FETCHED, PROMISES), "no URL given (--url URL or [headers] urls)")
            return
        if not answered:
            cov.skip(
                (*LIVE_RULES, PROMISES), f"none of the {len(urls)} URL(s) could be audited (HDR018)"
            )
            return
        unanswered = len(urls) - len(answered)
        kind = (
            f"URL (of {len(urls)}; {unanswered} could not be audited, HDR018)"
            if unanswered
            else "URL"
        )
        cov.saw(LIVE_RULES, kind, len(answered))
        https = [u for u in answered if u.lower().startswith("https://")]
        if https:
            cov.saw(TLS, "https URL", len(https))
        else:
            cov.skip(TLS, "no https URL answered: there is no TLS to check")
        if not strict:
            cov.skip(STRICT_ONLY, "checked only with --headers-profile strict")
        if static.promises:
            cov.saw(PROMISES, "configured header", len(static.promises))
        else:
            cov.skip(PROMISES, "no header promised by the configuration found in the tree")

    # --- static ----------------------------------------------------------------------------------
    def read_static(self, ctx: AuditContext, cov: Coverage) -> StaticFindings:
        out = StaticFindings()
        dev = path_spec(DEFAULT_DEVELOPMENT_PATHS)
        production = ctx.services.django  # the settings production loads, if the tree says
        if production is not None and not production.confident:
            production = None  # only manage.py's default names it: judge each module
        for entry in ctx.inventory.files():
            if not entry.rel.endswith(".py") or entry.size == 0:
                continue
            try:
                text = read_text(ctx.inventory, entry, ctx.config.max_file_size)
            except ReadSkipped as exc:
                if not exc.deliberate:
                    cov.could_not_read(APP_RULES, entry.display, str(exc))
                continue  # deliberate skips are the permissions and secrets audits' items
            if not any(m in text for m in STATIC_TEXT_MARKERS):
                continue
            try:
                tree = parse_source(text.encode("utf-8"), entry.display)
            except SourceError as exc:
                cov.could_not_read(APP_RULES, entry.display, str(exc))
                continue
            development = ctx.environment == "development" or dev.match_file(entry.rel)
            if production is None or entry.rel not in production.chain:
                # a settings module outside the chain production loads is not loaded there
                not_loaded = production is not None and settings_like_path(entry.rel)
                django_settings(tree, entry.display, out, development or not_loaded)
            # each walks the whole tree: only where its name is in the text (a Flask call
            # and an aiohttp_session import cannot be written without it)
            if "Flask" in text:
                flask_config(tree, entry.display, out)
            if "aiohttp_session" in text:
                aiohttp_session(tree, entry.display, out)
        if production is not None:
            production_django_settings(production, out)
        for path, why in ctx.services.unreadable:
            if is_nginx_candidate(path):
                cov.could_not_read(NGINX_RULES, path, why)
        for path, why in ctx.services.settings_problems():
            cov.could_not_read(DJANGO, path, why)
        for cfg in ctx.services.nginx.configs:
            nginx_headers(cfg, out)
        checked: list[tuple[Rules, int, str]] = [
            (DJANGO, out.django_modules, "Django settings module"),
            (FLASK, out.flask_apps, "Flask app"),
            (AIOHTTP_SESSION, out.aiohttp_sessions, "aiohttp_session storage"),
            (NGINX_RULES, out.nginx_configs, "nginx config"),
        ]
        for rules, count, kind in checked:
            cov.saw(rules, kind, count)
            if not count:
                cov.skip(rules, f"not applicable: no {kind} found")
        return out

    # --- live ------------------------------------------------------------------------------------
    async def fetch_all(
        self, ctx: AuditContext, urls: list[str], strict: bool, static: StaticFindings
    ) -> list[tuple[bool, list[Finding]]]:
        """Per URL, in the order given: whether it answered, and its findings."""
        from ...httpximport import without_cli

        without_cli()
        import httpx

        opts = ctx.options
        context = (
            ssl.create_default_context(cafile=opts.get("ca-file"))
            if opts.get("ca-file")
            else ssl.create_default_context()
        )
        if opts.get("insecure"):
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        concurrency = int(opts.get("concurrency", 10))
        deadline = float(opts.get("timeout", 20))
        hops = int(opts.get("max-redirects", 10))
        extra = dict(opts.get("request-headers", {}))
        private = frozenset(extra)
        twin_on = opts.get("http-twin", True)
        client_options: dict[str, Any] = dict(
            verify=context,
            trust_env=False,  # no proxies, no .netrc credentials
            follow_redirects=False,
            timeout=httpx.Timeout(min(10.0, deadline), connect=min(5.0, deadline)),
            # a worker's own requests: the URL, its redirect targets and its http twin
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            headers={
                "User-Agent": f"hardcheck/{__version__}",
                "Accept": "text/html,*/*;q=0.8",
                "Accept-Encoding": "gzip, deflate",
            },
        )
        todo: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        for item in enumerate(urls):
            todo.put_nowait(item)
        done: list[tuple[bool, list[Finding]]] = [(False, [])] * len(urls)

        async def worker() -> None:
            # One client per worker rather than one shared pool: httpcore's pool
            # bookkeeping is quadratic in its connections and waiting requests, and
            # was most of the CPU time of auditing many URLs.
            async with httpx.AsyncClient(**client_options) as client:
                while not todo.empty():
                    index, url = todo.get_nowait()
                    done[index] = await one(client, url)

        async def one(client: httpx.AsyncClient, url: str) -> tuple[bool, list[Finding]]:
            # The main request carries a foreign Origin (as the Observatory's does), so
            # its answer also shows whether CORS reflects arbitrary origins.
            main = await fetch(
                client,
                url,
                headers={**extra, "Origin": FOREIGN_ORIGIN},
                deadline=deadline,
                max_hops=hops,
                private=private,
            )
            twin = None
            if main.final is not None and twin_on and url.lower().startswith("https://"):
                # without the user's headers: they were meant for https only
                twin = await fetch(client, http_twin(url), deadline=deadline, max_hops=hops)
            # judged at once, so a long URL list does not hold every page body
            judged = self.url_findings(ctx, url, main, twin, strict, static)
            return main.final is not None, judged

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(urls)))))
        return done

    def url_findings(
        self,
        ctx: AuditContext,
        url: str,
        main: Fetched,
        twin: Fetched | None,
        strict: bool,
        static: StaticFindings,
    ) -> list[Finding]:
        loc = Location(url=url)
        if main.error:
            if main.error_kind == "tls":
                return [self.result(ctx, url, r) for r in check_tls(main)]
            return [
                ctx.finding(
                    "HDR018",
                    Status.ERROR,
                    f"{url} could not be audited: {main.error}",
                    loc,
                    key=url,
                )
            ]
        # the CORS probe rides on the main request (it carries a foreign Origin)
        results = check_all(url, main, twin, main, strict)
        if main.body_note:
            ctx.stats["bodies_truncated"] += 1
        out = [self.result(ctx, url, r) for r in results]
        score, letter = grade(results)
        penalties = (
            ", ".join(f"{r.outcome} {r.modifier}" for r in results if r.modifier < 0) or "none"
        )
        out.append(
            ctx.finding(
                "HDR017",
                Status.PASS if letter.startswith("A") else Status.FAIL,
                f"score {score}, grade {letter} (penalties: {penalties})"
                + (f"; page checks saw a partial body: {main.body_note}" if main.body_note else ""),
                Location(url=url, setting=f"grade {letter}"),
                severity=Severity.INFO,
                evidence=f"score {score} grade {letter}",
                key=url,
            )
        )
        assert main.final is not None  # no error: it answered
        final_headers = main.final.headers
        for promise in static.promises:
            if promise.header not in final_headers:
                out.append(
                    ctx.fail(
                        "HDR024",
                        f"{promise.source} config promises {promise.header}, but {url} does not send it",
                        Location(
                            path=promise.path, line=promise.line, url=url, setting=promise.header
                        ),
                        key=f"{url}|{promise.header}|{promise.path}",
                    )
                )
        return out

    def result(self, ctx: AuditContext, url: str, r: Result) -> Finding:
        status = {"pass": Status.PASS, "fail": Status.FAIL, "skip": Status.SKIP}[r.status]
        severity = Severity(r.severity) if r.severity and status is Status.FAIL else None
        return ctx.finding(
            r.rule,
            status,
            r.message,
            Location(url=url, setting=r.outcome),
            severity=severity,
            evidence=r.evidence or r.outcome,
            key=f"{url}|{r.outcome}|{r.key}",
        )


# A module without one of these holds no Django, Flask or aiohttp_session settings
STATIC_TEXT_MARKERS = ("MIDDLEWARE", "INSTALLED_APPS", "Flask(", "Storage(")
STATIC_MARKERS = tuple(m.encode() for m in STATIC_TEXT_MARKERS)


def _static_reads(rel: str) -> bool:
    # every file: an nginx config may include files of any name, and start files
    # (Procfile, Dockerfile, units …) name the settings production loads; memo_relevant
    # keeps Python modules that hold no settings out of the key
    return True


def _python_file(rel: str) -> bool:
    return rel.endswith(".py")


def _conf_file(rel: str) -> bool:
    return rel.endswith(".conf")
