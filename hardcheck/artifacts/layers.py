"""Apply an image's layers in order, as a container runtime does, into a model of the
final filesystem: modes, owners and setuid bits come from the layer tars' headers, never
from anything written to disk.

Only what an audit may read is written, as private 0600 copies inside a private
temporary directory: the service's own files (not the base system's), secret-bearing
files anywhere, and the package lists that say which files are the base system's. Links
are never created on disk; a layer entry that would escape the image (`../`, an absolute
path, a hard link out of it, a file written through a symlink) is recorded and skipped.
Whiteouts follow the OCI spec: `.wh.NAME` deletes NAME from the layers below,
`.wh..wh..opq` empties a directory of them. A file a later layer deleted or replaced is
kept apart (`removed`): it is still in the image for anyone who pulls it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import os
import re
import stat
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from ..inventory import DEFAULT_EXCLUDED_DIRS, Entry
from ..safetext import display_path
from .oci import ImageError, Layer
from .streams import Budget, LimitExceeded, Unsupported, compression_of, decompressed

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"
# Where an image keeps its base system. Under /usr, only /usr/src and /usr/local (but
# not the libraries and programs installed there, CPython among them) hold applications.
SYSTEM_DIRS = (
    "bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/", "boot/", "dev/", "proc/", "sys/",
    "run/", "var/lib/", "var/cache/", "var/log/", "var/spool/", "var/mail/", "usr/",
)  # fmt: skip
APP_UNDER_USR = ("usr/src/", "usr/local/")
SYSTEM_UNDER_USR_LOCAL = (
    "usr/local/lib/", "usr/local/lib64/", "usr/local/bin/", "usr/local/sbin/",
    "usr/local/include/", "usr/local/share/", "usr/local/man/",
)  # fmt: skip
# a Python installation's library (the standard library, installed distributions)
PYTHON_LIBRARY = re.compile(r"(^|/)(lib/python3[^/]*|site-packages|dist-packages)/")
PACKAGE_LISTS = re.compile(r"^(var/lib/dpkg/info/[^/]+\.list|lib/apk/db/installed)$")
# an installed Python distribution's metadata: what the image really runs on
INSTALLED_METADATA = re.compile(r"(^|/)(site|dist)-packages/[^/]+\.dist-info/METADATA$")
ACCOUNTS = frozenset({"etc/passwd", "etc/group"})
KIND_BITS = {
    "file": stat.S_IFREG,
    "dir": stat.S_IFDIR,
    "symlink": stat.S_IFLNK,
    "fifo": stat.S_IFIFO,
    "chardev": stat.S_IFCHR,
    "blockdev": stat.S_IFBLK,
}


def base_system_path(rel: str) -> bool:
    """A path where images keep what their base image and package manager installed."""
    if PYTHON_LIBRARY.search(rel):
        return True
    if any(part in DEFAULT_EXCLUDED_DIRS for part in rel.split("/")[:-1]):
        return True
    if rel.startswith(APP_UNDER_USR):
        return rel.startswith(SYSTEM_UNDER_USR_LOCAL)
    return rel.startswith(SYSTEM_DIRS)


class Node:
    __slots__ = ("blob", "gid", "kind", "layer", "link", "mode", "size", "uid")

    def __init__(
        self,
        kind: str,
        mode: int,
        uid: int,
        gid: int,
        size: int,
        link: str | None,
        layer: int,
        blob: str | None = None,  # the private copy of its bytes, when one was made
    ) -> None:
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.size, self.link, self.layer, self.blob = size, link, layer, blob


@dataclass(frozen=True)
class Removed:
    """A file a later layer deleted or replaced: its bytes are still in the image."""

    path: str
    layer: int  # where it was added
    by_layer: int  # the layer that deleted or replaced it
    copy: str  # path of its private copy, relative to the removed-files root
    size: int
    replaced: bool = False  # overwritten by a new file, not deleted


@dataclass
class Rootfs:
    workdir: Path  # private (0700) temporary directory
    max_file_size: int
    budget: Budget
    wanted_elsewhere: Callable[[str], bool]  # secret-bearing names outside the app
    everything: bool = False  # a release artifact: every file is the service's own
    nodes: dict[str, Node] = field(default_factory=dict)
    children: dict[str, set[str]] = field(default_factory=dict)
    removed: list[Removed] = field(default_factory=list)
    unsafe: list[tuple[str, str, int]] = field(default_factory=list)  # (as written, why, layer)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (where, why)
    layer_entries: dict[int, int] = field(default_factory=dict)
    _blobs: int = 0
    _entries: int = 0
    _in_layer: int = 0
    _removed_blobs: list[tuple[str, str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        (self.workdir / "blobs").mkdir(mode=0o700)
        self.nodes[""] = Node("dir", stat.S_IFDIR | 0o755, 0, 0, 0, None, 0)
        self.children[""] = set()

    # --- reading a layer ------------------------------------------------------------------
    def apply(self, layer: Layer) -> None:
        self._in_layer = 0
        try:
            with contextlib.ExitStack() as stack:
                raw = stack.enter_context(layer.open())
                if _plain_and_seekable(raw):
                    # an uncompressed layer (a docker save's): skipping a member is a seek
                    tf = tarfile.open(fileobj=raw, mode="r:")  # noqa: SIM115 - the stack closes it
                else:
                    stream = stack.enter_context(decompressed(raw, self.budget))
                    tf = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - as above
                stack.enter_context(tf)
                self._members(tf, layer)
        except (LimitExceeded, Unsupported) as exc:
            self.problems.append((layer.name, f"not read to the end: {exc}"))
        except ImageError as exc:
            self.problems.append((layer.name, f"cannot be read: {exc}"))
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            self.problems.append(
                (
                    layer.name,
                    f"is truncated or corrupt ({type(exc).__name__}: {exc}); "
                    f"the {self._in_layer} entries before that were audited",
                )
            )
        self.layer_entries[layer.index] = self._in_layer
        self._entries += self._in_layer

    def _members(self, tf: tarfile.TarFile, layer: Layer) -> None:
        member = tf.next()  # the first member, read when the TarFile opened, comes first
        while member is not None:
            tf.members.clear()  # type: ignore[attr-defined]  # else it keeps every header
            self._in_layer += 1
            if self._entries + self._in_layer > self.budget.limits.max_entries:
                raise LimitExceeded(
                    f"the image holds over {self.budget.limits.max_entries} entries"
                )
            self._entry(tf, member, layer.index)
            member = tf.next()

    def _entry(self, tf: tarfile.TarFile, member: tarfile.TarInfo, layer: int) -> None:
        rel = self.safe_name(member.name, layer)
        if rel is None:
            return
        parent, _, base = rel.rpartition("/")
        if base == OPAQUE:
            if self.parent_ok(parent, member.name, layer):
                for child in list(self.children.get(parent, ())):
                    self._remove(f"{parent}/{child}" if parent else child, layer, below=True)
            return
        if base.startswith(WHITEOUT):
            if self.parent_ok(parent, member.name, layer):
                gone = base[len(WHITEOUT) :]
                self._remove(f"{parent}/{gone}" if parent else gone, layer, below=True)
            return
        if not rel or not self.parent_ok(parent, member.name, layer):
            if not rel and member.isdir():  # the layer's "./": the root's own mode
                self.nodes[""] = Node(
                    "dir", stat.S_IFDIR | member.mode, member.uid, member.gid, 0, None, layer
                )
            return
        node = self._node(tf, member, rel, layer)
        if node is not None:
            self.put(rel, node, layer)

    def put(self, rel: str, node: Node, layer: int) -> None:
        """Add `node` at `rel` (a safe name whose parents are directories), replacing what was there."""
        parent, _, base = rel.rpartition("/")
        old = self.nodes.get(rel)
        if old is not None and not (old.kind == "dir" and node.kind == "dir"):
            self._remove(rel, layer, below=False)
        self.nodes[rel] = node
        self.children.setdefault(parent, set()).add(base)
        if node.kind == "dir":
            self.children.setdefault(rel, set())

    def safe_name(self, name: str, layer: int) -> str | None:
        if name.startswith("/"):
            self.unsafe.append(
                (name, "an absolute path (an extractor would write outside its directory)", layer)
            )
            return None
        parts: list[str] = []
        for part in name.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    self.unsafe.append((name, "a path that climbs out of the root (../)", layer))
                    return None
                parts.pop()
            else:
                parts.append(part)
        return "/".join(parts)

    def parent_ok(self, parent: str, written: str, layer: int) -> bool:
        """Every directory above exists as a directory (made, as runtimes do, when absent)."""
        if not parent:
            return True
        path = ""
        for part in parent.split("/"):
            above = path
            path = f"{path}/{part}" if path else part
            node = self.nodes.get(path)
            if node is None:
                self.nodes[path] = Node("dir", stat.S_IFDIR | 0o755, 0, 0, 0, None, layer)
                self.children.setdefault(above, set()).add(part)
                self.children.setdefault(path, set())
            elif node.kind == "symlink":
                self.unsafe.append(
                    (written, f"written through the symlink {display_path(path)} -> "
                     f"{display_path(node.link or '?')}", layer)
                )  # fmt: skip
                return False
            elif node.kind != "dir":
                self.unsafe.append(
                    (
                        written,
                        f"written under {display_path(path)}, which is not a directory",
                        layer,
                    )
                )
                return False
        return True

    def _node(self, tf: tarfile.TarFile, m: tarfile.TarInfo, rel: str, layer: int) -> Node | None:
        perms = m.mode & 0o7777
        if m.islnk():
            target = self.safe_link(m.linkname, m.name, layer)
            if target is None:
                return None
            source = self.nodes.get(target)
            if source is None or source.kind != "file":
                self.unsafe.append(
                    (
                        m.name,
                        f"a hard link to {display_path(m.linkname)}, which the image does not hold",
                        layer,
                    )
                )
                return None
            # one inode: the link has the target's mode, owner and bytes
            return Node(
                "file", source.mode, source.uid, source.gid, source.size, None, layer, source.blob
            )
        if m.isreg():
            return Node(
                "file",
                stat.S_IFREG | perms,
                m.uid,
                m.gid,
                m.size,
                None,
                layer,
                self._copy(tf, m, rel),
            )
        kind = (
            "dir" if m.isdir() else "symlink" if m.issym() else "fifo" if m.isfifo()
            else "chardev" if m.ischr() else "blockdev" if m.isblk() else ""
        )  # fmt: skip
        if not kind:
            return None  # a tar type no runtime extracts
        link = m.linkname if kind == "symlink" else None
        return Node(kind, KIND_BITS[kind] | perms, m.uid, m.gid, 0, link, layer)

    def safe_link(self, linkname: str, written: str, layer: int) -> str | None:
        if linkname.startswith("/"):
            self.unsafe.append(
                (written, f"a hard link to the absolute path {display_path(linkname)} "
                 "(an extractor would link a file outside its directory)", layer)
            )  # fmt: skip
            return None
        target = os.path.normpath(linkname)
        if target == ".." or target.startswith("../"):
            self.unsafe.append(
                (written, f"a hard link out of the root ({display_path(linkname)})", layer)
            )
            return None
        return target

    def wanted(self, rel: str) -> bool:
        return (
            self.everything
            or not base_system_path(rel)
            or self.wanted_elsewhere(rel)
            or bool(PACKAGE_LISTS.match(rel))
            or bool(INSTALLED_METADATA.search(rel))
            or rel in ACCOUNTS
        )

    def _copy(self, tf: tarfile.TarFile, m: tarfile.TarInfo, rel: str) -> str | None:
        if not self.wanted(rel):
            return None
        fh = tf.extractfile(m)
        return None if fh is None else self.copy(fh)

    def copy(self, fh: IO[bytes]) -> str:
        """A private copy of what `fh` holds, up to max-file-size and one byte more."""
        self._blobs += 1
        name = f"blobs/{self._blobs}"
        # a file over max-file-size keeps one byte more than that: an audit reading it
        # says "too large", as it does for a tree's file
        left = self.max_file_size + 1
        fd = os.open(self.workdir / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while left > 0:
                chunk = fh.read(min(left, 1 << 20))
                if not chunk:
                    break
                out.write(chunk)
                left -= len(chunk)
        return name

    def _remove(self, rel: str, layer: int, below: bool) -> None:
        """Delete `rel` and what lies under it (`below`: only what lower layers added)."""
        node = self.nodes.get(rel)
        if node is None or (below and node.layer >= layer):
            return
        for child in list(self.children.get(rel, ())):
            self._remove(f"{rel}/{child}" if rel else child, layer, below)
        if self.children.get(rel) and below:
            return  # a directory this layer also wrote into: it stays
        del self.nodes[rel]
        self.children.pop(rel, None)
        parent, _, base = rel.rpartition("/")
        self.children.get(parent, set()).discard(base)
        if node.kind == "file" and node.blob is not None:
            self._removed_blobs.append((rel, node.blob, node.layer))
            self.removed.append(Removed(rel, node.layer, layer, "", node.size, not below))

    # --- the result -----------------------------------------------------------------------
    def entries(self, content: Callable[[str], bool]) -> list[Entry]:
        """The final filesystem as inventory entries; `content`: which files are the service's."""
        out = []
        for rel in sorted(self.nodes):
            if not rel:
                continue  # the root itself
            node = self.nodes[rel]
            display = display_path(rel)
            out.append(
                Entry(
                    rel=rel,
                    display=rel if display == rel else display,
                    kind=node.kind,
                    mode=node.mode,
                    uid=node.uid,
                    gid=node.gid,
                    size=node.size,
                    content=node.kind == "file" and content(rel),
                    link_target=node.link,
                )
            )
        return out

    def materialise(self) -> tuple[Path, Path, frozenset[str]]:
        """Move each surviving copy to its path under `root`, each removed one under
        `removed/L<layer>/`; the paths of the copies that are now in `root`."""
        root, gone = self.workdir / "root", self.workdir / "removed"
        root.mkdir(mode=0o700)
        gone.mkdir(mode=0o700)
        placed: set[str] = set()
        for rel, node in self.nodes.items():
            if node.kind == "file" and node.blob is not None and self._place(node.blob, root, rel):
                placed.add(rel)
        kept = []
        for (rel, blob, added), entry in zip(self._removed_blobs, self.removed):
            copy = f"L{added}/{rel}"
            if self._place(blob, gone, copy):
                kept.append(dataclasses.replace(entry, copy=copy))
        self.removed = kept
        return root, gone, frozenset(placed)

    def _place(self, blob: str, base: Path, rel: str) -> bool:
        source = self.workdir / blob
        target = base / rel
        try:
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if source.exists():
                os.link(source, target)  # a hard-linked pair shares its copy
            return True
        except OSError as exc:
            self.problems.append(
                (display_path(rel), f"cannot be copied for reading: {exc.strerror}")
            )
            return False


def _plain_and_seekable(raw: IO[bytes]) -> bool:
    try:
        where = raw.tell()
        head = raw.read(6)
        raw.seek(where)
    except (OSError, AttributeError, io.UnsupportedOperation):
        return False
    return compression_of(head) == "none"
