"""Content-Security-Policy, parsed and judged as browsers enforce it (CSP Level 3).

- Several CSP headers, or comma-joined policies, are several policies: a resource loads
  only if every enforced policy allows it, so the page is protected against a risk as
  soon as one enforced policy blocks it. `<meta http-equiv>` policies count too (minus
  frame-ancestors, report-uri and sandbox, which browsers ignore there).
- Content-Security-Policy-Report-Only enforces nothing.
- Inline script: `'unsafe-inline'` is ignored when the list has a nonce or a hash;
  `'strict-dynamic'` (with a nonce or hash) also makes host and scheme sources ignored.
- `script-src-elem` falls back to `script-src`, then `default-src`; `object-src` falls
  back to `default-src`; `base-uri`, `form-action` and `frame-ancestors` never do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

NONCE_OR_HASH = re.compile(r"^'(nonce-[^']+|sha(256|384|512)-[^']+)'$", re.I)
BROAD = {"*", "https:", "http:", "data:", "blob:", "https://*", "http://*"}


@dataclass
class Policy:
    directives: dict[str, list[str]]
    source: str  # "header" or "meta"
    repeated: list[str] = field(default_factory=list)  # directives given again: ignored

    def get(self, *names: str) -> list[str] | None:
        for name in names:
            if name in self.directives:
                return self.directives[name]
        return None


@dataclass
class Outcome:
    name: str  # an outcome of hardcheck.audits.headers.outcomes, e.g. csp-implemented-with-unsafe-inline
    message: str  # what was seen

    def __iter__(self):
        return iter((self.name, self.message))


@dataclass
class CspResult:
    enforced: list[Policy] = field(default_factory=list)
    report_only: list[Policy] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)
    frame_ancestors: list[str] | None = None


def parse_policies(value: str, source: str = "header") -> list[Policy]:
    policies = []
    for text in value.split(","):
        directives: dict[str, list[str]] = {}
        repeated: list[str] = []
        for part in text.split(";"):
            tokens = part.strip().split()
            if not tokens:
                continue
            name = tokens[0].lower()
            if name in directives:  # a repeated directive is ignored, as browsers do
                repeated.append(name)
                continue
            directives[name] = [t if t.startswith("'") is False else t.lower() for t in tokens[1:]]
        if directives:
            policies.append(Policy(directives, source, repeated))
    return policies


class _MetaCsp(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.policies: list[str] = []
        self.scripts: list[dict[str, str]] = []
        self.referrers: list[str] = []  # <meta name="referrer" content=...>

    def handle_starttag(self, tag: str, attrs) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta" and a.get("http-equiv", "").lower() == "content-security-policy":
            self.policies.append(a.get("content", ""))
        elif tag == "meta" and a.get("name", "").strip().lower() == "referrer":
            self.referrers.append(a.get("content", ""))
        elif tag == "script" and a.get("src"):
            self.scripts.append(a)


def read_html(body: bytes) -> _MetaCsp:
    parser = _MetaCsp()
    try:
        parser.feed(body.decode("utf-8", "replace"))
        parser.close()
    except Exception:  # html.parser on hostile input: keep what was read
        pass
    return parser


def _meta_policy(policy: Policy) -> Policy:
    ignored = {"frame-ancestors", "report-uri", "sandbox"}
    return Policy({k: v for k, v in policy.directives.items() if k not in ignored}, "meta")


def _broad(sources: list[str]) -> bool:
    lowered = [s.lower() for s in sources]
    return any(s in BROAD or s.startswith(("https://*", "*")) for s in lowered)


def _script_risks(sources: list[str] | None) -> dict[str, bool]:
    """What one policy allows for scripts: inline, eval, insecure or broad sources."""
    if sources is None:
        return {"inline": True, "eval": True, "insecure": True, "broad": True, "unrestricted": True}
    lowered = [s.lower() for s in sources]
    keyed = any(NONCE_OR_HASH.match(s) for s in lowered)
    dynamic = "'strict-dynamic'" in lowered and keyed
    hosts = [s for s in lowered if not s.startswith("'")]
    return {
        "inline": "'unsafe-inline'" in lowered and not keyed,
        "eval": "'unsafe-eval'" in lowered,
        "insecure": not dynamic
        and any(s in ("http:", "ftp:") or s.startswith(("http://", "ftp://")) for s in hosts),
        "broad": not dynamic and _broad(hosts),
        "unrestricted": False,
    }


def evaluate(
    header_values: list[str], report_only_values: list[str], body: bytes = b""
) -> CspResult:
    result = CspResult()
    for value in header_values:
        result.enforced += parse_policies(value)
    for value in report_only_values:
        result.report_only += parse_policies(value)
    html = read_html(body) if body else None
    if html:
        for value in html.policies:
            result.enforced += [_meta_policy(p) for p in parse_policies(value, "meta")]
    add = result.outcomes.append
    if not result.enforced:
        note = (
            " (only Content-Security-Policy-Report-Only, which enforces nothing)"
            if result.report_only
            else ""
        )
        add(Outcome("csp-not-implemented", "no Content-Security-Policy is enforced" + note))
        return result
    headers = [p for p in result.enforced if p.source == "header"]
    fa = [p.get("frame-ancestors") for p in headers if p.get("frame-ancestors") is not None]
    result.frame_ancestors = fa[0] if fa else None

    def blocked(risk: str) -> bool:  # does some enforced policy block it?
        return any(
            not _script_risks(p.get("script-src-elem", "script-src", "default-src"))[risk]
            for p in result.enforced
        )

    clean = True
    if not blocked("unrestricted"):
        clean = False
        add(
            Outcome(
                "csp-script-src-not-restricted",
                "no enforced policy restricts scripts (no script-src or default-src)",
            )
        )
    else:
        for risk, name, words in (
            (
                "inline",
                "csp-implemented-with-unsafe-inline",
                "allows 'unsafe-inline' scripts (no nonce or hash)",
            ),
            (
                "insecure",
                "csp-implemented-with-insecure-scheme",
                "allows scripts over http: or ftp:",
            ),
            (
                "broad",
                "csp-implemented-with-broad-script-source",
                "allows scripts from *, https:, data: or blob:",
            ),
            ("eval", "csp-implemented-with-unsafe-eval", "allows 'unsafe-eval'"),
        ):
            if not blocked(risk):
                clean = False
                add(Outcome(name, f"the effective script-src {words}"))
    repeated = sorted({name for p in result.enforced for name in p.repeated})
    if repeated:
        add(
            Outcome(
                "csp-directive-repeated",
                f"{', '.join(repeated)} given twice in one policy: browsers enforce the first "
                "and ignore the rest, so the policy is not what it reads as",
            )
        )
    # The Observatory's question: is object-src restricted at all (set, directly or by
    # default-src, and not to a broad source)? hardcheck's own, asked beside it: is it
    # 'none', as the CSP Level 3 guidance asks? (An empty source list is 'none'.)
    objects = [p.get("object-src", "default-src") for p in result.enforced]
    if not any(src is not None and not _broad(src) for src in objects):
        clean = False
        add(
            Outcome(
                "csp-object-src-not-restricted",
                "object-src (or default-src) is missing or allows any host: plugins and "
                "embedded documents can load from anywhere",
            )
        )
    elif not any(src is not None and set(src) <= {"'none'"} for src in objects):
        add(
            Outcome(
                "csp-object-src-not-none",
                "object-src (or default-src) is restricted but not 'none': <object> and "
                "<embed> can still load from the hosts it allows",
            )
        )
    if not any(
        p.get("base-uri") is not None and set(p.get("base-uri") or ()) <= {"'none'", "'self'"}
        for p in result.enforced
    ):  # a question of its own: the script verdict below does not depend on it
        add(
            Outcome(
                "csp-base-uri-not-restricted",
                "base-uri is not 'none' or 'self' (it has no fallback): injected <base> tags can redirect relative script URLs",
            )
        )
    if not any("default-src" in p.directives for p in result.enforced):
        add(
            Outcome(
                "csp-default-src-missing", "no default-src: directives not set have no fallback"
            )
        )
    fa_insecure = [
        p
        for p in result.enforced
        if any(s in ("*", "http:") or s.startswith("http://") for s in (p.get("form-action") or []))
    ]
    if fa_insecure or not any(p.get("form-action") is not None for p in result.enforced):
        why = (
            "allows any or insecure targets"
            if fa_insecure
            else "is not set (it has no fallback): forms may post anywhere"
        )
        add(
            Outcome(
                "csp-form-action-insecure" if fa_insecure else "csp-form-action-not-restricted",
                f"form-action {why}",
            )
        )
    if clean:
        add(
            Outcome(
                "csp-implemented-with-no-unsafe",
                "scripts are restricted: no unsafe-inline, unsafe-eval, insecure or broad sources; object-src restricted",
            )
        )
    return result
