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
from ...readers import nginx
from ...readers.appfiles import DEFAULT_DEVELOPMENT_PATHS
from ...readers.pyast import SourceError, parse_source
from ..base import Audit, AuditContext
from .checks import FOREIGN_ORIGIN, Result, check_all, check_tls, grade
from .fetch import Fetched, fetch
from .static import StaticFindings, django_settings, flask_config, nginx_headers

LIVE_RULES = {f"HDR{n:03d}" for n in range(1, 20)}
STATIC_RULES = {"HDR020", "HDR021", "HDR022", "HDR023"}
STRICT_ONLY = {"HDR015", "HDR016"}


def http_twin(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.hostname or ""
    if parts.port and parts.port != 443:
        netloc = f"{netloc}:{parts.port}"
    return urlunsplit(("http", netloc, parts.path or "/", parts.query, ""))


class HeadersAudit(Audit):
    name = "headers"
    description = (
        "security headers, cookies, CORS, redirects and TLS of live URLs; header settings in config"
    )
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

    def run(self, ctx: AuditContext) -> list[Finding]:
        opts = ctx.options
        self.urls = list(dict.fromkeys([*ctx.config.urls, *opts.get("urls", [])]))
        self.strict = opts.get("profile", "default") == "strict"
        findings: list[Finding] = []
        self.static = self.read_static(ctx, findings)
        for r in self.static.results:
            findings.append(
                ctx.fail(
                    r.rule,
                    r.message,
                    Location(path=r.path, line=r.line, setting=r.setting),
                    severity=Severity(r.severity) if r.severity else None,
                    key=r.key,
                )
            )
        self.audited: list[str] = []  # URLs that answered: the live rules looked at these
        if self.urls:
            if opts.get("insecure"):
                ctx.note = "TLS certificates were NOT verified (insecure mode)"
            for url, (answered, url_findings) in zip(self.urls, asyncio.run(self.fetch_all(ctx))):
                if answered:
                    self.audited.append(url)
                findings += url_findings
        ctx.stats["urls"] = len(self.urls)
        return self.summarise(ctx, findings)

    # --- static ----------------------------------------------------------------------------------
    def read_static(self, ctx: AuditContext, findings: list[Finding]) -> StaticFindings:
        out = StaticFindings()
        dev = path_spec(DEFAULT_DEVELOPMENT_PATHS)
        nginx_candidates = []
        for entry in ctx.inventory.files():
            if not entry.rel.endswith((".py", ".conf")) or entry.size == 0:
                continue
            try:
                text = read_text(ctx.inventory, entry, ctx.config.max_file_size)
            except ReadSkipped:
                continue  # the permissions and secrets audits report unreadable files
            if entry.rel.endswith(".conf"):
                nginx_candidates.append((entry.rel, text))
                continue
            if not any(m in text for m in ("MIDDLEWARE", "INSTALLED_APPS", "Flask(")):
                continue
            try:
                tree = parse_source(text.encode("utf-8"), entry.display)
            except SourceError:
                continue  # reported by the permissions audit
            development = ctx.environment == "development" or dev.match_file(entry.rel)
            django_settings(tree, entry.display, out, development)
            flask_config(tree, entry.display, out)
        for cfg in nginx.load_tree(ctx.root, nginx_candidates):
            nginx_headers(cfg, out)
        return out

    # --- live ------------------------------------------------------------------------------------
    async def fetch_all(self, ctx: AuditContext) -> list[tuple[bool, list[Finding]]]:
        """Per URL, in the order given: whether it answered, and its findings."""
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
        twin_on = opts.get("http-twin", True)
        client_options = dict(
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
        for item in enumerate(self.urls):
            todo.put_nowait(item)
        done: list[tuple[bool, list[Finding]]] = [(False, [])] * len(self.urls)

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
            )
            twin = None
            if main.final is not None and twin_on and url.lower().startswith("https://"):
                twin = await fetch(
                    client, http_twin(url), headers=extra, deadline=deadline, max_hops=hops
                )
            # judged at once, so a long URL list does not hold every page body
            return main.final is not None, self.url_findings(ctx, url, main, twin, main)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(self.urls)))))
        return done

    def url_findings(self, ctx: AuditContext, url: str, main: Fetched, twin, cors) -> list[Finding]:
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
        results = check_all(url, main, twin, cors, self.strict)
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
        final_headers = main.final.headers
        for promise in self.static.promises:
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

    # --- summary -----------------------------------------------------------------------------
    def applies(self, ctx: AuditContext, rule_id: str) -> bool:
        if rule_id in STRICT_ONLY and not self.strict:
            return False
        # A live rule passes only on URLs that answered: a URL that could not be fetched
        # is an HDR018 error, and its checks are not passes.
        if rule_id == "HDR018":
            return bool(self.urls)
        if rule_id == "HDR013":
            return any(u.lower().startswith("https://") for u in self.audited)
        if rule_id in LIVE_RULES or rule_id == "HDR017":
            return bool(self.audited)
        if rule_id == "HDR024":
            return bool(self.audited and self.static.promises)
        s = self.static
        return {
            "HDR020": s.django_modules,
            "HDR021": s.flask_apps,
            "HDR022": s.nginx_configs,
            "HDR023": s.nginx_configs,
        }.get(rule_id, 0) > 0

    def pass_message(self, ctx: AuditContext, rule_id: str) -> str:
        if rule_id in STATIC_RULES:
            s = self.static
            return {
                "HDR020": f"checked {s.django_modules} Django settings module(s)",
                "HDR021": f"checked {s.flask_apps} Flask app(s)",
            }.get(rule_id, f"checked {s.nginx_configs} nginx config(s)")
        if rule_id == "HDR018":
            return f"all {len(self.urls)} URL(s) answered"
        unanswered = len(self.urls) - len(self.audited)
        return f"checked {len(self.audited)} URL(s)" + (
            f"; {unanswered} could not be audited (HDR018)" if unanswered else ""
        )

    def skip_reason(self, ctx: AuditContext, rule_id: str) -> str:
        if rule_id in STRICT_ONLY and not self.strict:
            return "checked only with --headers-profile strict"
        if rule_id in LIVE_RULES or rule_id in ("HDR017", "HDR024"):
            if not self.urls:
                return "no URL given (--url URL or [headers] urls)"
            if not self.audited:
                return f"none of the {len(self.urls)} URL(s) could be audited (HDR018)"
            return "nothing to check on these URLs"
        return "not applicable: no Django settings, Flask app or nginx config found"
