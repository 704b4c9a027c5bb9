"""Headers audit vs drheader's bulk mode on 200 URLs served on loopback.

    python benchmarks/headers_vs_drheader.py [--urls 200]

A threaded HTTP server on 127.0.0.1 answers every path with the same small page and a
few security headers. drheader (installed into its own venv under HARDCHECK_BENCH_DIR on
first use, since its pins differ from hardcheck's) scans the list with `scan bulk`;
hardcheck audits the same URLs with `audit --only headers`. Output lines are stable,
key=value. Target: hardcheck at least 5x faster, with more checks per URL.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import BIN, cache_dir, machine


class Page(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    latency = 0.0  # seconds of "work" per request, as a real service has
    requests_served: ClassVar[list[int]] = [0]

    def setup(self) -> None:
        super().setup()
        # as uvicorn and nginx do; without it, keep-alive clients stall 40 ms on every
        # response (Nagle + delayed ACK) and the benchmark measures the kernel, not the tools
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_HEAD(self) -> None:  # drheader asks with HEAD
        self.do_GET(head=True)

    def do_GET(self, head: bool = False) -> None:
        self.requests_served[0] += 1
        if self.latency:
            time.sleep(self.latency)
        body = b"<html><head><title>bench</title></head><body>ok</body></html>"
        self.send_response(200)
        for name, value in (
            ("Content-Type", "text/html"),
            ("X-Frame-Options", "DENY"),
            ("X-Content-Type-Options", "nosniff"),
            ("Set-Cookie", "sessionid=1; HttpOnly; SameSite=Lax"),
        ):
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def drheader_bin() -> Path:
    venv = cache_dir() / "drheader-venv"
    exe = venv / "bin" / "drheader"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "drheader==2.*"], check=True)
    return exe


def run(
    urls_count: int, latency_ms: int, drheader: Path
) -> tuple[float, float, int, int, int, int]:
    Page.latency = latency_ms / 1000
    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    urls = [f"{base}/page/{i}" for i in range(urls_count)]
    tmp = Path(tempfile.mkdtemp())
    (tmp / "urls.txt").write_text("\n".join(urls) + "\n")
    tree = tmp / "svc"
    tree.mkdir()
    (tree / "hardcheck.toml").write_text(
        "[headers]\nurls = [\n" + "".join(f'  "{u}",\n' for u in urls) + "]\n"
    )
    Page.requests_served[0] = 0
    t0 = time.perf_counter()
    drh = subprocess.run(
        [str(drheader), "scan", "bulk", "-ff", "txt", "-o", "json", str(tmp / "urls.txt")],
        capture_output=True,
        text=True,
    )
    drh_wall = time.perf_counter() - t0
    drh_requests = Page.requests_served[0]
    Page.requests_served[0] = 0
    t0 = time.perf_counter()
    # JSON to stdout, like drheader's -o json (no console checklist rendered)
    hc = subprocess.run(
        [str(BIN / "hardcheck"), "audit", str(tree), "--only", "headers", "--format", "json"],
        capture_output=True,
        text=True,
    )
    hc_wall = time.perf_counter() - t0
    hc_requests = Page.requests_served[0]
    server.shutdown()
    report = json.loads(hc.stdout)
    graded = sum(1 for f in report["findings"] if f["rule_id"] == "HDR017")
    per_url = sum(
        1
        for f in report["findings"]
        if f["location"]["url"] == urls[0] and f["rule_id"] != "HDR017"
    )
    try:
        drh_reported = len(json.loads(drh.stdout))
    except ValueError:
        drh_reported = -1
    return drh_wall, hc_wall, drh_reported, graded, per_url, len(urls), drh_requests, hc_requests


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--urls", type=int, default=200)
    parser.add_argument(
        "--latency-ms",
        type=int,
        nargs="*",
        default=[0, 25, 50],
        help="per-request service time(s) to measure",
    )
    args = parser.parse_args()
    drheader = drheader_bin()
    count = (
        "import os, yaml, drheader; "
        "print(len(yaml.safe_load(open(os.path.join(os.path.dirname(drheader.__file__), 'resources', 'rules.yml')))))"
    )
    drh_rules = subprocess.run(
        [str(drheader.parent / "python"), "-c", count], capture_output=True, text=True
    ).stdout.strip()
    print(f"machine={machine()}")
    ok = True
    for latency in args.latency_ms:
        drh_wall, hc_wall, drh_reported, graded, per_url, n, drh_req, hc_req = run(
            args.urls, latency, drheader
        )
        ok &= graded == n
        print(
            f"scenario=latency_{latency}ms urls={n} server=loopback ThreadingHTTPServer (TCP_NODELAY)"
        )
        print(
            f"  drheader_seconds={drh_wall:.2f} urls_reported={drh_reported} rules_per_url={drh_rules} requests_served={drh_req}"
        )
        print(
            f"  hardcheck_headers_seconds={hc_wall:.2f} urls_graded={graded} checks_per_url={per_url} requests_served={hc_req}"
        )
        print(f"  speedup_hardcheck_over_drheader={drh_wall / hc_wall:.2f}x target>=5x")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
