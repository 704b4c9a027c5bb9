"""The uploads audit: can a client make this service accept a request body of unbounded
size? It reasons about the request path (proxy -> app server -> framework), not one file,
and can confirm its verdict with an opt-in, bounded live probe.

Which layers bound the body: nginx `client_max_body_size` (default 1m, 0 = unlimited),
Apache `LimitRequestBody`, Caddy `request_body max_size`, Flask `MAX_CONTENT_LENGTH`, a
FastAPI/Starlette body-size middleware. gunicorn and uvicorn have no body limit (their
limits are for the request line and headers), and Django's DATA_UPLOAD_MAX_MEMORY_SIZE
leaves file uploads out, so neither bounds an upload on its own.
"""

from __future__ import annotations

import os
from typing import Any, ClassVar

from ... import __version__
from ...config import parse_size, size_schema
from ...model import Finding, Location, Severity, Status
from ..base import Audit, AuditContext, AuditOutput, Coverage, PathTest
from .layers import (
    DJANGO_DEFAULTS,
    GUNICORN_DEFAULTS,
    WERKZEUG_DEFAULTS,
    LayerReader,
    Layers,
    Limit,
    reads,
)
from .probe import ProbeError, post

DEFAULT_POLICY = 10 * 1024 * 1024
PROBE_EXTRA = 4 * 1024 * 1024
PROBE_HARD_CAP = 64 * 1024 * 1024
FAR_ABOVE = 4  # a count limit this many times its default is "far above"
STATIC_RULES = ("UPL001", "UPL002", "UPL003", "UPL004", "UPL005", "UPL006")
PROBE = "UPL007"
PROXIES = ("nginx", "apache", "caddy")
BODY_FRAMEWORKS = ("flask", "fastapi", "aiohttp")  # whose limit bounds every body
APP_LIMITS = ("flask", "django", "aiohttp")  # app-side byte limits a proxy's can disagree with
UNBOUNDED_WHY = {
    "django": "Django's DATA_UPLOAD_MAX_MEMORY_SIZE leaves file uploads out",
    "flask": "Flask's MAX_CONTENT_LENGTH is not set (its default is unlimited)",
    "fastapi": "FastAPI/Starlette have no body limit and no limiting middleware was found",
    "aiohttp": "aiohttp's client_max_size is switched off (0 or None)",
}
PUBLIC_BINDS = ("0.0.0.0", "::", "[::]", "*")
COUNT_DEFAULTS = {
    **GUNICORN_DEFAULTS,
    **{k: v for k, v in DJANGO_DEFAULTS.items() if k != "DATA_UPLOAD_MAX_MEMORY_SIZE"},
    **WERKZEUG_DEFAULTS,
    "h11_max_incomplete_event_size": 16 * 1024,
}


