"""A raw-socket HTTP server on 127.0.0.1 that misbehaves on purpose, one fault per path:

/hang        reads the request, never answers
/reset       reads the request, resets the connection (RST)
/bigheaders  answers with 1 MiB of headers
/loop        redirects to itself forever
/gzipbomb    a 50 KiB gzip body that inflates to 50 MiB
/deflatebomb a raw-deflate body that inflates to 200 MiB (built on first use)
/garbage     answers with bytes that are not HTTP at all
/drip        sends its response one byte every 0.3 s
/session     sets a session cookie unless the request already carries a cookie (as
             Django and Flask do for a new session)
anything else: a plain 200 with no security headers
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import socket
import struct
import threading
import time
import zlib

_BOMB = gzip.compress(b"\0" * (50 * 1024 * 1024), compresslevel=9)


@functools.lru_cache(maxsize=1)
def _deflate_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1024 * 1024)
    return b"".join(packer.compress(chunk) for _ in range(200)) + packer.flush()


class RawServer:
    """A listening socket on 127.0.0.1 and a thread per connection; `_handle` answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        # shutdown wakes the thread blocked in accept(); a bare close() would leave it
        # blocked on a listening socket that outlives this server
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(timeout=5)
        self.sock.close()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        raise NotImplementedError

    @staticmethod
    def read_head(conn: socket.socket) -> bytes | None:
        """The request line and headers (None when the client closed first)."""
        data = b""
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
        return data


class FaultServer(RawServer):
    def _handle(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(5)
            data = self.read_head(conn)
            if data is None:
                return
            path = data.split(b" ", 2)[1].decode("latin-1") if data.count(b" ") >= 2 else "/"
            self._respond(conn, path, data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def _respond(self, conn: socket.socket, path: str, request: bytes) -> None:
        if path.startswith("/hang"):
            self.stop.wait(60)
        elif path.startswith("/reset"):
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        elif path.startswith("/bigheaders"):
            head = b"HTTP/1.1 200 OK\r\n" + b"".join(
                b"X-Filler-%d: %s\r\n" % (i, b"a" * 1000) for i in range(1100)
            )
            conn.sendall(head + b"Content-Length: 0\r\n\r\n")
        elif path.startswith("/loop"):
            conn.sendall(
                b"HTTP/1.1 302 Found\r\nLocation: /loop\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
        elif path.startswith("/gzipbomb"):
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
                % len(_BOMB)
            )
            conn.sendall(head + _BOMB)
        elif path.startswith("/deflatebomb"):
            body = _deflate_bomb()
            head = (
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n"
                % len(body)
            )
            conn.sendall(head + body)
        elif path.startswith("/garbage"):
            conn.sendall(bytes(range(256)) * 64)
        elif path.startswith("/drip"):
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 1000:
                if self.stop.is_set():
                    return
                conn.sendall(bytes([byte]))
                time.sleep(0.3)
        else:
            cookie = b""
            if path.startswith("/session") and b"\r\ncookie:" not in request.lower():
                cookie = b"Set-Cookie: sessionid=new; Path=/\r\n"
            body = b"<html><body>plain</body></html>"
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n%sContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                % (cookie, len(body), body)
            )
