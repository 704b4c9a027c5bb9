"""Every named outcome of the live header checks, in one table (as the Observatory's
`grader/charts.js` keeps one): outcome name -> rule, verdict, score modifier, severity
and what it means. The checks name an outcome and say what they saw; everything else about
it is here, so reports, `hardcheck explain` and the tests read the same data.

Severity is that of a failing outcome; `None` means the rule's own severity in the
catalogue. An outcome that the strict profile judges differently says so in `strict`.
Modifiers follow the Observatory where it has the outcome; hardcheck's own outcomes
(cookie prefixes, `null` origins, conflicting repeats…) are scored like their nearest
Observatory neighbour.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outcome:
    rule: str
    status: str  # pass | fail | skip
    modifier: int
    description: str
    severity: str | None = None  # of a fail; None: the rule's severity
    strict: tuple[str, str | None] | None = None  # (status, severity) under the strict profile


def _table(*rows: tuple[str, Outcome]) -> dict[str, Outcome]:
    table: dict[str, Outcome] = {}
    for name, outcome in rows:
        assert name not in table, name  # one meaning per name
        table[name] = outcome
    return table


def _o(rule: str, status: str, modifier: int, description: str, severity: str | None = None,
       strict: tuple[str, str | None] | None = None) -> Outcome:  # fmt: skip
    return Outcome(rule, status, modifier, description, severity, strict)


_HDR007 = {
    "cross-origin-opener-policy": "other windows can keep a reference to this one",
    "cross-origin-resource-policy": "other sites can embed its responses",
    "cross-origin-embedder-policy": "cross-origin isolation is off",
}

OUTCOMES: dict[str, Outcome] = _table(
    # HDR001 Strict-Transport-Security
    ("hsts-not-applicable-http", _o("HDR001", "skip", 0, "plain http: browsers ignore HSTS there")),
    ("hsts-not-implemented", _o("HDR001", "fail", -20, "an https response without Strict-Transport-Security", "medium")),
    ("hsts-header-invalid", _o("HDR001", "fail", -20, "Strict-Transport-Security that browsers ignore (no or non-numeric max-age)", "medium")),
    ("hsts-disabled", _o("HDR001", "fail", -20, "max-age=0: tells browsers to forget HSTS", "medium")),
    ("hsts-implemented-max-age-less-than-six-months", _o("HDR001", "fail", -10, "HSTS with max-age under six months (15768000 s)", "low")),
    ("hsts-implemented-max-age-at-least-six-months", _o("HDR001", "pass", 0, "HSTS with max-age of six months or more")),
    # HDR002 Content-Security-Policy
    ("csp-not-implemented", _o("HDR002", "fail", -25, "no enforced Content-Security-Policy (Report-Only enforces nothing)", "medium")),
    ("csp-script-src-not-restricted", _o("HDR002", "fail", -25, "an enforced policy without script-src or default-src", "high")),
    ("csp-implemented-with-unsafe-inline", _o("HDR002", "fail", -20, "scripts allowed inline ('unsafe-inline' without a nonce or hash)", "high")),
    ("csp-implemented-with-insecure-scheme", _o("HDR002", "fail", -20, "scripts allowed over http: or ftp:", "high")),
    ("csp-implemented-with-broad-script-source", _o("HDR002", "fail", -20, "scripts allowed from *, https:, data: or blob:", "high")),
    ("csp-implemented-with-unsafe-eval", _o("HDR002", "fail", -10, "'unsafe-eval' allowed", "medium")),
    ("csp-object-src-not-restricted", _o("HDR002", "fail", 0, "object-src (or default-src) missing or broad: plugins load from anywhere", "medium")),
    ("csp-object-src-not-none", _o("HDR002", "fail", 0, "object-src restricted to hosts but not 'none'", "low")),
    ("csp-base-uri-not-restricted", _o("HDR002", "fail", 0, "base-uri not 'none' or 'self' (it has no fallback)", "medium")),
    ("csp-default-src-missing", _o("HDR002", "fail", 0, "no default-src: unset directives have no fallback", "low")),
    ("csp-form-action-not-restricted", _o("HDR002", "fail", 0, "no form-action (it has no fallback): forms may post anywhere", "low")),
    ("csp-form-action-insecure", _o("HDR002", "fail", 0, "form-action allows any target (*) or plain http", "medium")),
    ("csp-directive-repeated", _o("HDR002", "fail", 0, "a directive given twice in one policy: browsers ignore the repeat", "low")),
    ("csp-implemented-with-no-unsafe", _o("HDR002", "pass", 0, "scripts and object-src restricted")),
    # HDR003 framing
    ("x-frame-options-frame-ancestors-wildcard", _o("HDR003", "fail", -20, "CSP frame-ancestors allows any site (*, https:, http:)", "medium")),
    ("x-frame-options-implemented-via-csp", _o("HDR003", "pass", 5, "framing restricted by CSP frame-ancestors")),
    ("x-frame-options-not-implemented", _o("HDR003", "fail", -20, "no X-Frame-Options and no CSP frame-ancestors", "medium")),
    ("x-frame-options-header-invalid", _o("HDR003", "fail", -20, "X-Frame-Options browsers ignore (ALLOW-FROM, unknown or conflicting values)", "medium")),
    ("x-frame-options-sameorigin-or-deny", _o("HDR003", "pass", 0, "X-Frame-Options DENY or SAMEORIGIN")),
    # HDR004 nosniff
    ("x-content-type-options-not-implemented", _o("HDR004", "fail", -5, "no X-Content-Type-Options", "low")),
    ("x-content-type-options-header-invalid", _o("HDR004", "fail", -5, "X-Content-Type-Options other than nosniff", "low")),
    ("x-content-type-options-nosniff", _o("HDR004", "pass", 0, "X-Content-Type-Options: nosniff")),
    # HDR005 Referrer-Policy
    ("referrer-policy-not-implemented", _o("HDR005", "pass", 0, "no Referrer-Policy: browsers default to strict-origin-when-cross-origin (the strict profile requires one)", strict=("fail", "low"))),
    ("referrer-policy-header-invalid", _o("HDR005", "fail", -5, "Referrer-Policy with no valid value", "low")),
    ("referrer-policy-unsafe", _o("HDR005", "fail", -5, "Referrer-Policy unsafe-url, no-referrer-when-downgrade, origin or origin-when-cross-origin: the origin or full URL leaks", "low")),
    ("referrer-policy-private", _o("HDR005", "pass", 5, "a Referrer-Policy that keeps paths and queries private")),
    # HDR006 Permissions-Policy
    ("permissions-policy-implemented", _o("HDR006", "pass", 0, "Permissions-Policy restricts every feature the OWASP recommendation turns off")),
    ("permissions-policy-partial", _o("HDR006", "pass", 0, "Permissions-Policy is set but leaves features the OWASP recommendation turns off unrestricted (the strict profile fails it)", strict=("fail", "low"))),
    ("permissions-policy-header-invalid", _o("HDR006", "fail", 0, "Permissions-Policy that is not a structured-field dictionary: browsers ignore it", "low")),
    ("permissions-policy-not-implemented", _o("HDR006", "fail", 0, "no Permissions-Policy", "info", strict=("fail", "low"))),
    # HDR007 cross-origin isolation (COOP is judged in the default profile too, at info)
    *(
        row
        for name, words in _HDR007.items()
        for row in (
            (f"{name}-implemented", _o("HDR007", "pass", 0, f"{name} set to an isolating value")),
            (f"{name}-not-implemented", _o("HDR007", "fail", 0, f"{name} missing or permissive: {words}", "info", strict=("fail", "low"))),
            (f"{name}-header-invalid", _o("HDR007", "fail", -5, f"{name} that browsers ignore (an unknown value, a wrongly cased token, or the header sent twice)", "low")),
        )
    ),
    # HDR008 X-XSS-Protection
    ("x-xss-protection-enabled", _o("HDR008", "fail", 0, "the legacy XSS auditor switched on (itself an XSS and leak vector)", "low")),
    ("x-xss-protection-disabled-or-absent", _o("HDR008", "pass", 0, "X-XSS-Protection absent or 0")),
    # HDR009 cookies: a cookie with several problems is reported as its worst one
    ("cookies-session-without-secure-flag", _o("HDR009", "fail", -40, "a session cookie without Secure on https", "high")),
    ("cookies-without-secure-flag-but-protected-by-hsts", _o("HDR009", "fail", -5, "a cookie without Secure, protected in practice by HSTS", "low")),
    ("cookies-without-secure-flag", _o("HDR009", "fail", -20, "a cookie without Secure on https", "medium")),
    ("cookies-session-without-httponly-flag", _o("HDR009", "fail", -30, "a session cookie without HttpOnly: scripts (and XSS) can read it", "high")),
    ("cookies-samesite-flag-invalid", _o("HDR009", "fail", -20, "a SameSite value that is not Strict, Lax or None", "medium")),
    ("cookies-samesite-none-without-secure", _o("HDR009", "fail", -20, "SameSite=None without Secure: browsers reject the cookie", "medium")),
    ("cookies-anticsrf-without-samesite-flag", _o("HDR009", "fail", -20, "an anti-CSRF cookie without SameSite", "medium")),
    ("cookies-host-prefix-invalid", _o("HDR009", "fail", -20, "a __Host- cookie that is not Secure, Path=/ and Domain-less: browsers reject it", "medium")),
    ("cookies-secure-prefix-invalid", _o("HDR009", "fail", -20, "a __Secure- cookie without Secure: browsers reject it", "medium")),
    ("cookies-domain-too-broad", _o("HDR009", "fail", 0, "Domain= shares the cookie with every host under that domain", "low")),
    ("cookies-secure-with-httponly-sessions", _o("HDR009", "pass", 0, "the cookie has the flags it needs")),
    # HDR010 CORS (the main request carries a foreign Origin)
    ("cross-origin-resource-sharing-not-checked", _o("HDR010", "skip", 0, "the request with a foreign Origin got no answer")),
    ("cross-origin-resource-sharing-implemented-with-origin-reflection", _o("HDR010", "fail", -50, "Access-Control-Allow-Origin echoes any Origin", "medium")),
    ("cross-origin-resource-sharing-origin-reflection-with-credentials", _o("HDR010", "fail", -50, "any Origin echoed with Allow-Credentials: any site reads authenticated responses", "high")),
    ("cross-origin-resource-sharing-null-with-credentials", _o("HDR010", "fail", -50, "Allow-Origin: null with credentials (sandboxed iframes of any site match)", "high")),
    ("cross-origin-resource-sharing-implemented-with-universal-access", _o("HDR010", "fail", -50, "Allow-Origin: * with Allow-Credentials: true", "medium")),
    ("cross-origin-resource-sharing-implemented-with-public-access", _o("HDR010", "pass", 0, "Allow-Origin: * without credentials (a public resource)")),
    ("cross-origin-resource-sharing-not-implemented-or-restricted", _o("HDR010", "pass", 0, "a foreign Origin is not allowed")),
    # HDR011 redirects
    ("redirection-downgrade-to-http", _o("HDR011", "fail", -20, "an https URL redirects to plain http", "high")),
    ("redirection-not-checked", _o("HDR011", "skip", 0, "the http:// twin could not be fetched")),
    ("redirection-missing", _o("HDR011", "fail", -20, "http does not redirect", "medium")),
    ("redirection-not-to-https-on-initial-redirection", _o("HDR011", "fail", -10, "the first redirect from http does not go to https", "medium")),
    ("redirection-off-host-from-http", _o("HDR011", "fail", -5, "the first redirect leaves the host: HSTS cannot be set for it", "low")),
    ("redirection-not-to-https", _o("HDR011", "fail", -20, "the redirect chain ends on plain http", "medium")),
    ("redirection-to-https", _o("HDR011", "pass", 0, "http redirects to https on the same host")),
    # HDR012 version disclosure
    ("information-disclosure-header", _o("HDR012", "fail", 0, "a header naming the software (and version) behind the site", "low")),
    # HDR013 TLS
    ("tls-certificate-invalid", _o("HDR013", "fail", -20, "the certificate did not verify", "high")),
    ("tls-version-obsolete", _o("HDR013", "fail", 0, "TLS 1.0 or 1.1 negotiated", "high")),
    ("tls-valid", _o("HDR013", "pass", 0, "TLS 1.2 or later with a certificate that verifies")),
    # HDR014 repeated single-value headers
    ("header-repeated-with-conflicting-values", _o("HDR014", "fail", 0, "a single-value header sent several times with different values", "medium")),
    # HDR015, HDR016 (strict profile)
    ("cache-control-missing-no-store", _o("HDR015", "fail", 0, "a response setting a session cookie without Cache-Control: no-store", "low")),
    ("deprecated-header-present", _o("HDR016", "fail", 0, "Expect-CT, Public-Key-Pins, Feature-Policy or Pragma still sent (OWASP: deprecated)", "low")),
    # HDR019 subresource integrity
    ("sri-not-implemented-and-external-scripts-not-loaded-securely", _o("HDR019", "fail", -50, "external scripts over plain http", "high")),
    ("sri-not-implemented-but-external-scripts-loaded-securely", _o("HDR019", "fail", -5, "external scripts without an integrity attribute", "low")),
    ("sri-implemented-and-external-scripts-loaded-securely", _o("HDR019", "pass", 5, "every external script has integrity and https")),
)  # fmt: skip

SEVERITY_RANK = ("info", "low", "medium", "high", "critical")


def outcomes_of(rule_id: str) -> list[tuple[str, Outcome]]:
    return [(name, o) for name, o in OUTCOMES.items() if o.rule == rule_id]


def judged(name: str, strict: bool) -> tuple[str, str | None]:
    """The outcome's (status, severity) in the profile in use."""
    outcome = OUTCOMES[name]
    if strict and outcome.strict is not None:
        return outcome.strict
    return outcome.status, outcome.severity
