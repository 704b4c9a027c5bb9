"""The headers audit: Observatory pass/fail cases for each check (and where hardcheck is
deliberately stricter), then real servers on 127.0.0.1 — the samples under uvicorn over
http and https, TLS failures, nginx's add_header trap, and a fault server."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
import time

import httpx
import pytest
import trustme

import hardcheck
from hardcheck.audits.headers import checks
from hardcheck.audits.headers.csp import evaluate
from hardcheck.audits.headers.fetch import Fetched, Hop
from hardcheck.audits.headers.outcomes import OUTCOMES
from tests.conftest import SAMPLES, make_tree, run_cli
from tests.faultserver import FaultServer
from tests.servers import nginx_server, uvicorn_app


def _fetched(
    url: str, headers: list[tuple[str, str]], body: bytes = b"", chain: list[Hop] | None = None
) -> Fetched:
    hop = Hop(url, 200, httpx.Headers(headers))
    return Fetched(url, chain=[*(chain or []), hop], body=body)


def _outcome(results: list[checks.Result], rule: str) -> list[tuple[str, str]]:
    return [(r.outcome, r.status) for r in results if r.rule == rule]


# --- the Observatory's tests, pass and fail ---------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "outcome", "status"),
    [
        (None, "hsts-not-implemented", "fail"),
        (
            "max-age=63072000; includeSubDomains; preload",
            "hsts-implemented-max-age-at-least-six-months",
            "pass",
        ),
        ("max-age=15768000", "hsts-implemented-max-age-at-least-six-months", "pass"),
        ("max-age=300", "hsts-implemented-max-age-less-than-six-months", "fail"),
        ("max-age=abc", "hsts-header-invalid", "fail"),  # the Observatory once accepted this
        ("max-age=0", "hsts-disabled", "fail"),  # ... and this
        ("includeSubDomains", "hsts-header-invalid", "fail"),
        ('MAX-AGE="31536000"', "hsts-implemented-max-age-at-least-six-months", "pass"),
        # #17: the header sent twice and comma-joined (the Observatory: invalid)
        (
            "max-age=15768000; includeSubDomains, max-age=15768000; includeSubDomains",
            "hsts-header-invalid",
            "fail",
        ),
        ("max-age=31536000; max-age=300", "hsts-header-invalid", "fail"),
    ],
)
def test_hsts(value, outcome, status):
    f = _fetched("https://a.example/", [("strict-transport-security", value)] if value else [])
    assert _outcome(checks.check_hsts(f), "HDR001") == [(outcome, status)]


@pytest.mark.parametrize(
    ("name", "value", "outcome_suffix"),
    [
        ("cross-origin-opener-policy", "same-origin", "implemented"),
        ("cross-origin-opener-policy", 'same-origin; report-to="coop"', "implemented"),
        # #17: structured-field tokens are case-sensitive; a browser ignores these
        ("cross-origin-opener-policy", "Same-Origin", "header-invalid"),
        ("cross-origin-embedder-policy", "REQUIRE-CORP", "header-invalid"),
        ("cross-origin-embedder-policy", "require-corp; =bad", "header-invalid"),
        ("cross-origin-embedder-policy", "require-corp", "implemented"),
        ("cross-origin-resource-policy", "Same-Site", "header-invalid"),
        ("cross-origin-resource-policy", "same-site", "implemented"),
        ("cross-origin-resource-policy", "whimsy", "header-invalid"),
        ("cross-origin-opener-policy", "unsafe-none", "not-implemented"),
        ("cross-origin-opener-policy", "noopener-allow-popups", "implemented"),
    ],
)
def test_cross_origin_policies_are_read_as_browsers_read_them(name, value, outcome_suffix):
    results = checks.check_cross_origin(httpx.Headers([(name, value)]), strict=True)
    mine = [r for r in results if r.outcome.startswith(name)]
    assert [r.outcome for r in mine] == [f"{name}-{outcome_suffix}"]
    if outcome_suffix == "header-invalid":
        assert "invalid" in mine[0].message and mine[0].status == "fail"


@pytest.mark.parametrize("name", [c[0] for c in checks.CROSS_ORIGIN])
def test_an_invalid_cross_origin_policy_is_reported_in_the_default_profile_too(name):
    twice = httpx.Headers([(name, "same-origin"), (name, "unsafe-none")])
    results = checks.check_cross_origin(twice, strict=False)
    assert [(r.outcome, r.severity) for r in results if r.outcome.startswith(name)] == [
        (f"{name}-header-invalid", "low")
    ]


def test_hsts_checked_on_every_https_hop_and_ignored_on_http():
    first = Hop(
        "https://a.example/",
        301,
        httpx.Headers([("location", "https://a.example/home")]),
        "https://a.example/home",
    )
    f = _fetched(
        "https://a.example/home", [("strict-transport-security", "max-age=63072000")], chain=[first]
    )
    assert ("hsts-not-implemented", "fail") in _outcome(checks.check_hsts(f), "HDR001")
    assert _outcome(checks.check_hsts(_fetched("http://a.example/", [])), "HDR001") == [
        ("hsts-not-applicable-http", "skip")
    ]


@pytest.mark.parametrize(
    ("headers", "outcome", "status"),
    [
        ([], "x-frame-options-not-implemented", "fail"),
        ([("x-frame-options", "DENY")], "x-frame-options-sameorigin-or-deny", "pass"),
        ([("x-frame-options", "sameorigin")], "x-frame-options-sameorigin-or-deny", "pass"),
        (
            [("x-frame-options", "ALLOW-FROM https://a.example")],
            "x-frame-options-header-invalid",
            "fail",
        ),
        (
            [("x-frame-options", "DENY"), ("x-frame-options", "SAMEORIGIN")],
            "x-frame-options-header-invalid",
            "fail",
        ),
        (
            [("content-security-policy", "frame-ancestors 'none'")],
            "x-frame-options-implemented-via-csp",
            "pass",
        ),
        (
            [("content-security-policy", "frame-ancestors *")],
            "x-frame-options-frame-ancestors-wildcard",
            "fail",
        ),
    ],
)
def test_clickjacking(headers, outcome, status):
    h = httpx.Headers(headers)
    csp = evaluate(h.get_list("content-security-policy"), [])
    r = checks.check_frames(h, csp.frame_ancestors)
    assert (r.outcome, r.status) == (outcome, status)


@pytest.mark.parametrize(
    ("value", "status"),
    [(None, "fail"), ("nosniff", "pass"), ("NoSniff", "pass"), ("sniff", "fail")],
)
def test_nosniff(value, status):
    assert (
        checks.check_nosniff(
            httpx.Headers([("x-content-type-options", value)] if value else [])
        ).status
        == status
    )


@pytest.mark.parametrize(
    ("value", "outcome", "status"),
    [
        (None, "referrer-policy-not-implemented", "pass"),
        ("no-referrer", "referrer-policy-private", "pass"),
        ("strict-origin-when-cross-origin", "referrer-policy-private", "pass"),
        ("unsafe-url", "referrer-policy-unsafe", "fail"),
        ("no-referrer-when-downgrade", "referrer-policy-unsafe", "fail"),
        ("no-referrer, unsafe-url", "referrer-policy-unsafe", "fail"),  # the last valid token wins
        ("unsafe-url, no-referrer", "referrer-policy-private", "pass"),
        ("bogus", "referrer-policy-header-invalid", "fail"),
    ],
)
def test_referrer_policy(value, outcome, status):
    r = checks.check_referrer(
        httpx.Headers([("referrer-policy", value)] if value else []), strict=False
    )
    assert (r.outcome, r.status) == (outcome, status)


@pytest.mark.parametrize(
    ("policy", "failing"),
    [
        (None, {"csp-not-implemented"}),
        ("default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'", set()),
        (
            "default-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'self'; form-action 'self'",
            {"csp-implemented-with-unsafe-inline"},
        ),
        (
            "default-src 'self'; script-src 'self' 'unsafe-eval'; object-src 'none'; base-uri 'self'; form-action 'self'",
            {"csp-implemented-with-unsafe-eval"},
        ),
        (
            "default-src 'self'; script-src http://cdn.example; object-src 'none'; base-uri 'self'; form-action 'self'",
            {"csp-implemented-with-insecure-scheme"},
        ),
        (
            "default-src 'self'; script-src https:; object-src 'none'; base-uri 'self'; form-action 'self'",
            {"csp-implemented-with-broad-script-source"},
        ),
        # nonces disable 'unsafe-inline'; strict-dynamic disables host sources, as in browsers
        (
            "script-src 'nonce-r4nd' 'unsafe-inline' 'strict-dynamic' https:; default-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'",
            set(),
        ),
        (
            "default-src 'self'; object-src 'none'; form-action 'self'",
            {"csp-base-uri-not-restricted"},
        ),
        ("default-src 'self'; base-uri 'self'; form-action 'self'", {"csp-object-src-not-none"}),
        (
            "default-src 'none'; script-src 'self'; object-src *; base-uri 'self'; form-action 'self'",
            {"csp-object-src-not-restricted"},
        ),
        ("default-src; base-uri 'self'; form-action 'self'", set()),  # no sources is 'none'
        (
            "default-src 'self'; default-src *; object-src 'none'; base-uri 'self'; form-action 'self'",
            {"csp-directive-repeated"},
        ),
        (  # #17: ftp: is as insecure as http:
            "default-src 'none'; script-src ftp://a.example; base-uri 'self'; form-action 'self'",
            {"csp-implemented-with-insecure-scheme"},
        ),
        (
            "default-src 'self'; object-src 'none'; base-uri 'self'; form-action http:",
            {"csp-form-action-insecure"},
        ),
    ],
)
def test_csp(policy, failing):
    result = evaluate([policy] if policy else [], [])
    assert {o.name for o in result.outcomes if OUTCOMES[o.name].status == "fail"} == failing


def test_csp_report_only_and_meta_and_multiple_policies():
    good = "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'"
    assert {o.name for o in evaluate([], [good]).outcomes} == {"csp-not-implemented"}
    meta = f'<html><head><meta http-equiv="Content-Security-Policy" content="{good}"></head></html>'.encode()
    assert {o.name for o in evaluate([], [], meta).outcomes} == {"csp-implemented-with-no-unsafe"}
    # two policies: the unsafe one is overruled by the strict one (both must allow)
    assert {o.name for o in evaluate(["default-src * 'unsafe-inline'", good], []).outcomes} == {
        "csp-implemented-with-no-unsafe"
    }


@pytest.mark.parametrize(
    ("cookie", "outcome"),
    [
        (
            "sessionid=1; Secure; HttpOnly; SameSite=Lax; Path=/",
            "cookies-secure-with-httponly-sessions",
        ),
        ("sessionid=1; HttpOnly; SameSite=Lax", "cookies-session-without-secure-flag"),
        ("auth_token=1; Secure; SameSite=Lax", "cookies-session-without-httponly-flag"),
        ("jwt=1; Secure; SameSite=Lax", "cookies-session-without-httponly-flag"),
        ("prefs=1; SameSite=Lax", "cookies-without-secure-flag"),
        ("prefs=1; Secure; SameSite=Sometimes", "cookies-samesite-flag-invalid"),
        ("csrftoken=1; Secure", "cookies-anticsrf-without-samesite-flag"),
        ("__Host-id=1; Secure; Path=/app; SameSite=Lax", "cookies-host-prefix-invalid"),
        (
            "__Host-id=1; Secure; Path=/; Domain=a.example; SameSite=Lax",
            "cookies-host-prefix-invalid",
        ),
        ("__Secure-id=1; SameSite=Lax", "cookies-secure-prefix-invalid"),
        ("prefs=1; Secure; SameSite=Lax; Domain=example.test", "cookies-domain-too-broad"),
        ("old=; Max-Age=0", None),  # being deleted: not judged
        # #17: a load balancer's affinity cookie is not a session (the Observatory agrees)
        (
            "heroku-session-affinity=1; Secure; SameSite=Lax",
            "cookies-secure-with-httponly-sessions",
        ),
        # the platform's cookie, not the app's: Secure is not asked of it (the Observatory agrees)
        ("AWSALB=1; SameSite=Lax", "cookies-secure-with-httponly-sessions"),
        ("AWSALBCORS=1; SameSite=None", "cookies-samesite-none-without-secure"),
        ("sid=1; Secure; HttpOnly; SameSite=", "cookies-samesite-flag-invalid"),
    ],
)
def test_cookies(cookie, outcome):
    f = _fetched("https://app.example.test/", [("set-cookie", cookie)])
    results = checks.check_cookies(f, hsts=False)
    assert [r.outcome for r in results] == ([outcome] if outcome else [])


def test_an_affinity_cookie_says_what_it_is():
    f = _fetched("https://app.example.test/", [("set-cookie", "AWSALB=1; SameSite=Lax")])
    assert "affinity cookie, not a session" in checks.check_cookies(f, hsts=False)[0].message


def test_samesite_none_without_secure_is_rejected_by_browsers():
    f = _fetched("http://a.example/", [("set-cookie", "widget=1; SameSite=None")])
    assert "samesite-none-without-secure" in checks.check_cookies(f, hsts=False)[0].evidence


@pytest.mark.parametrize(
    ("headers", "outcome", "status"),
    [
        ([], "cross-origin-resource-sharing-not-implemented-or-restricted", "pass"),
        (
            [("access-control-allow-origin", "*")],
            "cross-origin-resource-sharing-implemented-with-public-access",
            "pass",
        ),
        (
            [
                ("access-control-allow-origin", checks.FOREIGN_ORIGIN),
                ("access-control-allow-credentials", "true"),
            ],
            "cross-origin-resource-sharing-origin-reflection-with-credentials",
            "fail",
        ),
        (
            [("access-control-allow-origin", checks.FOREIGN_ORIGIN)],
            "cross-origin-resource-sharing-implemented-with-origin-reflection",
            "fail",
        ),
        (
            [("access-control-allow-origin", "null"), ("access-control-allow-credentials", "true")],
            "cross-origin-resource-sharing-null-with-credentials",
            "fail",
        ),
    ],
)
def test_cors(headers, outcome, status):
    r = checks.check_cors(_fetched("https://a.example/", headers))
    assert (r.outcome, r.status) == (outcome, status)


def test_redirects():
    def chain(*urls):
        hops = [Hop(u, 301, httpx.Headers([("location", n)]), n) for u, n in zip(urls, urls[1:])]
        return Fetched(urls[0], chain=[*hops, Hop(urls[-1], 200, httpx.Headers())])

    ok = chain("http://a.example/", "https://a.example/")
    assert _outcome(checks.check_redirects(chain("https://a.example/"), ok), "HDR011") == [
        ("redirection-to-https", "pass")
    ]
    missing = Fetched("http://a.example/", chain=[Hop("http://a.example/", 200, httpx.Headers())])
    assert _outcome(checks.check_redirects(chain("https://a.example/"), missing), "HDR011") == [
        ("redirection-missing", "fail")
    ]
    off_host = chain("http://a.example/", "https://b.example/")
    assert _outcome(checks.check_redirects(chain("https://a.example/"), off_host), "HDR011") == [
        ("redirection-off-host-from-http", "fail")
    ]
    downgrade = chain("https://a.example/", "http://a.example/x")
    assert ("redirection-downgrade-to-http", "fail") in _outcome(
        checks.check_redirects(downgrade, ok), "HDR011"
    )


def test_leakage_repeated_headers_sri_and_grade():
    h = httpx.Headers(
        [
            ("server", "nginx/1.22.1"),
            ("x-powered-by", "PHP/8.1"),
            ("x-content-type-options", "nosniff"),
            ("x-content-type-options", "sniff"),
        ]
    )
    assert len(checks.check_leakage(h, strict=False)) == 2
    assert checks.check_leakage(httpx.Headers([("server", "nginx")]), strict=False) == []
    assert len(checks.check_leakage(httpx.Headers([("server", "nginx")]), strict=True)) == 1
    assert [r.outcome for r in checks.check_repeated(h)] == [
        "header-repeated-with-conflicting-values"
    ]
    page = b'<script src="https://cdn.example/x.js"></script><script src="http://cdn.example/y.js"></script>'
    assert (
        checks.check_sri("https://a.example/", page).outcome
        == "sri-not-implemented-and-external-scripts-not-loaded-securely"
    )
    score, letter = checks.grade(
        [checks.Result("HDR002", "csp-not-implemented", "fail", "", modifier=-25)]
    )
    assert (score, letter) == (75, "B")


# --- real servers ---------------------------------------------------------------------------------------
def _by_outcome(report):
    return {
        (f.rule_id, f.location.setting): f.status.value
        for f in report.findings
        if f.audit == "headers" and f.location.url
    }


def test_insecure_sample_over_http(tmp_path):
    root = make_tree(tmp_path / "t", {"README.md": "x\n"})
    with uvicorn_app("insecure-fastapi") as url:
        report = hardcheck.audit(root, only=["headers"], urls=[url + "/"])
    got = _by_outcome(report)
    for rule, outcome in [
        ("HDR002", "csp-not-implemented"),
        ("HDR003", "x-frame-options-not-implemented"),
        ("HDR004", "x-content-type-options-not-implemented"),
        ("HDR009", "cookies-samesite-none-without-secure"),  # sessionid: SameSite=None, no Secure
        (
            "HDR010",
            "cross-origin-resource-sharing-origin-reflection-with-credentials",
        ),  # Starlette echoes, with credentials
        ("HDR011", "redirection-missing"),
        ("HDR012", "information-disclosure-header"),
    ]:
        assert got.get((rule, outcome)) == "fail", (rule, outcome, got)
    grade = next(f for f in report.findings if f.rule_id == "HDR017")
    assert grade.status.value == "fail" and "grade F" in grade.message
    assert report.exit_code == 1


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    files = {}
    for name, kwargs in {
        "good": {"identities": ("127.0.0.1",)},
        "wronghost": {"identities": ("other.example",)},
        "expired": {
            "identities": ("127.0.0.1",),
            "not_before": dt.datetime(2020, 1, 1),
            "not_after": dt.datetime(2021, 1, 1),
        },
    }.items():
        cert = ca.issue_cert(*kwargs.pop("identities"), **kwargs)
        cert.cert_chain_pems[0].write_to_path(str(d / f"{name}.pem"))
        cert.private_key_pem.write_to_path(str(d / f"{name}.key"))
        files[name] = (d / f"{name}.pem", d / f"{name}.key")
    return d / "ca.pem", files


def test_hardened_sample_over_https_gets_an_a(tmp_path, pki):
    ca, certs = pki
    root = make_tree(tmp_path / "t", {"hardcheck.toml": f'[headers]\nca-file = "{ca}"\n'})
    with uvicorn_app("hardened-fastapi", tls=certs["good"]) as url:
        report = hardcheck.audit(root, only=["headers"], urls=[url + "/"])
    fails = [
        (f.rule_id, f.location.setting, f.message)
        for f in report.findings
        if f.status.value in ("fail", "error")
    ]
    assert fails == [], fails
    grade = next(f for f in report.findings if f.rule_id == "HDR017")
    assert "grade A" in grade.message
    assert next(f for f in report.findings if f.rule_id == "HDR013").status.value == "pass"


@pytest.mark.parametrize(
    ("name", "trust", "words"),
    [
        ("wronghost", True, "does not match the host name"),
        ("expired", True, "expired"),
        ("good", False, "could not be verified"),
    ],
)
def test_tls_failures_are_findings_not_crashes(tmp_path, pki, name, trust, words):
    ca, certs = pki
    root = make_tree(
        tmp_path / "t", {"hardcheck.toml": f'[headers]\nca-file = "{ca}"\n' if trust else ""}
    )
    with uvicorn_app("hardened-fastapi", tls=certs[name]) as url:
        report = hardcheck.audit(root, only=["headers"], urls=[url + "/"])
    (tls,) = [f for f in report.findings if f.rule_id == "HDR013"]
    assert tls.status.value == "fail" and tls.severity.value == "high"
    assert words in tls.message or "not trusted" in tls.message
    assert report.exit_code == 1


def test_insecure_mode_says_tls_was_not_verified(tmp_path, pki):
    _, certs = pki
    root = make_tree(tmp_path / "t", {"README.md": "x\n"})
    with uvicorn_app("hardened-fastapi", tls=certs["wronghost"]) as url:
        report = hardcheck.audit(
            root, only=["headers"], urls=[url + "/"], options={"headers": {"insecure": True}}
        )
    assert "NOT verified" in report.audits[0].message
    assert not [f for f in report.findings if f.rule_id == "HDR013" and f.status.value == "fail"]


def test_faults_are_bounded_errors_and_other_urls_complete(tmp_path):
    root = make_tree(
        tmp_path / "t", {"hardcheck.toml": "[headers]\ntimeout = 3\nmax-redirects = 5\n"}
    )
    with FaultServer() as srv:
        urls = [
            f"{srv.url}/{p}"
            for p in ("hang", "reset", "bigheaders", "loop", "drip", "gzipbomb", "ok")
        ]
        urls += ["http://bad url/", "ftp://a.example/"]
        t0 = time.monotonic()
        report = hardcheck.audit(root, only=["headers"], urls=urls)
        elapsed = time.monotonic() - t0
    assert elapsed < 20  # hang and drip are cut at the 3 s deadline, concurrently
    errors = {f.location.url: f.message for f in report.findings if f.rule_id == "HDR018"}
    assert "no complete answer within 3s" in errors[f"{srv.url}/hang"]
    assert "no complete answer within 3s" in errors[f"{srv.url}/drip"]
    assert f"{srv.url}/reset" in errors
    assert "malformed response" in errors[f"{srv.url}/bigheaders"]
    assert "redirect loop" in errors[f"{srv.url}/loop"]
    assert (
        "invalid URL" in errors["http://bad url/"]
        or "could not be audited" in errors["http://bad url/"]
    )
    assert "ftp://a.example/" in errors
    # the gzip bomb and the plain page were still audited
    graded = {f.location.url for f in report.findings if f.rule_id == "HDR017"}
    assert graded == {f"{srv.url}/gzipbomb", f"{srv.url}/ok"}
    assert report.audits[0].stats["bodies_truncated"] == 1
    assert report.exit_code == 3 and report.complete is False  # nothing high; some URLs unaudited


def test_static_passes_name_what_each_rule_read():
    report = hardcheck.audit(SAMPLES / "insecure-fastapi", only=["headers"])
    passes = {f.rule_id: f.message for f in report.findings if f.status.value == "pass"}
    assert passes["HDR022"] == "checked 1 nginx config(s)"
    assert passes["HDR023"] == "checked 1 nginx config(s)"
    assert "HDR020" not in passes  # no Django settings: a skip, not a pass


def test_checks_of_urls_that_did_not_answer_are_not_passes(tmp_path):
    closed = socket.socket()  # bound, never listening: connections are refused
    closed.bind(("127.0.0.1", 0))
    refused = f"http://127.0.0.1:{closed.getsockname()[1]}/"
    root = make_tree(tmp_path / "t", {"README.md": "x\n"})
    try:
        alone = hardcheck.audit(root, only=["headers"], urls=[refused])
        with FaultServer() as srv:
            mixed = hardcheck.audit(root, only=["headers"], urls=[refused, f"{srv.url}/ok"])
    finally:
        closed.close()
    live = {f"HDR{n:03d}" for n in range(1, 20)} - {"HDR018"}
    statuses = {f.rule_id: f.status.value for f in alone.findings if f.rule_id in live}
    assert statuses and set(statuses.values()) == {"skip"}, statuses
    skipped = next(f for f in alone.findings if f.rule_id == "HDR005")
    assert "none of the 1 URL(s) could be audited" in skipped.message
    assert alone.exit_code == 3
    passed = next(f for f in mixed.findings if f.rule_id == "HDR014")
    assert passed.status.value == "pass"
    assert passed.message == "checked 1 URL(s) (of 2; 1 could not be audited, HDR018)"


def test_pages_are_judged_as_they_arrive_not_all_held(tmp_path, monkeypatch):
    # each page body may be 256 KiB: a long URL list must not keep every page in memory
    import gc

    from hardcheck.audits.headers.audit import HeadersAudit
    from hardcheck.audits.headers.fetch import Fetched

    alive: list[int] = []
    judge = HeadersAudit.url_findings

    def counting(self, *args, **kwargs):
        mine = (o for o in gc.get_objects() if isinstance(o, Fetched))  # not other tests'
        alive.append(sum(o.url.startswith(f"{srv.url}/ok/") for o in mine))
        return judge(self, *args, **kwargs)

    monkeypatch.setattr(HeadersAudit, "url_findings", counting)
    root = make_tree(tmp_path / "t", {"hardcheck.toml": "[headers]\nconcurrency = 2\n"})
    with FaultServer() as srv:
        urls = [f"{srv.url}/ok/{i}" for i in range(12)]
        report = hardcheck.audit(root, only=["headers"], urls=urls)
    assert len(alive) == 12 and max(alive) <= 4, alive
    assert sum(f.rule_id == "HDR017" for f in report.findings) == 12


@pytest.mark.parametrize("concurrency", [1, 4])
def test_each_url_is_fetched_without_cookies_from_the_others(tmp_path, concurrency):
    # a server that sets its session cookie only for a new visitor, as Django and Flask do:
    # had the client kept the first URL's cookie, the later URLs would show none
    root = make_tree(
        tmp_path / "t", {"hardcheck.toml": f"[headers]\nconcurrency = {concurrency}\n"}
    )
    with FaultServer() as srv:
        urls = [f"{srv.url}/session/{i}" for i in range(6)]
        report = hardcheck.audit(root, only=["headers"], urls=urls)
    flagged = {
        f.location.url
        for f in report.findings
        if f.location.setting == "cookies-session-without-httponly-flag"
        and f.status.value == "fail"
    }
    assert flagged == set(urls)


def test_nginx_add_header_trap_static_and_live(tmp_path):
    http = (
        "    server {\n        listen 127.0.0.1:{port};\n"
        "        add_header X-Frame-Options DENY always;\n        add_header X-Content-Type-Options nosniff always;\n"
        "        location / { return 200 'ok'; }\n"
        "        location /static/ { add_header Cache-Control public; return 200 'static'; }\n    }"
    )
    static_conf = "events {}\nhttp {\n" + http.replace("{port}", "8080") + "\n}\n"
    root = make_tree(tmp_path / "t", {"deploy/nginx.conf": static_conf})
    with nginx_server(http, tmp_path / "nginx") as url:
        report = hardcheck.audit(root, only=["headers"], urls=[f"{url}/", f"{url}/static/"])
    (trap,) = [f for f in report.findings if f.rule_id == "HDR022"]
    assert "x-content-type-options, x-frame-options are not sent there" in trap.message
    broken = {
        (f.location.url, f.location.setting) for f in report.findings if f.rule_id == "HDR024"
    }
    assert broken == {
        (f"{url}/static/", "x-frame-options"),
        (f"{url}/static/", "x-content-type-options"),
    }


def test_outcome_table_is_the_one_source_of_outcomes():
    """Every outcome a check can name is in the table, and the table's rules exist."""
    import ast
    from pathlib import Path

    from hardcheck.catalogue import load_catalogue

    catalogue = load_catalogue()
    assert all(catalogue.get(o.rule).audit == "headers" for o in OUTCOMES.values())
    named = set()
    for module in ("checks.py", "csp.py"):
        tree = ast.parse((Path(checks.__file__).parent / module).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("result", "Outcome"):
                first = node.args[0] if node.args else None
                if isinstance(first, ast.Constant):
                    named.add(first.value)
            elif isinstance(node, ast.Constant) and str(node.value).startswith(
                ("csp-implemented-with-", "cookies-")
            ):
                named.add(node.value)
    assert len(named) >= 45
    assert named - set(OUTCOMES) == set()


def test_explain_lists_a_rules_outcomes():
    run = run_cli("explain", "HDR009")
    assert run.code == 0
    assert "Named outcomes" in run.stdout
    line = next(ln for ln in run.stdout.splitlines() if "cookies-session-without-secure-flag" in ln)
    assert "-40" in line and "high" in line
    assert "Named outcomes" not in run_cli("explain", "PRM001").stdout


# --- #17: the strict profile against the OWASP Secure Headers Project -------------------------------
# OWASP's recommended response headers (ci/headers_add.json of OWASP/www-project-secure-headers)
OWASP_ADD = [
    ("cache-control", "no-store, max-age=0"),
    ("clear-site-data", '"cache","cookies","storage"'),
    (
        "content-security-policy",
        "default-src 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; "
        "upgrade-insecure-requests; block-all-mixed-content; base-uri 'self'",
    ),
    ("cross-origin-embedder-policy", "require-corp"),
    ("cross-origin-opener-policy", "same-origin"),
    ("cross-origin-resource-policy", "same-origin"),
    ("permissions-policy", ", ".join(f"{f}=()" for f in checks.OWASP_PERMISSIONS)),
    ("referrer-policy", "no-referrer"),
    ("strict-transport-security", "max-age=31536000; includeSubDomains"),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "deny"),
    ("x-permitted-cross-domain-policies", "none"),
]


