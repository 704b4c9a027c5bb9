"""Headers audit vs drheader's bulk mode on 200 URLs served on loopback.

    python benchmarks/headers_vs_drheader.py [--urls 200] [--latency-ms 0 25 50]
                                             [--profile strict] [--concurrency N]

A threaded HTTP server on 127.0.0.1 answers every path with the same small page and a
few security headers, after a chosen service time per request. drheader scans the list
with `scan bulk`; hardcheck audits the same URLs with `audit --only headers`. Each tool
runs from its own venv under HARDCHECK_BENCH_DIR, installed as a user installs it
(drheader's pins differ from hardcheck's; hardcheck is reinstalled from this checkout on
every run, compiled, without the test extras). hardcheck runs its strict profile, the
closer match to drheader's default rules (which require COEP and Cache-Control too).

Besides the wall times it prints each tool's time for one URL (its fixed cost), the
requests each made, and what each looks at per URL: drheader's rules each name one
header; for hardcheck the distinct response headers its checks read, counted by
recording every header lookup while checking one fetched page. Output lines are
stable, key=value. Target: hardcheck at least 5x faster, with more checks per URL.
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
from corpus import cache_dir, machine


class Server(ThreadingHTTPServer):
    # socketserver's default listen backlog is 5: ten clients connecting at once overflow
    # it and the kernel makes the rest retry one second later. uvicorn and gunicorn listen
    # with 2048, nginx with 511; this is a benchmark of the tools, not of that default.
    request_queue_size = 128


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


def installed(name: str, requirement: str, reinstall: bool = False) -> Path:
    """The tool's executable in its own venv, created on first use."""
    venv = cache_dir() / f"{name}-venv"
    exe = venv / "bin" / name
    pip = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([*pip, requirement], check=True)
    elif reinstall:
        subprocess.run([*pip, "--no-deps", "--force-reinstall", requirement], check=True)
    return exe


def drheader_bin() -> Path:
    return installed("drheader", "drheader==2.*")


def hardcheck_bin() -> Path:
    return installed("hardcheck", str(Path(__file__).resolve().parent.parent), reinstall=True)


def serve(latency_ms: int) -> tuple[Server, str]:
    Page.latency = latency_ms / 1000
    server = Server(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def time_drheader(drheader: Path, urls: list[str]) -> tuple[float, int, int]:
    """(seconds, URLs in its report, requests served)."""
    listing = Path(tempfile.mkdtemp()) / "urls.txt"
    listing.write_text("\n".join(urls) + "\n")
    Page.requests_served[0] = 0
    t0 = time.perf_counter()
    drh = subprocess.run(
        [str(drheader), "scan", "bulk", "-ff", "txt", "-o", "json", str(listing)],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    try:
        reported = len(json.loads(drh.stdout))
    except ValueError:
        reported = -1
    return wall, reported, Page.requests_served[0]


def time_hardcheck(
    hardcheck: Path, urls: list[str], profile: str, concurrency: int | None
) -> tuple[float, dict, int]:
    """(seconds, the JSON report, requests served)."""
    tree = Path(tempfile.mkdtemp()) / "svc"
    tree.mkdir()
    (tree / "hardcheck.toml").write_text(
        f'[headers]\nprofile = "{profile}"\n'
        + (f"concurrency = {concurrency}\n" if concurrency else "")
        + "urls = [\n"
        + "".join(f'  "{u}",\n' for u in urls)
        + "]\n"
    )
    Page.requests_served[0] = 0
    t0 = time.perf_counter()
    # JSON to stdout, like drheader's -o json (no console checklist rendered)
    hc = subprocess.run(
        [str(hardcheck), "audit", str(tree), "--only", "headers", "--format", "json", "--no-cache"],
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - t0
    return wall, json.loads(hc.stdout), Page.requests_served[0]


def headers_examined(url: str, strict: bool) -> int:
    """How many distinct response headers hardcheck's checks look at for one page: every
    lookup goes through Headers.get_list, which this counts (drheader: one per rule)."""
    import asyncio

    import httpx

    from hardcheck.audits.headers.checks import check_all
    from hardcheck.audits.headers.fetch import fetch

    seen: set[str] = set()

    class Recording(httpx.Headers):
        def get_list(self, key: str, split_commas: bool = False) -> list[str]:
            seen.add(key.lower())
            return super().get_list(key, split_commas)

    async def get():
        async with httpx.AsyncClient() as client:
            return await fetch(client, url)

    page = asyncio.run(get())
    for hop in page.chain:
        hop.headers = Recording(hop.headers)
    check_all(url, page, None, page, strict)
    return len(seen)


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
    parser.add_argument(
        "--profile",
        choices=["default", "strict"],
        default="strict",
        help="hardcheck's headers profile (strict is the closer match to drheader's rules)",
    )
    parser.add_argument(
        "--concurrency", type=int, help="hardcheck's [headers] concurrency (default: its own)"
    )
    args = parser.parse_args()
    drheader = drheader_bin()
    hardcheck = hardcheck_bin()
    count = (
        "import os, yaml, drheader; "
        "print(len(yaml.safe_load(open(os.path.join(os.path.dirname(drheader.__file__), 'resources', 'rules.yml')))))"
    )
    drh_rules = subprocess.run(
        [str(drheader.parent / "python"), "-c", count], capture_output=True, text=True
    ).stdout.strip()
    print(f"machine={machine()}")
    print(f"hardcheck_profile={args.profile} concurrency={args.concurrency or 'default'}")
    ok = True
    for latency in args.latency_ms:
        server, base = serve(latency)
        urls = [f"{base}/page/{i}" for i in range(args.urls)]
        drh_wall, drh_reported, drh_req = time_drheader(drheader, urls)
        hc_wall, report, hc_req = time_hardcheck(hardcheck, urls, args.profile, args.concurrency)
        drh_one = time_drheader(drheader, urls[:1])[0]
        hc_one = time_hardcheck(hardcheck, urls[:1], args.profile, args.concurrency)[0]
        examined = headers_examined(urls[0], args.profile == "strict")
        server.shutdown()
        graded = sum(1 for f in report["findings"] if f["rule_id"] == "HDR017")
        per_url = sum(
            1
            for f in report["findings"]
            if f["location"]["url"] == urls[0] and f["rule_id"] != "HDR017"
        )
        ok &= graded == len(urls)
        speedup = drh_wall / hc_wall
        print(
            f"scenario=latency_{latency}ms urls={len(urls)} server=loopback ThreadingHTTPServer (TCP_NODELAY)"
        )
        print(
            f"  drheader_seconds={drh_wall:.2f} one_url_seconds={drh_one:.2f} urls_reported={drh_reported}"
            f" rules_per_url={drh_rules} headers_examined_per_url={drh_rules} requests_served={drh_req}"
        )
        print(
            f"  hardcheck_headers_seconds={hc_wall:.2f} one_url_seconds={hc_one:.2f} urls_graded={graded}"
            f" checks_per_url={per_url} headers_examined_per_url={examined} requests_served={hc_req}"
        )
        print(f"  speedup_hardcheck_over_drheader={speedup:.2f}x target>=5x met={speedup >= 5}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
