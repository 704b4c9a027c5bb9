"""An ASGI app that answers each header vector of a JSON file (the path in
HARDCHECK_VECTORS) at /v/<id>: its headers exactly as listed (repeats kept), its page as
the body, and, for a vector with `reflect_origin`, the request's Origin echoed back in
Access-Control-Allow-Origin. Run under uvicorn by tests.servers.uvicorn_app."""

from __future__ import annotations

import json
import os
from pathlib import Path

_PAGE = b"<!doctype html><html><head><title>vector</title></head><body></body></html>"
VECTORS = {
    v["id"]: v for v in json.loads(Path(os.environ["HARDCHECK_VECTORS"]).read_text())["vectors"]
}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    vector = VECTORS.get(scope["path"].removeprefix("/v/"))
    if vector is None:
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    headers = [(b"content-type", b"text/html; charset=utf-8")]
    # surrounding whitespace is not part of a field value (RFC 9110 5.5); h11 refuses it
    headers += [(n.encode(), v.strip().encode()) for n, v in vector["headers"]]
    if vector.get("reflect_origin"):
        origin = dict(scope["headers"]).get(b"origin")
        if origin:
            headers.append((b"access-control-allow-origin", origin))
    body = vector["body"].encode() if "body" in vector else _PAGE
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