def _strict(headers: list[tuple[str, str]], strict: bool = True) -> list[checks.Result]:
    return checks.check_all(
        "https://a.example/", _fetched("https://a.example/", headers), None, None, strict
    )


def test_owasps_recommended_headers_pass_the_strict_profile():
    fails = [(r.rule, r.outcome) for r in _strict(OWASP_ADD) if r.status == "fail"]
    assert fails == []


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("feature-policy", "camera 'none'"),
        ("expect-ct", "max-age=86400, enforce"),
        (
            "public-key-pins",
            'pin-sha256="d6qzRu9zOECb90Uez27xWltNsj0e1Md7GkYYkVoZWmM="; max-age=5184000',
        ),
        ("pragma", "no-cache"),
    ],
)
def test_owasps_deprecated_headers_are_reported_in_the_strict_profile_only(name, value):
    strict = [r for r in _strict([*OWASP_ADD, (name, value)]) if r.status == "fail"]
    assert [(r.rule, r.outcome, r.key) for r in strict] == [
        ("HDR016", "deprecated-header-present", name)
    ]
    default = [r for r in _strict([*OWASP_ADD, (name, value)], strict=False) if r.rule == "HDR016"]
    assert default == []


@pytest.mark.parametrize(
    ("value", "strict", "default"),
    [
        # a partial policy: set, but camera and most of OWASP's features left open
        ("geolocation=(), microphone=()", "permissions-policy-partial", "pass"),
        # `*` opens a feature to every origin; an allowlist browsers cannot read restricts nothing
        (
            ", ".join(f"{f}=()" for f in checks.OWASP_PERMISSIONS if f != "camera") + ", camera=*",
            "permissions-policy-partial",
            "pass",
        ),
        (
            ", ".join(f"{f}=()" for f in checks.OWASP_PERMISSIONS if f != "usb") + ", usb=none",
            "permissions-policy-partial",
            "pass",
        ),
        # browsing-topics is what interest-cohort became (h5bp's policy sets it)
        (
            ", ".join(
                f"{'browsing-topics' if f == 'interest-cohort' else f}=()"
                for f in checks.OWASP_PERMISSIONS
            ),
            "permissions-policy-implemented",
            "pass",
        ),
        # the Feature-Policy syntax in a Permissions-Policy header: not a dictionary, ignored
        ("camera 'none'; geolocation 'none'", "permissions-policy-header-invalid", "fail"),
        (
            ", ".join(f'{f}=(self "https://a.example")' for f in checks.OWASP_PERMISSIONS),
            "permissions-policy-implemented",
            "pass",
        ),
    ],
)
def test_permissions_policy_is_read_as_a_structured_dictionary(value, strict, default):
    headers = [(n, v) for n, v in OWASP_ADD if n != "permissions-policy"]
    headers.append(("permissions-policy", value))
    (s,) = [r for r in _strict(headers) if r.rule == "HDR006"]
    (d,) = [r for r in _strict(headers, strict=False) if r.rule == "HDR006"]
    assert s.outcome == d.outcome == strict
    assert d.status == default
    assert s.status == ("pass" if strict == "permissions-policy-implemented" else "fail")
    if strict == "permissions-policy-partial":
        assert "unrestricted" in s.message


