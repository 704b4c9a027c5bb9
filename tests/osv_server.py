"""A small OSV-compatible `/v1/query` endpoint on 127.0.0.1, serving records from a
directory the way api.osv.dev would: pip-audit posts {"package": {"name", "ecosystem"},
"version"} (without a Content-Type) and does no version filtering itself, so ranges are
evaluated here, with the same OSV semantics the offline database uses."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from hardcheck.audits.dependencies.osv import OfflineDB, affects, osv_json


class OSVServer:
    def __init__(self, directory: Path):
        self.db = OfflineDB(directory)
        self.queries: list[dict] = []
        db, queries = self.db, self.queries

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/query":
                    self.send_error(404)
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                queries.append(body)
                name = canonicalize_name(body["package"]["name"])
                try:
                    version = Version(body["version"])
                except InvalidVersion:
                    vulns = []
                else:
                    vulns = [osv_json(r) for r in db.records_for(name) if affects(r, name, version)]
                payload = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/query"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> OSVServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
