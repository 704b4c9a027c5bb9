"""Serves a catalogue example's response on 127.0.0.1, over http and https on one port.

A raw-socket server: the response is sent exactly as the example writes it (repeated
headers, no Server or Date header the example did not ask for). The first byte of each
connection says which protocol it speaks: a TLS ClientHello (0x16) is answered with TLS
(a trustme certificate for 127.0.0.1), anything else as plain http. An https example's
http:// twin therefore reaches the same server, which answers it with the example's
`http` response, or by default with a redirect to the https URL.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
from pathlib import Path

import trustme

from hardcheck.catalogue import Response
from tests.faultserver import RawServer

_REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 404: "Not Found"}


class ExampleServer(RawServer):
    def __init__(self, response: Response, ca: trustme.CA) -> None:
        super().__init__()
        self.response = response
        self.host = f"127.0.0.1:{self.port}"
        self.url = f"{response.scheme}://{self.host}/"
        self.tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert("127.0.0.1").configure_cert(self.tls)

    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            first = conn.recv(1, socket.MSG_PEEK)
            answer = self.response
            if first == b"\x16":
                conn = self.tls.wrap_socket(conn, server_side=True)
            elif self.response.scheme == "https":
                answer = self.response.http or Response(
                    status=301, headers=(("Location", "https://{host}/"),)
                )
            if self.read_head(conn) is None:
                return
            if answer.answer:
                conn.sendall(self._bytes(answer))
        except (OSError, ssl.SSLError):
            pass  # a client that gave up (an untrusted certificate) is the example's point
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _bytes(self, r: Response) -> bytes:
        body = r.body.encode()
        lines = [f"HTTP/1.1 {r.status} {_REASONS.get(r.status, 'Status')}"]
        lines += [f"{name}: {value.replace('{host}', self.host)}" for name, value in r.headers]
        lines += [f"Content-Length: {len(body)}", "Connection: close"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def ca_file(ca: trustme.CA, directory: Path) -> str:
    path = directory / "example-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)
