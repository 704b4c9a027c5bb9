"""A layer's or archive member's bytes, decompressed as they are read, within limits.

tarfile's own `r|*` would decompress a gzip bomb to the end; this reader counts what it
hands out and stops at a total-size cap, and at a decompression ratio no real layer has
(a tar of Python and text compresses 3–6×; a gigabyte of zeros, 1000×)."""

from __future__ import annotations

import bz2
import io
import lzma
import zlib
from dataclasses import dataclass
from typing import IO

CHUNK = 1 << 16
OUT_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    max_total: int = 4 << 30  # bytes decompressed over the whole target
    max_ratio: int = 200  # decompressed / compressed, once past `ratio_after`
    ratio_after: int = 32 << 20
    max_entries: int = 500_000
    max_json: int = 16 << 20  # an index, manifest or config blob


class LimitExceeded(Exception):
    """A stream that would decompress past a cap: the message says which."""


class Unsupported(Exception):
    """A compression this reader cannot decompress (the message names it)."""


class Budget:
    """Decompressed bytes left for the whole target (every layer draws from one budget)."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used = 0

    def draw(self, n: int) -> None:
        self.used += n
        if self.used > self.limits.max_total:
            raise LimitExceeded(
                f"the target decompresses to over {self.limits.max_total >> 20} MiB "
                "(the total-size cap)"
            )


def compression_of(head: bytes) -> str:
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if head[:3] == b"BZh":
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    return "none"


class Decompressed(io.RawIOBase):
    """`raw`'s bytes, decompressed by what its first bytes say, counted against `budget`."""

    def __init__(self, raw: IO[bytes], budget: Budget):
        self._raw = raw
        self._budget = budget
        self._pending = raw.read(6)
        self.compression = compression_of(self._pending)
        self._decoder = self._new_decoder()
        self._out = b""
        self._pos = 0  # how much of _out was handed out
        self._in_total = len(self._pending)
        self._out_total = 0
        self._eof = False

    def _new_decoder(self):
        if self.compression == "gzip":
            return zlib.decompressobj(wbits=31)
        if self.compression == "bzip2":
            return bz2.BZ2Decompressor()
        if self.compression == "xz":
            return lzma.LZMADecompressor()
        if self.compression == "zstd":
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                raise Unsupported(
                    "zstd-compressed (install the `zstandard` package to read it)"
                ) from None
            return zstandard.ZstdDecompressor().decompressobj()
        return None

    def readable(self) -> bool:
        return True

    def _fill(self) -> None:
        while not self._out and not self._eof:
            if self._decoder is None:
                out = self._take()
                self._eof = not out
            else:
                out = self._decode()
            self._count(len(out))
            self._out = out

    def _take(self) -> bytes:
        if self._pending:
            data, self._pending = self._pending, b""
            return data
        data = self._raw.read(CHUNK)
        self._in_total += len(data)
        return data

    def _decode(self) -> bytes:
        """At most OUT_CHUNK bytes at a time: a bomb never sits in memory whole."""
        d = self._decoder
        if self.compression == "gzip":
            if d.eof:  # a multi-member gzip stream goes on after the first member
                rest = d.unused_data or self._take()
                if not rest:
                    self._eof = True
                    return b""
                d = self._decoder = zlib.decompressobj(wbits=31)
                return d.decompress(rest, OUT_CHUNK)
            data = d.unconsumed_tail or self._take()
            if not data:
                raise EOFError("the gzip stream ends early (truncated)")
            return d.decompress(data, OUT_CHUNK)
        if self.compression in ("bzip2", "xz"):
            if d.eof:
                self._eof = True
                return b""
            data = self._take() if d.needs_input else b""
            if d.needs_input and not data:
                raise EOFError(f"the {self.compression} stream ends early (truncated)")
            return d.decompress(data, OUT_CHUNK)
        data = self._take()  # zstd, from the optional library
        if not data:
            self._eof = True
            return d.flush()
        return d.decompress(data)

    def _count(self, n: int) -> None:
        self._out_total += n
        self._budget.draw(n)
        limits = self._budget.limits
        if (
            self._decoder is not None
            and self._out_total > limits.ratio_after
            and self._out_total > limits.max_ratio * max(self._in_total, 1)
        ):
            raise LimitExceeded(
                f"decompresses to over {limits.max_ratio}× its size "
                f"({self._in_total} bytes gave {self._out_total} and more): a decompression bomb"
            )

    def readinto(self, buffer) -> int:
        if self._pos >= len(self._out):
            self._out, self._pos = b"", 0
            self._fill()
        n = min(len(buffer), len(self._out) - self._pos)
        buffer[:n] = memoryview(self._out)[self._pos : self._pos + n]
        self._pos += n
        return n


def decompressed(raw: IO[bytes], budget: Budget) -> io.BufferedReader:
    return io.BufferedReader(Decompressed(raw, budget), buffer_size=CHUNK)
