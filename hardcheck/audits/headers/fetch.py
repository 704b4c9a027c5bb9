"""Fetching a URL for the headers audit, with every bound the audit promises.

- redirects are followed by hand so every hop is kept (httpx drops the chain when its own
  limit is hit), with a hop limit and loop detection;
- the body is streamed and capped on the wire (`iter_raw`) and decompressed here with a
  bounded output, because httpx's own decompression is not bounded (a 51 KB gzip body
  became 50 MiB in one chunk);
- each URL has a wall-clock deadline on top of httpx's per-operation timeouts, which a
  server dripping one byte at a time would otherwise defeat;
- TLS failures (expired, self-signed, wrong host) are classified, so they become findings.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where used: audits that never fetch do not pay for httpx
    import httpx

BODY_CAP = 256 * 1024
MAX_HOPS = 10


@dataclass
class Hop:
    url: str
    status: int
    headers: httpx.Headers
    location: str | None = None


@dataclass
class Fetched:
    url: str
    chain: list[Hop] = field(default_factory=list)  # every response, the final one last
    body: bytes = b""
    body_note: str = ""
    tls: dict | None = None
    error: str = ""
    error_kind: str = ""  # invalid-url, dns, connect, timeout, tls, protocol, redirects

    @property
    def final(self) -> Hop | None:
        return self.chain[-1] if self.chain and not self.error else None


def tls_problem(exc: BaseException) -> str:
    """A certificate failure, in words, or "" when the error is something else."""
    text = str(exc)
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            text = cause.verify_message or str(cause)
            break
        cause = cause.__cause__ or cause.__context__
    lowered = text.lower()
    for needle, words in (
        ("expired", "the certificate has expired"),
        ("self-signed", "the certificate is self-signed"),
        ("self signed", "the certificate is self-signed"),
        ("hostname mismatch", "the certificate does not match the host name"),
        ("doesn't match", "the certificate does not match the host name"),
        ("not valid for", "the certificate does not match the host name"),
        ("unable to get local issuer", "the certificate's issuer is not trusted"),
        ("certificate verify failed", "the certificate could not be verified"),
    ):
        if needle in lowered:
            return words
    return ""


def _decompress(encoding: str, raw: bytes, cap: int) -> tuple[bytes, str]:
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return raw[:cap], ("truncated at the byte cap" if len(raw) > cap else "")
    if encoding in ("gzip", "x-gzip", "deflate"):
        # 47: gzip or zlib header; deflate is zlib-wrapped by the RFC, but some servers send
        # it raw (-15). Either way at most `cap` bytes come out: a bomb is cut, and said so.
        for wbits in (47,) if encoding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS):
            try:
                d = zlib.decompressobj(wbits)
                out = d.decompress(raw, cap)
            except zlib.error:
                continue
            if d.unconsumed_tail:
                return (
                    out,
                    "decompressed body truncated at the byte cap (possible compression bomb)",
                )
            return out, ""
        return b"", "body could not be decompressed"
    return b"", f"body encoding {encoding!r} not decoded"


async def _read_body(resp: httpx.Response, cap: int) -> tuple[bytes, str]:
    raw = bytearray()
    async for chunk in resp.aiter_raw():
        raw += chunk
        if len(raw) > cap:
            break
    return _decompress(resp.headers.get("content-encoding", ""), bytes(raw), cap)


def _tls_info(resp: httpx.Response) -> dict | None:
    stream = resp.extensions.get("network_stream")
    obj = stream.get_extra_info("ssl_object") if stream is not None else None
    if obj is None:
        return None
    cert = obj.getpeercert() or {}
    return {
        "version": obj.version(),
        "cipher": (obj.cipher() or ("",))[0],
        "not_after": cert.get("notAfter", ""),
    }


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    max_hops: int,
    cap: int,
    private: frozenset[str] = frozenset(),
) -> Fetched:
    import httpx

    out = Fetched(url=url)
    try:
        request = client.build_request("GET", url, headers=headers)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol, ValueError) as exc:
        out.error, out.error_kind = f"invalid URL: {exc}", "invalid-url"
        return out
    named = _origin(request.url)
    seen: set[str] = set()
    for _ in range(max_hops + 1):
        key = str(request.url)
        if key in seen:
            out.error, out.error_kind = f"redirect loop back to {key}", "redirects"
            return out
        seen.add(key)
        resp = await client.send(request, stream=True)
        try:
            hop = Hop(
                str(request.url), resp.status_code, resp.headers, resp.headers.get("location")
            )
            out.chain.append(hop)
            if out.tls is None and request.url.scheme == "https":
                out.tls = _tls_info(resp)
            if resp.is_redirect and resp.next_request is not None:
                request = resp.next_request
                if _origin(request.url) != named:
                    # the user's headers (tokens) go only to the origin they named: not to
                    # another host, nor to the same host over plain http
                    for name in private:
                        request.headers.pop(name, None)
                continue
            out.body, out.body_note = await _read_body(resp, cap)
            return out
        finally:
            await resp.aclose()
    out.error, out.error_kind = f"more than {max_hops} redirects", "redirects"
    return out


async def fetch(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    deadline: float = 20.0,
    max_hops: int = MAX_HOPS,
    cap: int = BODY_CAP,
    private: frozenset[str] = frozenset(),
) -> Fetched:
    """Never raises: what went wrong is in `error`/`error_kind`. `private`: names of
    headers (the user's request-headers) never sent beyond the origin of `url`.

    Each fetch is a first visit: the client's cookies are cleared, so a cookie one URL set
    is not sent to the next (a server that sets its session cookie only for a new visitor
    would otherwise hide it). Cookies set along the redirect chain are sent on its later
    hops, as a browser does. The client must therefore not be shared by concurrent fetches.
    """
    import httpx

    client.cookies.clear()

    try:
        return await asyncio.wait_for(
            _fetch(client, url, headers or {}, max_hops, cap, private), deadline
        )
    except asyncio.TimeoutError:
        return Fetched(url, error=f"no complete answer within {deadline:g}s", error_kind="timeout")
    except httpx.ConnectError as exc:
        problem = tls_problem(exc)
        if problem:
            return Fetched(url, error=problem, error_kind="tls")
        text = str(exc) or type(exc).__name__
        kind = (
            "dns"
            if ("Name or service not known" in text or "nodename" in text or "getaddrinfo" in text)
            else "connect"
        )
        return Fetched(url, error=f"cannot connect: {text[:200]}", error_kind=kind)
    except httpx.TimeoutException as exc:
        return Fetched(url, error=f"timed out ({type(exc).__name__})", error_kind="timeout")
    except (httpx.RemoteProtocolError, httpx.LocalProtocolError, httpx.DecodingError) as exc:
        return Fetched(url, error=f"malformed response: {str(exc)[:200]}", error_kind="protocol")
    except (httpx.HTTPError, OSError, ssl.SSLError) as exc:
        problem = tls_problem(exc)
        if problem:
            return Fetched(url, error=problem, error_kind="tls")
        return Fetched(url, error=f"{type(exc).__name__}: {str(exc)[:200]}", error_kind="connect")