def human(n: int | None) -> str:
    if n is None:
        return "unlimited"
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size and n % (size // 1024 or 1) == 0:
            return f"{n / size:g} {unit}"
    return f"{n} bytes"


def _loc(limit: Limit) -> Location:
    return Location(path=limit.path, line=limit.line, setting=limit.setting)


class UploadsAudit(Audit):
    name = "uploads"
    config_schema: ClassVar[dict[str, Any]] = {
        "max-body": {**size_schema(minimum=1), "description": "policy maximum, e.g. '10MiB'"},
        "enforced-by": {
            "type": "string",
            "description": "an upstream that enforces the limit (documented skip)",
        },
        "probe": {
            "type": "array",
            "items": {"type": "string"},
            "description": "URLs to probe (opt-in)",
        },
        "probe-ceiling": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}]},
        "probe-limit": {
            "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string"}],
            "description": "the limit to probe for",
        },
        "probe-timeout": {"type": "number", "exclusiveMinimum": 0},
    }

    cpu_bound = True

    def memo_reads(self, ctx: AuditContext):
        return None if ctx.options.get("probe") else reads

    def inputs(self, ctx: AuditContext) -> dict[str, PathTest]:
        return dict.fromkeys(STATIC_RULES, reads)

    def run(self, ctx: AuditContext) -> AuditOutput:
        opts = ctx.options
        policy = parse_size(opts.get("max-body", DEFAULT_POLICY))
        layers = LayerReader(ctx).run()
        findings: list[Finding] = []
        cov = Coverage()
        for path, line, why in layers.errors:
            cov.could_not_read(STATIC_RULES, path, why)
            findings.append(
                ctx.finding(
                    "RUN002",
                    Status.ERROR,
                    f"could not audit {path}: {why}",
                    Location(path=path, line=line),
                    key=why[:60],
                )
            )
        for path, line, why in layers.skips:
            findings.append(
                ctx.skipped(
                    "UPL004", f"not evaluated: {why}", Location(path=path, line=line), key=why[:60]
                )
            )
        ctx.stats["body_limits"] = len(layers.body)
        ctx.stats["count_limits"] = len(layers.counts)
        names = set(layers.proxies) | layers.app_servers | set(layers.frameworks)
        if names:
            findings += self.disabled(ctx, layers)
            findings += self.above_policy(ctx, layers, policy)
            findings += self.relaxed_counts(ctx, layers)
            findings += self.unbounded(ctx, layers)
            findings += self.disagree(ctx, layers)
            findings += self.exposed(ctx, layers)
            cov.saw(STATIC_RULES, f"request-path layer ({', '.join(sorted(names))})", len(names))
            cov.saw(STATIC_RULES, "body limit", len(layers.body))
            cov.saw(STATIC_RULES, "request limit", len(layers.counts))
            if not any(lim.layer in PROXIES and lim.value for lim in layers.body):
                # both compare a proxy's body limit with the layers behind it
                cov.skip(
                    ("UPL005", "UPL006"),
                    "not applicable: no proxy in front sets a body limit (nothing to compare "
                    "with, nothing to go around)",
                )
        else:
            cov.skip(
                STATIC_RULES, "not applicable: no web framework, app server or proxy config found"
            )
        findings += self.probes(ctx, layers, policy, cov)
        return AuditOutput(findings, cov)

    # --- static rules ------------------------------------------------------------------------
    def disabled(self, ctx: AuditContext, layers: Layers) -> list[Finding]:
        out = []
        for limit in [*layers.body, *layers.counts]:
            if limit.explicit and limit.value is None:
                out.append(
                    ctx.fail(
                        "UPL002",
                        f"{limit.layer} {limit.setting} is disabled (0/None means unlimited)"
                        + (f" for {limit.context}" if limit.context else ""),
                        _loc(limit),
                        evidence=f"{limit.setting} unlimited",
                        key=f"{limit.layer}:{limit.setting}:{limit.context}",
                    )
                )
        return out

    def above_policy(self, ctx: AuditContext, layers: Layers, policy: int) -> list[Finding]:
        out = []
        for limit in layers.body:
            if limit.value is not None and limit.value > 0 and limit.value > policy:
                out.append(
                    ctx.fail(
                        "UPL003",
                        f"{limit.layer} {limit.setting} is {human(limit.value)}"
                        + (f" for {limit.context}" if limit.context else "")
                        + f", above the policy maximum of {human(policy)}",
                        _loc(limit),
                        evidence=f"{human(limit.value)} > {human(policy)}",
                        key=f"{limit.layer}:{limit.setting}:{limit.context}",
                    )
                )
        return out

    def relaxed_counts(self, ctx: AuditContext, layers: Layers) -> list[Finding]:
        out = []
        for limit in layers.counts:
            default = COUNT_DEFAULTS.get(limit.setting)
            if default and limit.value is not None and limit.value > FAR_ABOVE * default:
                out.append(
                    ctx.fail(
                        "UPL004",
                        f"{limit.layer} {limit.setting} is {limit.value}, far above its default of {default}",
                        _loc(limit),
                        evidence=f"{limit.value} > {FAR_ABOVE}x {default}",
                        key=f"{limit.layer}:{limit.setting}",
                    )
                )
        return out

    @staticmethod
    def app_bound(ctx: AuditContext, layers: Layers, app_path: str) -> Limit | None:
        """A framework limit set for the app in `app_path`: in its service (the model's),
        or, where no service holds it, in its module or beside it."""
        here = os.path.dirname(app_path)
        service = ctx.services.service_for(app_path)

        def same_app(path: str) -> bool:
            if service is not None:
                return ctx.services.service_for(path) == service
            return os.path.dirname(path) == here

        for limit in layers.body:
            if limit.layer in BODY_FRAMEWORKS and limit.value is not None and same_app(limit.path):
                return limit
        return None

    def framework_bound(self, layers: Layers) -> Limit | None:
        for limit in layers.body:
            if limit.layer in BODY_FRAMEWORKS and limit.value is not None:
                return limit
        return None

    def unbounded(self, ctx: AuditContext, layers: Layers) -> list[Finding]:
        framework = self.framework_bound(layers)
        proxy_limits = [lim for lim in layers.body if lim.layer in PROXIES]
        gaps: list[tuple[Location, str]] = []
        if proxy_limits:
            for limit in proxy_limits:
                if limit.value is None and framework is None:
                    where = f" ({limit.context})" if limit.context else ""
                    gaps.append(
                        (
                            _loc(limit),
                            f"{limit.layer}{where} sets no limit and the application sets none either",
                        )
                    )
        elif len(layers.apps) > 1:
            # several applications in one tree: each is bounded by a limit of its own
            servers = " and ".join(sorted(layers.app_servers)) or "the app server"
            for kind, app_path, app_line in layers.apps:
                if self.app_bound(ctx, layers, app_path) is None:
                    gaps.append(
                        (
                            Location(path=app_path, line=app_line),
                            f"the {kind} app in {app_path}: no proxy config limits the body, "
                            f"{servers} has no body limit, and {UNBOUNDED_WHY[kind]} for this app",
                        )
                    )
        elif framework is None:
            app = next(iter(layers.frameworks.items()), None)
            path, line = app[1] if app else (None, None)
            servers = " and ".join(sorted(layers.app_servers)) or "the app server"
            name = app[0] if app else "the application"
            why = UNBOUNDED_WHY.get(name, "no layer sets a limit")
            gaps.append(
                (
                    Location(path=path, line=line),
                    f"no proxy config limits the body, {servers} has no body limit, and {why}",
                )
            )
        out = []
        enforced_by = ctx.options.get("enforced-by")
        for loc, why in gaps:
            if enforced_by:
                out.append(
                    ctx.skipped(
                        "UPL001",
                        f"{why}; the config states it is enforced by {enforced_by}",
                        loc,
                        key=why[:50],
                    )
                )
            else:
                uploads = ", ".join(f"{n}()" for _, _, n in layers.upload_endpoints[:5])
                extra = f"; UploadFile endpoints: {uploads}" if uploads else ""
                out.append(ctx.fail("UPL001", why + extra, loc, key=why[:50]))
        return out

    def disagree(self, ctx: AuditContext, layers: Layers) -> list[Finding]:
        proxies = [lim for lim in layers.body if lim.layer in PROXIES and lim.value]
        apps = [
            lim for lim in layers.body if lim.layer in APP_LIMITS and lim.value and lim.value > 0
        ]
        out = []
        for p in proxies:
            for a in apps:
                if p.value != a.value:
                    binding = p if (p.value or 0) < (a.value or 0) else a
                    out.append(
                        ctx.fail(
                            "UPL005",
                            f"{p.layer} allows {human(p.value)}"
                            + (f" ({p.context})" if p.context else "")
                            + f", {a.layer} {a.setting} rejects at {human(a.value)}: {binding.layer}'s limit is the one that binds",
                            _loc(p),
                            severity=Severity.INFO,
                            key=f"{p.context}:{a.layer}",
                        )
                    )
        return out

    def exposed(self, ctx: AuditContext, layers: Layers) -> list[Finding]:
        if not any(lim.layer in PROXIES and lim.value for lim in layers.body):
            return []
        out = []
        for server, address, path, line in layers.binds:
            host = (
                address.rsplit(":", 1)[0]
                if ":" in address and not address.startswith("[")
                else address
            )
            if host in PUBLIC_BINDS or address.startswith(("0.0.0.0", "[::]", ":")):
                out.append(
                    ctx.fail(
                        "UPL006",
                        f"{server} binds {address}: it can be reached around the proxy, whose body limit then does not protect it",
                        Location(path=path, line=line, setting="bind"),
                        evidence=f"bind {address}",
                        key=f"{server}:{address}",
                    )
                )
        return out

    # --- the live probe --------------------------------------------------------------------------
    def expected_limit(self, ctx: AuditContext, layers: Layers, policy: int) -> int:
        explicit = ctx.options.get("probe-limit")
        if explicit:
            return parse_size(explicit)
        finite = [lim.value for lim in layers.body if lim.value and lim.value > 0]
        return min(finite) if finite else policy

    def probes(
        self, ctx: AuditContext, layers: Layers, policy: int, cov: Coverage
    ) -> list[Finding]:
        urls = ctx.options.get("probe", [])
        if not urls:
            cov.skip(PROBE, "no probe requested (--probe-uploads URL or [uploads] probe)")
            return []
        limit = self.expected_limit(ctx, layers, policy)
        ceiling = parse_size(ctx.options.get("probe-ceiling", limit + 1 + PROBE_EXTRA))
        ceiling = min(ceiling, PROBE_HARD_CAP)
        timeout = float(ctx.options.get("probe-timeout", 10))
        out = []
        for url in urls:
            loc = Location(url=url, setting=f"expected limit {human(limit)}")
            ctx.stats["probe_requests"] += 1
            try:
                over = post(
                    url,
                    limit + 1,
                    ceiling=ceiling,
                    timeout=timeout,
                    user_agent=f"hardcheck/{__version__}",
                )
            except ProbeError as exc:
                out.append(
                    ctx.finding("UPL007", Status.ERROR, f"probe failed: {exc}", loc, key=url)
                )
                continue
            ctx.stats["probe_bytes_sent"] += over.sent
            verdict = self.judge(ctx, url, limit, over, loc)
            if verdict.status is Status.PASS and limit > 1:
                ctx.stats["probe_requests"] += 1
                try:
                    under = post(
                        url,
                        max(1, limit - 1024),
                        ceiling=ceiling,
                        timeout=timeout,
                        user_agent=f"hardcheck/{__version__}",
                    )
                    ctx.stats["probe_bytes_sent"] += under.sent
                    if under.status == 413:
                        verdict = ctx.fail(
                            "UPL007",
                            f"a body just under {human(limit)} was also rejected with 413: the limit is lower than expected",
                            loc,
                            severity=Severity.LOW,
                            key=url,
                        )
                except ProbeError as exc:
                    verdict = ctx.finding(
                        "UPL007",
                        Status.ERROR,
                        f"probe (under the limit) failed: {exc}",
                        loc,
                        key=url,
                    )
            if verdict.status in (Status.PASS, Status.FAIL):
                cov.saw(PROBE, "probed URL")
            out.append(verdict)
        return out

    def judge(self, ctx: AuditContext, url: str, limit: int, over, loc: Location) -> Finding:
        size = human(limit + 1)
        if over.status in (404, 405):
            return ctx.skipped(
                "UPL007",
                f"POST answered {over.status}: this endpoint tests nothing; name one that reads the request body",
                loc,
                key=url,
            )
        if over.status == 413 or (over.status == 400 and over.sent < limit + 1):
            return ctx.finding(
                PROBE,
                Status.PASS,
                f"a {size} body was refused with {over.status} ({over.note}, {over.sent} bytes sent)",
                loc,
            )
        if over.status is None and 0 < over.sent < limit + 1 and over.closed:
            return ctx.finding(
                PROBE,
                Status.PASS,
                f"a {size} body was refused: the server {over.note} after {over.sent} bytes",
                loc,
            )
        if over.status is None:
            # A reset before any body byte, silence or a non-HTTP answer is what a broken
            # endpoint does too: it cannot count as a refusal.
            return ctx.finding(
                "UPL007",
                Status.ERROR,
                f"inconclusive: no HTTP answer after {over.sent} bytes ({over.note}); "
                "a broken endpoint cannot be told from one that enforces a limit",
                loc,
                key=url,
            )
        if over.status is not None and over.status < 400:
            return ctx.fail(
                "UPL007",
                f"a {size} body (just over the expected limit) was accepted with {over.status}: no limit is enforced",
                loc,
                evidence=f"{over.sent} bytes sent, status {over.status}",
                key=url,
            )
        return ctx.finding(
            "UPL007",
            Status.ERROR,
            f"inconclusive: status {over.status} after {over.sent} bytes ({over.note})",
            loc,
            key=url,
        )
