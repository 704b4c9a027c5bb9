"""Network faults for the live audits, each alone and each bounded in time and memory.

The headers audit fetches every fault the raw-socket server can produce, plus TLS spoken
to a plain-HTTP port; the upload probe posts to the faults a request body can meet. Memory
is the peak Python allocation (tracemalloc, all threads) during the audit, measured
against the same audit of a well-behaved page. (The same faults fetched together, and
certificate failures: tests/test_headers.py.)
"""

from __future__ import annotations

import time
import tracemalloc

import pytest

import hardcheck
from tests.conftest import make_tree
from tests.faultserver import FaultServer
from tests.robustness.conftest import STATS

TIMEOUT = 2
SECONDS = TIMEOUT * 3 + 2  # connect, read and the redirect chain each get TIMEOUT at most
EXTRA_MEMORY = 32 * 1024 * 1024  # the bombs inflate to 50 and 200 MiB; the page cap is 256 KiB


@pytest.fixture(scope="module")
def server():
    with FaultServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    config = (
        f"[headers]\ntimeout = {TIMEOUT}\nmax-redirects = 5\n"
        f"[uploads]\nprobe-timeout = {TIMEOUT}\nprobe-limit = '1m'\n"
    )
    return make_tree(tmp_path_factory.mktemp("svc"), {"hardcheck.toml": config})


def _measured(call):
    tracemalloc.start()
    t0 = time.monotonic()
    try:
        report = call()
        elapsed = time.monotonic() - t0
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return report, elapsed, peak


@pytest.fixture(scope="module")
def baseline_peak(server, tree):
    _, _, peak = _measured(lambda: hardcheck.audit(tree, only=["headers"], urls=[server.url]))
    return peak


HEADER_FAULTS = [
    ("/hang", "error", "no complete answer within"),
    ("/drip", "error", "no complete answer within"),  # slowloris: one byte every 0.3 s
    ("/reset", "error", ""),
    ("/bigheaders", "error", "malformed response"),  # 1 MiB of headers
    ("/loop", "error", "redirect loop"),
    ("/garbage", "error", ""),
    ("/gzipbomb", "graded", "possible compression bomb"),
    ("/deflatebomb", "graded", "possible compression bomb"),
    ("tls", "error", ""),  # TLS spoken to a port that answers in plain HTTP
]


@pytest.mark.parametrize(("path", "outcome", "words"), HEADER_FAULTS)
def test_headers_audit_survives(server, tree, baseline_peak, path, outcome, words):
    url = server.url.replace("http:", "https:") + "/ok" if path == "tls" else server.url + path
    report, elapsed, peak = _measured(lambda: hardcheck.audit(tree, only=["headers"], urls=[url]))
    STATS["faults"] += 1
    assert elapsed < SECONDS, f"{path} took {elapsed:.1f}s"
    assert peak < baseline_peak + EXTRA_MEMORY, f"{path} peaked at {peak >> 20} MiB"
    assert not [f for f in report.findings if f.rule_id == "RUN001"]  # no crash
    errors = [
        f.message for f in report.findings if f.rule_id == "HDR018" and f.status.value == "error"
    ]
    if outcome == "error":
        assert errors and words in errors[0]
        assert report.complete is False and report.exit_code == 3
    else:
        assert not errors
        assert [f for f in report.findings if f.rule_id == "HDR017"]  # the page was graded
        assert report.audits[0].stats["bodies_truncated"] == 1
        notes = " ".join(f.message for f in report.findings)
        assert words in notes or words in report.audits[0].message


@pytest.mark.parametrize(
    ("path", "outcome"),
    [
        ("/hang", "error"),
        ("/reset", "error"),
        ("/garbage", "error"),
        ("/drip", "error"),  # its status line takes longer than the timeout
        ("/bigheaders", "fail"),  # 200, behind 1 MiB of headers
    ],
)
def test_upload_probe_survives(server, tree, baseline_peak, path, outcome):
    url = server.url + path
    report, elapsed, peak = _measured(
        lambda: hardcheck.audit(tree, only=["uploads"], options={"uploads": {"probe": [url]}})
    )
    STATS["faults"] += 1
    assert elapsed < SECONDS, f"{path} took {elapsed:.1f}s"
    assert peak < baseline_peak + EXTRA_MEMORY
    (verdict,) = [f for f in report.findings if f.rule_id == "UPL007"]
    # a reset, silence or noise proves nothing about the limit: never a pass
    assert verdict.status.value == outcome, verdict.message
