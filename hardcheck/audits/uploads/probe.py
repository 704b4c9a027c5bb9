"""The opt-in upload-limit probe: does a live endpoint refuse a body just over the limit?

A raw HTTP/1.1 client on purpose: the probe must send the headers, wait to see whether
the server answers before the body (nginx and Flask answer 413, Django and Starlette 400),
then stream the body in chunks while watching for an early answer, and stop the moment
one arrives. httpx sends a request body whole before it looks at the response.

Bounds: only URLs the user named; one request per check; never more than `ceiling`
bytes of body per request; every socket operation has a timeout.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

CHUNK = 64 * 1024
HEADER_WAIT = 1.5


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer (connection closed or timed out)
    sent: int  # body bytes sent
    note: str = ""
    closed: bool = False  # the server closed or reset the connection (not: went silent)


class ProbeError(Exception):
    pass


def _connect(url: str, timeout: float, verify: bool) -> tuple[socket.socket, str, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProbeError(f"not an http(s) URL: {url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        sock = socket.create_connection((parts.hostname, port), timeout=timeout)
    except OSError as exc:
        raise ProbeError(
            f"cannot connect to {parts.hostname}:{port}: {exc.strerror or exc}"
        ) from None
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        try:
            sock = context.wrap_socket(sock, server_hostname=parts.hostname)
        except (ssl.SSLError, OSError) as exc:
            sock.close()
            raise ProbeError(f"TLS handshake failed: {exc}") from None
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.netloc.rsplit("@", 1)[-1]
    return sock, host, path


def _answer(sock: socket.socket, timeout: float, sent: int, when: str) -> Answer:
    """Read the status line of the server's answer; a status line dripped slowly still has
    to arrive within `timeout` in total. Silence, a close and a partial or non-HTTP answer
    are told apart in the note, since none of them is a refusal."""
    deadline = time.monotonic() + timeout
    data = b""
    closed = False
    try:
        while b"\r\n" not in data and len(data) < 8192:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            chunk = sock.recv(1024)
            if not chunk:
                closed = True
                break
            data += chunk
    except socket.timeout:
        pass  # silence: the server neither answered nor closed
    except OSError:
        closed = True  # reset or broken pipe: the server closed the connection
    line = data.split(b"\r\n", 1)[0].split()
    if len(line) >= 2 and line[0].startswith(b"HTTP/") and line[1].isdigit():
        return Answer(int(line[1]), sent, f"answered {when}")
    if data:
        return Answer(None, sent, f"sent no complete HTTP status line {when}")
    if closed:
        return Answer(None, sent, f"closed the connection {when}", closed=True)
    return Answer(None, sent, f"went silent {when} (no answer within {timeout:g}s)")


def _readable(sock: socket.socket, wait: float) -> bool:
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    return bool(select.select([sock], [], [], wait)[0])


def post(
    url: str,
    size: int,
    *,
    ceiling: int,
    timeout: float = 10.0,
    verify: bool = True,
    user_agent: str = "hardcheck",
) -> Answer:
    """POST a body of `size` zero bytes (Content-Length: size), watching for an early answer."""
    if size > ceiling:
        raise ProbeError(f"a {size}-byte body is above the probe ceiling ({ceiling} bytes)")
    sock, host, path = _connect(url, timeout, verify)
    try:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {user_agent}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length: {size}\r\n"
            "Connection: close\r\n\r\n"
        )
        sock.settimeout(timeout)
        sock.sendall(head.encode("ascii"))
        if _readable(sock, HEADER_WAIT):
            return _answer(sock, timeout, 0, "before the body was sent")
        sent = 0
        block = b"\0" * CHUNK
        deadline = time.monotonic() + timeout * 6
        while sent < size:
            if time.monotonic() > deadline:
                return Answer(None, sent, "gave up sending: too slow")
            if _readable(sock, 0):
                return _answer(sock, timeout, sent, "while the body was being sent")
            piece = block[: min(CHUNK, size - sent)]
            try:
                sock.sendall(piece)
            except socket.timeout:
                # the server stopped reading and never answered: silence, not a refusal
                return Answer(
                    None, sent, f"stopped reading the body and went silent (after {timeout:g}s)"
                )
            except OSError:
                return _answer(sock, 2, sent, "while the body was being sent")
            sent += len(piece)
        return _answer(sock, timeout, sent, "after the whole body")
    finally:
        sock.close()