@pytest.mark.parametrize(
    ("header", "meta", "outcome"),
    [
        ("unsafe-url", "no-referrer", "referrer-policy-private"),  # the page's tag wins
        ("no-referrer", "unsafe-url", "referrer-policy-unsafe"),
        (None, "strict-origin", "referrer-policy-private"),
        (None, "whimsy", "referrer-policy-header-invalid"),
        ("origin", None, "referrer-policy-unsafe"),  # as the Observatory judges it
    ],
)
def test_a_pages_meta_referrer_overrides_the_header(header, meta, outcome):
    body = (
        f'<html><head><meta name="Referrer" content="{meta}"></head></html>'.encode()
        if meta
        else b""
    )
    headers = httpx.Headers([("referrer-policy", header)] if header else [])
    r = checks.check_referrer(headers, strict=False, body=body)
    assert r.outcome == outcome
    assert ("meta" in r.message) == bool(meta) or outcome.endswith("invalid")


def test_httpx_is_imported_without_its_command_line_client():
    code = (
        "import sys\n"
        "from hardcheck.httpximport import without_cli\n"
        "without_cli()\n"
        "import httpx\n"
        "assert 'httpx._main' not in sys.modules and 'pygments' not in sys.modules\n"
        "assert httpx.AsyncClient and callable(httpx.main)\n"
        "without_cli()  # harmless once httpx is imported\n"
        "print('ok')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.stdout.strip() == "ok", run.stderr
