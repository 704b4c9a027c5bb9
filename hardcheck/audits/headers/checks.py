"""Header checks of one URL: each returns named outcomes (as the Mozilla Observatory does)
with a rule id, a verdict and a score modifier.

Where the Observatory or drHEADer get it wrong, these are stricter: `frame-ancestors *`
protects nothing; `max-age=abc` is invalid and `max-age=0` switches HSTS off; HSTS is
checked on every https hop; cookies the browser would reject (prefix rules, SameSite=None
without Secure) are reported; session cookies are recognised beyond `sess`/`login`;
`Access-Control-Allow-Origin: null` with credentials fails; thresholds, not exact strings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .csp import evaluate as evaluate_csp
from .csp import read_html
from .fetch import Fetched, Hop
from .outcomes import OUTCOMES, SEVERITY_RANK, judged

SIX_MONTHS = 15768000
FOREIGN_ORIGIN = "https://hardcheck-origin.invalid"
SESSION_NAME = re.compile(
    r"(?i)(^|[_\-.])(sess|session|sessionid|sid|auth|token|jwt|login|remember|identity|csrftoken|csrf|xsrf)"
    r"|^(connect\.sid|phpsessid|jsessionid|asp\.net_sessionid|laravel_session|_.*_session)$"
)
CSRF_NAME = re.compile(r"(?i)(csrf|xsrf)")
# Load balancers' backend-affinity cookies (Heroku, AWS ALB/ELB, Azure App Service, Google
# Cloud LB, HAProxy, F5): they pick a server, not a user; the Observatory exempts Heroku's
AFFINITY_NAME = re.compile(
    r"(?i)^(heroku-session-affinity|awsalb|awsalbcors|awselb|awselbcors|arraffinity"
    r"|arraffinitysamesite|gclb|serverid|bigipserver.*)$"
)
VERSIONED = re.compile(r"\d+(\.\d+)+|/\d")
LEAKY = ("server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator")
OWASP_REMOVE = (
    "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version", "x-generator", "x-runtime",
    "x-version", "x-backend-server", "x-drupal-cache", "x-drupal-dynamic-cache", "x-nextjs-cache",
    "x-sourcemap", "sourcemap", "x-debug-token", "x-debug-token-link", "x-turbo-charged-by",
)  # fmt: skip
# OWASP Secure Headers Project, "Deprecated" (tab_headers.md); X-XSS-Protection is
# HDR008's (0 is what OWASP asks for where it is still sent)
DEPRECATED = (
    "expect-ct", "public-key-pins", "public-key-pins-report-only", "feature-policy", "pragma",
)  # fmt: skip
SINGLE_VALUE = (
    "strict-transport-security", "x-frame-options", "x-content-type-options", "content-type",
    "cross-origin-opener-policy", "cross-origin-embedder-policy", "cross-origin-resource-policy",
    "access-control-allow-origin",
)  # fmt: skip
REJECTED = {
    "cookies-host-prefix-invalid",
    "cookies-secure-prefix-invalid",
    "cookies-samesite-none-without-secure",
}
# As the Observatory judges them: these send the origin, or the whole URL, where the
# strict-* policies would not (to plain http, or to every site)
UNSAFE_REFERRER = {"unsafe-url", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin"}
VALID_REFERRER = {
    "no-referrer", "no-referrer-when-downgrade", "origin", "origin-when-cross-origin", "same-origin",
    "strict-origin", "strict-origin-when-cross-origin", "unsafe-url",
}  # fmt: skip


def result(
    name: str,
    message: str,
    *,
    strict: bool = False,
    evidence: str = "",
    key: str = "",
    modifier: int | None = None,
) -> Result:
    """The named outcome (hardcheck.audits.headers.outcomes) with what was seen."""
    outcome = OUTCOMES[name]
    status, severity = judged(name, strict)
    return Result(
        rule=outcome.rule,
        outcome=name,
        status=status,
        message=message,
        severity=severity if status == "fail" else None,
        modifier=outcome.modifier if modifier is None else modifier,
        evidence=evidence,
        key=key,
    )


@dataclass
class Result:
    rule: str
    outcome: str
    status: str  # pass, fail, skip
    message: str
    severity: str | None = None  # None: the rule's default
    modifier: int = 0
    evidence: str = ""
    key: str = ""


def _https(url: str) -> bool:
    return url.lower().startswith("https://")


def _values(headers, name: str) -> list[str]:
    return [v.strip() for v in headers.get_list(name)]


# --- HSTS -------------------------------------------------------------------------------------
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9a-z-]+")  # RFC 9110 token, lower-cased


def parse_hsts(value: str) -> tuple[int | None, set[str], str]:
    """(max-age, flags, error). Directive names are case-insensitive; max-age required."""
    max_age: int | None = None
    flags: set[str] = set()
    seen: set[str] = set()
    for part in value.split(";"):
        part = part.strip()
        if not part:
            continue
        name, _, arg = part.partition("=")
        name = name.strip().lower()
        if not _TOKEN.fullmatch(name):
            # `max-age=…; includeSubDomains, max-age=…`: the header sent twice and joined
            # with a comma (a proxy adds its own); RFC 6797 directive names are tokens
            return (
                None,
                flags,
                f"{name[:40]!r} is not a directive name (a repeated, comma-joined header?)",
            )
        if name in seen:
            return None, flags, f"the {name} directive appears twice (RFC 6797 allows it once)"
        seen.add(name)
        if name == "max-age":
            arg = arg.strip().strip('"')
            if not arg.isdigit():
                return None, flags, f"max-age={arg!r} is not a number"
            max_age = int(arg)
        else:
            flags.add(name)
    if max_age is None:
        return None, flags, "no max-age directive"
    return max_age, flags, ""


def check_hsts(f: Fetched) -> list[Result]:
    out = []
    https_hops = [h for h in f.chain if _https(h.url)]
    if not https_hops:
        return [result("hsts-not-applicable-http", "HSTS is ignored by browsers on plain http")]
    for hop in https_hops:
        values = _values(hop.headers, "strict-transport-security")
        where = f" (on {hop.url})" if hop is not f.chain[-1] else ""
        if not values:
            out.append(
                result(
                    "hsts-not-implemented",
                    f"no Strict-Transport-Security header{where}",
                    key=hop.url,
                )
            )
            continue
        max_age, flags, error = parse_hsts(values[0])  # browsers honour only the first header
        if error:
            out.append(
                result(
                    "hsts-header-invalid",
                    f"Strict-Transport-Security is invalid: {error}{where}",
                    evidence=values[0][:100],
                    key=hop.url,
                )
            )
        elif max_age == 0:
            out.append(
                result(
                    "hsts-disabled",
                    f"max-age=0 switches HSTS off{where}",
                    evidence=values[0][:100],
                    key=hop.url,
                )
            )
        elif (max_age or 0) < SIX_MONTHS:  # parse_hsts gives a max-age whenever no error
            out.append(
                result(
                    "hsts-implemented-max-age-less-than-six-months",
                    f"max-age={max_age} is under six months ({SIX_MONTHS}){where}",
                    evidence=values[0][:100],
                    key=hop.url,
                )
            )
        else:
            noted = (
                ", ".join(sorted(flags & {"includesubdomains", "preload"}))
                or "no includeSubDomains/preload"
            )
            out.append(
                result(
                    "hsts-implemented-max-age-at-least-six-months",
                    f"max-age={max_age} ({noted}){where}",
                    key=hop.url,
                )
            )
    return out


# --- clickjacking, nosniff, referrer, XSS protection, cross-origin policies ---------------------------
def check_frames(headers, frame_ancestors: list[str] | None) -> Result:
    if frame_ancestors is not None:
        lowered = [s.lower() for s in frame_ancestors]
        if "*" in lowered or "https:" in lowered or "http:" in lowered:
            return result(
                "x-frame-options-frame-ancestors-wildcard",
                "CSP frame-ancestors allows any site to frame the page (*/https:): no clickjacking protection",
            )
        return result(
            "x-frame-options-implemented-via-csp",
            f"framing restricted by CSP frame-ancestors {' '.join(frame_ancestors) or '(none)'}",
        )
    values = _values(headers, "x-frame-options")
    if not values:
        return result(
            "x-frame-options-not-implemented",
            "no X-Frame-Options and no CSP frame-ancestors: the page can be framed (clickjacking)",
        )
    distinct = {v.upper() for v in values}
    if len(distinct) > 1:
        return result(
            "x-frame-options-header-invalid",
            f"several X-Frame-Options values ({', '.join(sorted(distinct))}): browsers treat that as invalid",
        )
    value = values[0].upper()
    if value in ("DENY", "SAMEORIGIN"):
        return result("x-frame-options-sameorigin-or-deny", f"X-Frame-Options: {value}")
    return result(
        "x-frame-options-header-invalid",
        f"X-Frame-Options {values[0]!r} is invalid (ALLOW-FROM is not supported by modern browsers)",
        evidence=values[0][:80],
    )


def check_nosniff(headers) -> Result:
    values = _values(headers, "x-content-type-options")
    if not values:
        return result(
            "x-content-type-options-not-implemented", "no X-Content-Type-Options: nosniff"
        )
    if values[0].lower() != "nosniff":
        return result(
            "x-content-type-options-header-invalid",
            f"X-Content-Type-Options is {values[0]!r}, not nosniff",
        )
    return result("x-content-type-options-nosniff", "X-Content-Type-Options: nosniff")


def check_referrer(headers, strict: bool, body: bytes = b"") -> Result:
    """The last valid token wins; a page's `<meta name="referrer">` comes after the header
    (it overrides it in browsers), as the Observatory reads it."""
    meta = read_html(body).referrers if body else []
    values = [
        t.strip().lower()
        for v in [*_values(headers, "referrer-policy"), *meta]
        for t in v.split(",")
        if t.strip()
    ]
    valid = [v for v in values if v in VALID_REFERRER]
    if not values:
        why = (
            "the strict profile requires one"
            if strict
            else "browsers default to strict-origin-when-cross-origin"
        )
        return result(
            "referrer-policy-not-implemented", f"no Referrer-Policy ({why})", strict=strict
        )
    if not valid:
        return result(
            "referrer-policy-header-invalid",
            f"Referrer-Policy {', '.join(values)!r} has no valid value",
        )
    effective = valid[-1]
    where = ' (from the page\'s <meta name="referrer">)' if meta else ""
    if effective in UNSAFE_REFERRER:
        return result(
            "referrer-policy-unsafe",
            f"Referrer-Policy {effective}{where} sends the origin or the full URL where "
            "strict-origin-when-cross-origin would not (to plain http, or paths to other sites)",
        )
    return result("referrer-policy-private", f"Referrer-Policy {effective}{where}")


def check_xss_protection(headers) -> Result:
    values = _values(headers, "x-xss-protection")
    if values and not values[0].startswith("0"):
        return result(
            "x-xss-protection-enabled",
            f"X-XSS-Protection {values[0]!r}: the legacy auditor is itself an XSS vector; send 0 or nothing",
        )
    return result("x-xss-protection-disabled-or-absent", "X-XSS-Protection absent or 0")


# The features the OWASP Secure Headers Project's recommended Permissions-Policy turns off
# (ci/headers_add.json of OWASP/www-project-secure-headers, 2024-07-19): the strict
# profile's measure of a complete policy.
OWASP_PERMISSIONS = (
    "accelerometer", "autoplay", "camera", "cross-origin-isolated", "display-capture",
    "encrypted-media", "fullscreen", "geolocation", "gyroscope", "keyboard-map",
    "magnetometer", "microphone", "midi", "payment", "picture-in-picture",
    "publickey-credentials-get", "screen-wake-lock", "sync-xhr", "usb", "web-share",
    "xr-spatial-tracking", "clipboard-read", "clipboard-write", "gamepad", "hid",
    "idle-detection", "interest-cohort", "serial", "unload",
)  # fmt: skip


def permissions_policy(value: str) -> tuple[dict[str, bool] | None, str]:
    """({feature: restricted}, error). Permissions-Policy is an RFC 8941 dictionary; a
    feature is restricted by `()`, `self` or a list of origins, not by `*`. A member whose
    allowlist is not one of those is ignored by browsers, so it restricts nothing."""
    import http_sf

    try:
        parsed: Any = http_sf.parse(value.encode("latin-1", "replace"), tltype="dictionary")
    except http_sf.StructuredFieldError as exc:
        return None, str(exc)[:80]
    features: dict[str, bool] = {}
    members: dict[str, tuple[Any, dict]] = parsed  # name -> (item or inner list, parameters)
    for feature, (allowlist, _params) in members.items():
        entries = allowlist if isinstance(allowlist, list) else [(allowlist, {})]
        items = [item for item, _ in entries]
        tokens = [str(t) for t in items if isinstance(t, http_sf.Token)]
        well_formed = all(
            isinstance(t, str) or (isinstance(t, http_sf.Token) and str(t) in ("self", "src", "*"))
            for t in items
        )
        features[feature] = well_formed and "*" not in tokens
    return features, ""


def check_permissions_policy(headers, strict: bool) -> Result:
    values = _values(headers, "permissions-policy")
    if not values:
        return result(
            "permissions-policy-not-implemented",
            "no Permissions-Policy: powerful features (camera, geolocation …) are not restricted",
            strict=strict,
        )
    features, error = permissions_policy(", ".join(values))
    if features is None:
        return result(
            "permissions-policy-header-invalid",
            f"Permissions-Policy is not a structured-field dictionary ({error}); browsers "
            "ignore it (the Feature-Policy syntax `camera 'none'` is not valid here)",
        )
    # browsing-topics replaced interest-cohort (FLoC), which browsers no longer know
    if features.get("browsing-topics"):
        features.setdefault("interest-cohort", True)
    open_features = [f for f in OWASP_PERMISSIONS if not features.get(f, False)]
    if open_features:
        shown = ", ".join(open_features[:6]) + (" …" if len(open_features) > 6 else "")
        return result(
            "permissions-policy-partial",
            f"Permissions-Policy leaves {len(open_features)} of the {len(OWASP_PERMISSIONS)} "
            f"features OWASP turns off unrestricted: {shown}"
            + ("" if strict else " (the strict profile asks for all of them)"),
            strict=strict,
        )
    return result(
        "permissions-policy-implemented",
        f"Permissions-Policy restricts every feature OWASP turns off ({len(features)} set)",
    )


# Each cross-origin policy header: the values browsers know, those that isolate, and what
# is lost without one.
CROSS_ORIGIN = (
    (
        "cross-origin-opener-policy",
        {"same-origin", "same-origin-allow-popups", "noopener-allow-popups", "unsafe-none"},
        {"same-origin", "same-origin-allow-popups", "noopener-allow-popups"},
        "other windows can keep a reference to this one",
    ),
    (
        "cross-origin-resource-policy",
        {"same-origin", "same-site", "cross-origin"},
        {"same-origin", "same-site"},
        "other sites can embed its responses",
    ),
    (
        "cross-origin-embedder-policy",
        {"require-corp", "credentialless", "unsafe-none"},
        {"require-corp", "credentialless"},
        "cross-origin isolation is off",
    ),
)


def check_cross_origin(headers, strict: bool) -> list[Result]:
    """An invalid value is reported in every profile (a browser ignores it: the policy the
    developer meant is not in force); a missing or permissive one in the strict profile,
    and for COOP at info in the default one."""
    out = []
    for name, known, isolating, words in CROSS_ORIGIN:
        values = _values(headers, name)
        if not values:
            value, invalid = "", ""
        else:  # repeated headers are one comma-joined field, as a browser reads them
            value, invalid = _policy_token(name, ", ".join(values))
            if not invalid and value not in known:
                invalid = f"{value[:40]!r} is not a value browsers know"
        if invalid:
            out.append(result(f"{name}-header-invalid", f"{name} is invalid ({invalid})", key=name))
        elif value in isolating:
            out.append(result(f"{name}-implemented", f"{name}: {value}", key=name))
        elif strict or (name == "cross-origin-opener-policy"):
            said = f"is {value!r}" if value else "is not set"
            out.append(
                result(
                    f"{name}-not-implemented",
                    f"{name} {said}: {words}",
                    strict=strict,
                    key=name,
                )
            )
    return out


def _policy_token(name: str, raw: str) -> tuple[str, str]:
    """(value, why it is invalid). COOP and COEP are RFC 8941 structured-field items whose
    token is compared case-sensitively (`Same-Origin` is ignored by browsers); CORP is a
    plain, case-sensitive value."""
    import http_sf

    if name == "cross-origin-resource-policy":
        value = raw.strip()
    else:
        try:
            parsed = http_sf.parse(raw.encode("latin-1", "replace"), tltype="item")
        except http_sf.StructuredFieldError as exc:
            return "", f"not a structured-field item: {str(exc)[:80]}"
        item = parsed[0] if isinstance(parsed, tuple) else parsed  # (value, parameters)
        if not isinstance(item, http_sf.Token):
            return "", f"{raw.strip()[:40]!r} is not a token"
        value = str(item)
    if value != value.lower():
        return "", f"{value[:40]!r}: its values are lower case, compared exactly"
    return value, ""


# --- cookies ------------------------------------------------------------------------------------------
@dataclass
class Cookie:
    name: str
    attrs: dict[str, str]
    raw_flags: set[str]

    @property
    def deleting(self) -> bool:
        return self.attrs.get("max-age", "1").strip() in ("0", "-1") or "1970" in self.attrs.get(
            "expires", ""
        )


def parse_set_cookie(line: str) -> Cookie | None:
    parts = line.split(";")
    name, sep, _value = parts[0].partition("=")
    if not sep or not name.strip():
        return None
    attrs: dict[str, str] = {}
    flags: set[str] = set()
    for part in parts[1:]:
        key, eq, val = part.strip().partition("=")
        key = key.strip().lower()
        if not key:
            continue
        if eq:
            attrs[key] = val.strip()
        else:
            flags.add(key)
    return Cookie(name.strip(), attrs, flags)


def check_cookies(f: Fetched, hsts: bool) -> list[Result]:
    out = []
    seen: set[str] = set()
    for hop in f.chain:
        secure_url = _https(hop.url)
        host = urlsplit(hop.url).hostname or ""
        for line in hop.headers.get_list("set-cookie"):
            cookie = parse_set_cookie(line)
            if cookie is None or cookie.name in seen:
                continue
            seen.add(cookie.name)
            if cookie.deleting:
                continue
            problems: list[tuple[str, str]] = []  # (outcome, what is wrong)
            secure = "secure" in cookie.raw_flags
            affinity = bool(AFFINITY_NAME.match(cookie.name))
            session = bool(SESSION_NAME.search(cookie.name)) and not affinity
            samesite = cookie.attrs.get("samesite", "").lower()
            # an affinity cookie is the platform's (Heroku, AWS …), not the application's to
            # flag, and names a backend: like the Observatory, Secure is not asked of it
            if secure_url and not secure and not affinity:
                if session:
                    problems.append(
                        (
                            "cookies-session-without-secure-flag",
                            "session cookie without Secure: sent over plain http too",
                        )
                    )
                elif hsts:
                    problems.append(
                        (
                            "cookies-without-secure-flag-but-protected-by-hsts",
                            "without Secure (HSTS protects it in practice)",
                        )
                    )
                else:
                    problems.append(("cookies-without-secure-flag", "without Secure"))
            if session and "httponly" not in cookie.raw_flags and not CSRF_NAME.search(cookie.name):
                problems.append(
                    (
                        "cookies-session-without-httponly-flag",
                        "session cookie without HttpOnly: readable by any script (XSS steals it)",
                    )
                )
            if "samesite" in cookie.attrs and samesite not in ("strict", "lax", "none"):
                problems.append(
                    (
                        "cookies-samesite-flag-invalid",
                        f"SameSite={cookie.attrs['samesite']!r} is invalid",
                    )
                )
            if samesite == "none" and not secure:
                problems.append(
                    (
                        "cookies-samesite-none-without-secure",
                        "SameSite=None without Secure: browsers reject the cookie",
                    )
                )
            if CSRF_NAME.search(cookie.name) and not samesite:
                problems.append(
                    ("cookies-anticsrf-without-samesite-flag", "anti-CSRF cookie without SameSite")
                )
            if cookie.name.startswith("__Host-") and (
                not secure or cookie.attrs.get("path") != "/" or "domain" in cookie.attrs
            ):
                problems.append(
                    (
                        "cookies-host-prefix-invalid",
                        "__Host- cookie must be Secure, Path=/ and have no Domain: browsers reject it",
                    )
                )
            if cookie.name.startswith("__Secure-") and not secure:
                problems.append(
                    (
                        "cookies-secure-prefix-invalid",
                        "__Secure- cookie without Secure: browsers reject it",
                    )
                )
            domain = cookie.attrs.get("domain", "").lstrip(".").lower()
            if domain and domain != host.lower():
                problems.append(
                    (
                        "cookies-domain-too-broad",
                        f"Domain={domain} shares it with every host under {domain}",
                    )
                )
            rejected = [p for p in problems if p[0] in REJECTED]
            if rejected:
                problems = rejected  # the browser drops the cookie: nothing else about it matters
            if problems:
                # reported as its worst outcome, scored by the heaviest penalty among them
                names = [name for name, _ in problems]
                out.append(
                    result(
                        max(
                            names,
                            key=lambda n: SEVERITY_RANK.index(OUTCOMES[n].severity or "medium"),
                        ),
                        f"cookie {cookie.name!r}"
                        + (
                            " (a load balancer's affinity cookie, not a session)"
                            if affinity
                            else ""
                        )
                        + ": "
                        + "; ".join(text for _, text in problems),
                        evidence=", ".join(names),
                        key=cookie.name,
                        modifier=min(OUTCOMES[n].modifier for n in names),
                    )
                )
            else:
                out.append(
                    result(
                        "cookies-secure-with-httponly-sessions",
                        f"cookie {cookie.name!r} has the flags it needs"
                        + (
                            " (a load balancer's affinity cookie, not a session)"
                            if affinity
                            else ""
                        ),
                        key=cookie.name,
                    )
                )
    return out


# --- CORS, redirects, leakage, TLS, repeated headers, SRI, strict extras --------------------------------
def check_cors(cors: Fetched | None) -> Result:
    final = cors.final if cors else None
    if final is None:
        return result(
            "cross-origin-resource-sharing-not-checked",
            "the CORS request (with a foreign Origin) got no answer",
        )
    acao = (_values(final.headers, "access-control-allow-origin") or [""])[0]
    creds = (_values(final.headers, "access-control-allow-credentials") or [""])[
        0
    ].lower() == "true"
    if acao == FOREIGN_ORIGIN:
        if creds:
            return result(
                "cross-origin-resource-sharing-origin-reflection-with-credentials",
                "Access-Control-Allow-Origin reflects any Origin with credentials: any site can read authenticated responses",
                evidence=f"Origin {FOREIGN_ORIGIN} echoed",
            )
        return result(
            "cross-origin-resource-sharing-implemented-with-origin-reflection",
            "Access-Control-Allow-Origin reflects any Origin",
            evidence=f"Origin {FOREIGN_ORIGIN} echoed",
        )
    if acao == "null" and creds:
        return result(
            "cross-origin-resource-sharing-null-with-credentials",
            "Access-Control-Allow-Origin: null with credentials: sandboxed iframes and data: pages of any site match it",
        )
    if acao == "*" and creds:
        return result(
            "cross-origin-resource-sharing-implemented-with-universal-access",
            "Access-Control-Allow-Origin: * with Allow-Credentials: true (a misconfiguration; browsers refuse it, often 'fixed' by reflecting origins)",
        )
    if acao == "*":
        return result(
            "cross-origin-resource-sharing-implemented-with-public-access",
            "Access-Control-Allow-Origin: * without credentials (public resource)",
        )
    return result(
        "cross-origin-resource-sharing-not-implemented-or-restricted",
        "a foreign Origin is not allowed",
    )


def check_redirects(f: Fetched, twin: Fetched | None) -> list[Result]:
    out = []
    for a, b in zip(f.chain, f.chain[1:]):
        if _https(a.url) and not _https(b.url):
            out.append(
                result(
                    "redirection-downgrade-to-http",
                    f"{a.url} redirects to plain http ({b.url})",
                    key="downgrade",
                )
            )
    start = twin if twin is not None else (f if not _https(f.url) else None)
    if start is None:
        return out
    if start.error or not start.chain:
        out.append(
            result(
                "redirection-not-checked",
                f"the http:// twin could not be fetched: {start.error}",
                key="twin",
            )
        )
        return out
    first = start.chain[0]
    if len(start.chain) == 1 or not first.location:
        out.append(
            result("redirection-missing", f"{first.url} does not redirect to https", key="twin")
        )
        return out
    target = start.chain[1].url
    same_host = urlsplit(target).hostname == urlsplit(first.url).hostname
    if not _https(target):
        out.append(
            result(
                "redirection-not-to-https-on-initial-redirection",
                f"the first redirect goes to {target}, not https",
                key="twin",
            )
        )
    elif not same_host:
        out.append(
            result(
                "redirection-off-host-from-http",
                f"the first redirect leaves the host ({target}): HSTS cannot be set for it",
                key="twin",
            )
        )
    elif not _https(start.chain[-1].url):
        out.append(
            result(
                "redirection-not-to-https",
                f"the redirect chain ends on plain http ({start.chain[-1].url})",
                key="twin",
            )
        )
    else:
        out.append(
            result(
                "redirection-to-https",
                f"http redirects to https on the same host ({target})",
                key="twin",
            )
        )
    return out


def check_leakage(headers, strict: bool) -> list[Result]:
    out = []
    names = (*OWASP_REMOVE, "server") if strict else LEAKY
    for name in names:
        for value in _values(headers, name):
            versioned = bool(VERSIONED.search(value))
            if versioned or name != "server" or strict:
                out.append(
                    result(
                        "information-disclosure-header",
                        f"{name}: {value[:80]} tells attackers which software (and version) to target",
                        key=name,
                        evidence=f"{name}: {value[:80]}",
                    )
                )
    return out


def check_tls(f: Fetched) -> list[Result]:
    if f.error_kind == "tls":
        return [result("tls-certificate-invalid", f"TLS verification failed: {f.error}")]
    if f.tls and f.tls.get("version") in ("TLSv1", "TLSv1.1", "SSLv3"):
        return [result("tls-version-obsolete", f"negotiated {f.tls['version']}")]
    if f.tls:
        return [
            result(
                "tls-valid",
                f"{f.tls.get('version')} with a certificate valid until {f.tls.get('not_after')}",
            )
        ]
    return []


def check_repeated(headers) -> list[Result]:
    out = []
    for name in SINGLE_VALUE:
        values = _values(headers, name)
        if len({v.lower() for v in values}) > 1:
            out.append(
                result(
                    "header-repeated-with-conflicting-values",
                    f"{name} is sent {len(values)} times with different values; browsers honour one, or none",
                    key=name,
                    evidence=" | ".join(v[:40] for v in values),
                )
            )
    return out


def check_sri(url: str, body: bytes) -> Result | None:
    html = read_html(body)
    host = urlsplit(url).hostname
    foreign = [s for s in html.scripts if urlsplit(s["src"]).hostname not in (None, host)]
    if not foreign:
        return None
    insecure = [s for s in foreign if s["src"].startswith("http://")]
    missing = [s for s in foreign if not s.get("integrity")]
    if insecure:
        return result(
            "sri-not-implemented-and-external-scripts-not-loaded-securely",
            f"{len(insecure)} external script(s) over plain http",
        )
    if missing:
        return result(
            "sri-not-implemented-but-external-scripts-loaded-securely",
            f"{len(missing)} external script(s) without an integrity attribute",
        )
    return result(
        "sri-implemented-and-external-scripts-loaded-securely",
        f"{len(foreign)} external script(s), all with integrity",
    )


def check_strict_extras(final: Hop, f: Fetched) -> list[Result]:
    out = []
    for name in DEPRECATED:
        if _values(final.headers, name):
            out.append(
                result(
                    "deprecated-header-present",
                    f"{name} is deprecated and should be removed",
                    key=name,
                )
            )
    sets_session = any(
        (c := parse_set_cookie(line)) is not None and SESSION_NAME.search(c.name)
        for line in final.headers.get_list("set-cookie")
    )
    cache = ",".join(_values(final.headers, "cache-control")).lower()
    if sets_session and "no-store" not in cache:
        out.append(
            result(
                "cache-control-missing-no-store",
                "a response that sets a session cookie is cacheable (no Cache-Control: no-store)",
            )
        )
    return out


def check_all(
    url: str, f: Fetched, twin: Fetched | None, cors: Fetched | None, strict: bool
) -> list[Result]:
    final = f.final
    assert final is not None
    headers = final.headers
    csp = evaluate_csp(
        _values(headers, "content-security-policy"),
        _values(headers, "content-security-policy-report-only"),
        f.body,
    )
    results = check_hsts(f)
    hsts_ok = any(r.status == "pass" for r in results)
    results += [result(name, message, key=name) for name, message in csp.outcomes]
    results.append(check_frames(headers, csp.frame_ancestors))
    results.append(check_nosniff(headers))
    results.append(check_referrer(headers, strict, f.body))
    results.append(check_permissions_policy(headers, strict))
    results += check_cross_origin(headers, strict)
    results.append(check_xss_protection(headers))
    results += check_cookies(f, hsts_ok)
    results.append(check_cors(cors))
    results += check_redirects(f, twin)
    results += check_leakage(headers, strict)
    results += check_tls(f)
    results += check_repeated(headers)
    sri = check_sri(final.url, f.body)
    if sri:
        results.append(sri)
    if strict:
        results += check_strict_extras(final, f)
    return results


GRADES = (
    (100, "A+"),
    (90, "A"),
    (85, "A-"),
    (80, "B+"),
    (70, "B"),
    (65, "B-"),
    (60, "C+"),
    (50, "C"),
    (45, "C-"),
    (40, "D+"),
    (30, "D"),
    (25, "D-"),
    (0, "F"),
)


def grade(results: list[Result]) -> tuple[int, str]:
    """Observatory-style: 100 plus every outcome's modifier; bonuses count only once the
    penalties leave at least 90. Grade A+ at 100 and above … F below 25."""
    penalties = sum(r.modifier for r in results if r.modifier < 0)
    bonuses = sum(r.modifier for r in results if r.modifier > 0)
    score = 100 + penalties
    if score >= 90:
        score += bonuses
    score = max(0, score)
    return score, next(letter for floor, letter in GRADES if score >= floor)
