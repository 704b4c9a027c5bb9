"""The Mozilla HTTP Observatory's own test cases, replayed over HTTPS: every vector of
tests/data/headers/observatory_vectors.json is served by uvicorn on 127.0.0.1 with a
trustme certificate, audited by hardcheck, and hardcheck's verdict on the question the
Observatory asked is compared with the Observatory's. Where hardcheck deliberately
reaches another verdict, the vector names the README row that says why; the test fails
if such a row is missing, if the difference has gone, or if agreement falls below 95 %."""

from __future__ import annotations

import json
import re

import pytest
import trustme

import hardcheck
from hardcheck.audits.headers.outcomes import OUTCOMES
from tests.conftest import REPO, make_tree
from tests.servers import uvicorn_app

VECTORS_FILE = REPO / "tests/data/headers/observatory_vectors.json"
VECTORS = json.loads(VECTORS_FILE.read_text())["vectors"]
README = (REPO / "README.md").read_text()
# Questions hardcheck asks that the Observatory does not: these outcomes are reported
# beside the Observatory's verdict (with modifier 0, so the grade is the Observatory's),
# never instead of it.
ASKS_MORE = {
    "csp-object-src-not-none",
    "csp-base-uri-not-restricted",
    "csp-default-src-missing",
    "csp-form-action-not-restricted",
    "csp-form-action-insecure",
}
# Where the Observatory names one outcome for what hardcheck splits into several: its
# csp-implemented-with-unsafe-inline covers "'unsafe-inline' or data: in script-src, overly
# broad sources, or not restricting object-src or script-src" (its grader/charts.js), and
# its universal access is an Origin echoed with credentials.
EQUIVALENT = {
    "csp-implemented-with-unsafe-inline": {
        "csp-implemented-with-broad-script-source",
        "csp-implemented-with-insecure-scheme",
        "csp-script-src-not-restricted",
        "csp-object-src-not-restricted",
    },
    "cross-origin-resource-sharing-implemented-with-universal-access": {
        "cross-origin-resource-sharing-origin-reflection-with-credentials",
    },
}
_HDR007 = {
    "coop": "cross-origin-opener-policy",
    "coep": "cross-origin-embedder-policy",
    "corp": "cross-origin-resource-policy",
}


def _differences_in_readme() -> set[str]:
    section = README.split("## Where hardcheck differs from the Observatory", 1)[1]
    section = section.split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z0-9-]+)`", section, re.M))


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    d = tmp_path_factory.mktemp("observatory")
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(d / "ca.pem"))
    cert = ca.issue_cert("127.0.0.1")
    cert.cert_chain_pems[0].write_to_path(str(d / "cert.pem"))
    cert.private_key_pem.write_to_path(str(d / "key.pem"))
    root = make_tree(
        d / "t", {"hardcheck.toml": f'[headers]\nca-file = "{d / "ca.pem"}"\nhttp-twin = false\n'}
    )
    with uvicorn_app(
        app="tests.vector_app:app",
        cwd=REPO,
        tls=(d / "cert.pem", d / "key.pem"),
        env={"HARDCHECK_VECTORS": str(VECTORS_FILE)},
    ) as base:
        urls = {v["id"]: f"{base}/v/{v['id']}" for v in VECTORS}
        report = hardcheck.audit(root, only=["headers"], urls=list(urls.values()))
    by_url: dict[str, list] = {}
    for f in report.findings:
        by_url.setdefault(f.location.url, []).append(f)
    return {vid: by_url.get(url, []) for vid, url in urls.items()}


def _verdict(vector: dict, findings: list) -> tuple[bool, set[str]]:
    """(hardcheck passes the question, the outcomes it reported for it)."""
    mine = [
        f
        for f in findings
        if f.rule_id == vector["rule"]
        and f.location.setting not in ASKS_MORE
        and (
            vector["rule"] != "HDR007"
            or f.location.setting.startswith(_HDR007[vector["id"].split("-")[0]])
        )
    ]
    errors = [f for f in findings if f.status.value == "error"]
    assert not errors, [f.message for f in errors]
    return all(f.status.value != "fail" for f in mine), {f.location.setting for f in mine}


def _agrees(vector: dict, findings: list) -> bool:
    passed, outcomes = _verdict(vector, findings)
    theirs = vector["observatory"]
    if passed != theirs["pass"]:
        return False
    named = {theirs["result"], *EQUIVALENT.get(theirs["result"], ())}
    return theirs["result"] not in OUTCOMES or bool(named & outcomes)


def test_hardcheck_agrees_with_the_observatory_on_its_own_vectors(verdicts):
    agree = [v["id"] for v in VECTORS if _agrees(v, verdicts[v["id"]])]
    differ = [v for v in VECTORS if v["id"] not in agree]
    print(f"observatory vectors: {len(agree)}/{len(VECTORS)} agree")
    unexplained = [
        (v["id"], v["observatory"], _verdict(v, verdicts[v["id"]]))
        for v in differ
        if "differs" not in v
    ]
    assert unexplained == []
    assert len(agree) >= 0.95 * len(VECTORS)


@pytest.mark.parametrize("vector", [v for v in VECTORS if "differs" in v], ids=lambda v: v["id"])
def test_each_deliberate_difference_is_real_and_in_the_readme_table(verdicts, vector):
    assert vector["differs"] in _differences_in_readme()
    assert not _agrees(vector, verdicts[vector["id"]])


def test_every_question_hardcheck_adds_is_in_the_readme_table():
    assert _differences_in_readme() >= ASKS_MORE
