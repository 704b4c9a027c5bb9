"""One walk of the target tree, shared by every audit.

The walk never follows symlinks and never opens anything but regular files. When the
target is a git checkout, git's listing (tracked files plus untracked files that are
not ignored) decides which files are *content*, i.e. what content audits (secrets,
code, configs) read. Every file present is still listed for the permissions audit:
an ignored `.env` lying world-readable on a deployed box is exactly what it must see.
"""

from __future__ import annotations

import functools
import os
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pathspec

from .safetext import display_path, safe

# Directories that hold other projects' files, never the service's own.
DEFAULT_EXCLUDED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        "__pycache__",
        ".venv",
        "node_modules",
        ".tox",
        ".nox",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
    }
)
GIT_TIMEOUT = 60


_PROBE_ANSWERS: dict[frozenset[str], frozenset[str]] = {}


def _shared(rel: str, display: str) -> str:
    """The display path, as the same object as `rel` when they are equal (nearly always):
    one string per entry instead of two."""
    return rel if display == rel else display


def path_spec(patterns) -> pathspec.PathSpec:
    """gitignore-style patterns (what users write in .gitignore), matched on relative paths."""
    return pathspec.GitIgnoreSpec.from_lines(patterns)


class Entry(NamedTuple):
    """One path of the tree. A tuple, not a dataclass: a large tree has a hundred thousand
    of them, in this process and in each worker that audits the whole tree."""

    rel: str  # relative path as the OS gave it (may hold surrogate-escaped bytes)
    display: str  # the same, safe to print
    kind: str  # file | dir | symlink | fifo | socket | chardev | blockdev | other
    mode: int
    uid: int
    gid: int
    size: int
    content: bool
    link_target: str | None = None
    tracked: bool | None = None  # committed to git; None when the tree is not a checkout
    # what a changed file cannot keep: the result cache reuses a file's digest while they hold
    stamp: str = ""  # "mtime_ns:ctime_ns:inode:device"


@dataclass
class Inventory:
    root: Path
    entries: list[Entry] = field(default_factory=list)
    source: str = "walk"  # "git", "walk", or for an artifact "image" or "wheel"/"sdist"
    label: str = ""  # an artifact's name (a tree is named by its directory)
    note: str = ""
    problems: list[tuple[str, str]] = field(default_factory=list)  # (display path, why)
    excluded: int = 0
    root_uid: int = 0
    # An artifact's files are copies, made only of what audits may read: the others are
    # listed (modes, owners) but have no bytes here. None: every file is on disk.
    extracted: frozenset[str] | None = None
    image: Any = None  # hardcheck.artifacts.image.ImageFacts, for an image
    # Content tests audits register (name -> test of a file's path and bytes), answered in
    # the same read as the digest, so each file is read once per run whoever asks.
    probes: dict[str, Callable[[str, bytes], bool]] = field(
        default_factory=lambda: {"binary": _binary}, repr=False
    )
    _facts: dict[str, tuple[str | None, frozenset[str]]] = field(default_factory=dict, repr=False)
    _recalled: set[str] = field(default_factory=set, repr=False)
    _stamp_key_map: dict[str, str] | None = field(default=None, repr=False)

    def __getstate__(self) -> dict:
        # A worker process reads what it needs itself: the run's file facts (one per file)
        # and the audits' probes stay in this process instead of a copy in every worker,
        # and so do the stamps (only this process keeps facts between runs): on a tree of
        # 100,000 entries, 10 MB less in each worker that audits the whole tree.
        return {
            **self.__dict__,
            "entries": [e._replace(stamp="") if e.stamp else e for e in self.entries],
            "_facts": {},
            "_recalled": set(),
            "probes": {},
            "_stamp_key_map": None,
        }

    @property
    def name(self) -> str:
        return self.label or self.root.name

    @functools.cached_property
    def file_count(self) -> int:
        """Regular files present, content or not."""
        return sum(1 for e in self.entries if e.kind == "file")

    def files(self, content_only: bool = True) -> Iterator[Entry]:
        for entry in self.entries:
            if entry.kind == "file" and (entry.content or not content_only):
                yield entry

    def path_of(self, entry: Entry) -> Path:
        return self.root / entry.rel

    def facts(self, entry: Entry, max_size: int) -> tuple[str | None, frozenset[str]]:
        """A file's content digest and the names of the probes its content satisfies,
        from one read per run whichever audit asks first. Digest None: over `max_size`
        or unreadable (such a file is never cached)."""
        if entry.rel not in self._facts:
            from .cache import digest_bytes

            try:
                data = read_bytes(self, entry, max_size)
            except ReadSkipped:
                self._facts[entry.rel] = (None, frozenset())
            else:
                hits = frozenset(n for n, probe in self.probes.items() if probe(entry.rel, data))
                # a handful of distinct answers over a whole tree: one set object each
                hits = _PROBE_ANSWERS.setdefault(hits, hits)
                self._facts[entry.rel] = (digest_bytes(data), hits)
        return self._facts[entry.rel]

    def digest(self, entry: Entry, max_size: int) -> str | None:
        return self.facts(entry, max_size)[0]

    # --- facts kept between runs -------------------------------------------------------------
    # As git's index does, a file whose size, mtime, ctime, inode and device are those
    # recorded is taken to hold the recorded content, without reading it (ctime cannot be
    # set back from user space). A fact is recorded only for a file last modified at least
    # STAMP_SETTLE seconds before the run: a file written twice within one timestamp tick
    # would otherwise keep its stamp and a stale digest.
    STAMP_SETTLE = 2.0

    def _stamp_keys(self, cache, max_size: int) -> dict[str, str]:
        if self._stamp_key_map is None:  # once per run: recall and keep use the same keys
            from .cache import namespace

            space = namespace("facts", sorted(self.probes), max_size)
            self._stamp_key_map = {
                e.rel: cache.key(space, e.rel, str(e.size), e.stamp)
                for e in self.files(content_only=False)
            }
        return self._stamp_key_map

    def recall_facts(self, cache, max_size: int) -> int:
        """Known facts for files whose stamp is unchanged; how many were found."""
        if not cache.enabled:
            return 0
        keys = self._stamp_keys(cache, max_size)
        found = cache.get_many(keys.values(), count=False)
        for rel, key in keys.items():
            value = found.get(key)
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                self._facts[rel] = (value[0], frozenset(map(str, value[1])))
                self._recalled.add(rel)
        cache.stats.unchanged = len(self._recalled)
        return len(self._recalled)

    def describe(self) -> dict:
        return {
            "source": self.source,
            "note": safe(self.note),
            "entries": len(self.entries),
            "files": self.file_count,
            "content_files": sum(1 for _ in self.files()),
            "excluded": self.excluded,
            "problems": len(self.problems),
        }

    def keep_facts(self, cache, max_size: int, started: float) -> None:
        """Record this run's new facts of settled files (see STAMP_SETTLE)."""
        if not cache.enabled:
            return
        settled = int((started - self.STAMP_SETTLE) * 1e9)
        keys = self._stamp_keys(cache, max_size)
        entries = {e.rel: e for e in self.files(content_only=False)}
        fresh = {}
        for rel, (digest, probes) in list(self._facts.items()):
            entry = entries.get(rel)
            if digest is None or entry is None or rel in self._recalled:
                continue
            if max(map(int, entry.stamp.split(":")[:2])) < settled:
                fresh[keys[rel]] = [digest, sorted(probes)]
        cache.put_many(fresh, count=False)


def is_binary(data: bytes) -> bool:
    """A NUL byte in the first 8 KiB, unless it is UTF-16 text: what every audit here takes
    for "not text"."""
    head = data[:8192]
    return b"\0" in head and _utf16_encoding(head) is None


def _utf16_encoding(head: bytes) -> str | None:
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "utf-16"  # the BOM says which byte order
    if len(head) < 4 or len(head) % 2:
        return None
    # BOM-less: Windows tools write ASCII-range text as UTF-16 with every other byte NUL
    low, high = head[0::2], head[1::2]
    if b"\0" not in low and high.count(0) >= 0.9 * len(high):
        return "utf-16-le"
    if b"\0" not in high and low.count(0) >= 0.9 * len(low):
        return "utf-16-be"
    return None


def utf16_text(data: bytes) -> str | None:
    """The text of a UTF-16 file (PowerShell and Windows editors write them), else None."""
    encoding = _utf16_encoding(data[:8192])
    if encoding is None:
        return None
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _binary(rel: str, data: bytes) -> bool:
    return is_binary(data)


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISREG, "file"),
        (stat.S_ISDIR, "dir"),
        (stat.S_ISLNK, "symlink"),
        (stat.S_ISFIFO, "fifo"),
        (stat.S_ISSOCK, "socket"),
        (stat.S_ISCHR, "chardev"),
        (stat.S_ISBLK, "blockdev"),
    ):
        if test(mode):
            return name
    return "other"


def _git_listing(root: Path) -> tuple[dict[str, bool] | None, str]:
    """The files git considers part of the project (path -> tracked?), or None and why not."""
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        proc = subprocess.run(
            [
                "git",
                "-C",
                str(root),
                "ls-files",
                "-z",
                "-t",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except FileNotFoundError:
        return None, ""
    except subprocess.TimeoutExpired:
        return None, f"git ls-files took over {GIT_TIMEOUT}s; walked the directory instead"
    if proc.returncode != 0:
        err = proc.stderr.decode("utf-8", "replace").strip()
        if "not a git repository" in err:
            return None, ""
        first = next((ln for ln in err.splitlines() if ln.strip()), f"exit {proc.returncode}")
        return None, f"git refused to list files ({first.strip()}); walked the directory instead"
    if _ignored_as_a_whole(root, env):
        # An unpacked release under build/, a vendored or generated directory: the user
        # named it, so it is what they want audited, whatever the checkout around it says.
        return None, (
            "the target is ignored by the git checkout around it: walked the directory, "
            "every file is content"
        )
    # `-t` tags each path: "? " untracked (not ignored), anything else is in the index
    names: dict[str, bool] = {}
    for item in proc.stdout.split(b"\0"):
        if len(item) > 2:
            names[os.fsdecode(item[2:])] = item[:1] != b"?"
    return names, ""


def _ignored_as_a_whole(root: Path, env: dict[str, str]) -> bool:
    """git ignores the target directory itself (or a directory above it, inside the checkout)."""
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-q", "."],
            capture_output=True,
            timeout=GIT_TIMEOUT,
            env=env,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def build_inventory(
    root: Path, include: tuple[str, ...] = (), exclude: tuple[str, ...] = ()
) -> Inventory:
    root_stat = os.stat(root)
    inv = Inventory(root=root, root_uid=root_stat.st_uid)
    listing, note = _git_listing(root)
    inv.source = "git" if listing is not None else "walk"
    inv.note = note
    include_spec = path_spec(include) if include else None
    exclude_spec = path_spec(exclude) if exclude else None

    stack: list[str] = [""]
    while stack:
        rel_dir = stack.pop()
        try:
            with os.scandir(root / rel_dir if rel_dir else root) as it:
                children = sorted(it, key=lambda d: d.name)
        except OSError as exc:
            inv.problems.append(
                (display_path(rel_dir or "."), f"cannot list directory: {exc.strerror}")
            )
            continue
        subdirs: list[str] = []
        for child in children:
            rel = f"{rel_dir}/{child.name}" if rel_dir else child.name
            try:
                st = child.stat(follow_symlinks=False)
            except OSError as exc:
                inv.problems.append((display_path(rel), f"cannot stat: {exc.strerror}"))
                continue
            kind = _kind(st.st_mode)
            if kind == "dir" and (
                child.name in DEFAULT_EXCLUDED_DIRS
                or os.path.exists(os.path.join(child.path, "pyvenv.cfg"))
            ):
                inv.excluded += 1
                continue
            match_path = rel + "/" if kind == "dir" else rel
            if exclude_spec is not None and exclude_spec.match_file(match_path):
                inv.excluded += 1
                continue
            if kind != "dir" and include_spec is not None and not include_spec.match_file(rel):
                inv.excluded += 1
                continue
            link_target = None
            if kind == "symlink":
                try:
                    link_target = os.readlink(child.path)
                except OSError:
                    link_target = None
            content = kind == "file" and (listing is None or rel in listing)
            inv.entries.append(
                Entry(
                    rel=rel,
                    display=_shared(rel, display_path(rel)),
                    kind=kind,
                    mode=st.st_mode,
                    uid=st.st_uid,
                    gid=st.st_gid,
                    size=st.st_size,
                    content=content,
                    link_target=link_target,
                    tracked=listing.get(rel) if listing is not None else None,
                    stamp=f"{st.st_mtime_ns}:{st.st_ctime_ns}:{st.st_ino}:{st.st_dev}",
                )
            )
            if kind == "dir":
                subdirs.append(rel)
        stack.extend(reversed(subdirs))
    return inv


class ReadSkipped(Exception):
    """A file the audit chose not to, or could not, read; the message says why.

    `kind` names the reason: "too-large", "binary" and "not-utf8" are deliberate (the file
    is not what an audit reads: a `skip`), "unreadable" and "not-regular" are inputs the
    audit needed and could not read (an `error`: the rules that needed them cannot pass)."""

    DELIBERATE = frozenset({"too-large", "binary", "not-utf8", "base-system"})

    def __init__(self, message: str, kind: str = "unreadable"):
        super().__init__(message)
        self.kind = kind

    @property
    def deliberate(self) -> bool:
        return self.kind in self.DELIBERATE


def read_bytes(inv: Inventory, entry: Entry, max_size: int) -> bytes:
    """Read a regular file without following a link or blocking on a FIFO."""
    if entry.size > max_size:
        raise ReadSkipped(
            f"larger than max-file-size ({entry.size} > {max_size} bytes)", "too-large"
        )
    if inv.extracted is not None and entry.rel not in inv.extracted:
        raise ReadSkipped(
            f"a base-system file of the {inv.source} (not the service's own): not read",
            "base-system",
        )
    return read_path(os.path.join(inv.root, entry.rel), max_size)


def read_path(path: str | os.PathLike[str], max_size: int) -> bytes:
    """A tree path that is not (or no longer) an inventory entry, such as one a finding
    names from git history: the same checks, no link followed, no FIFO waited on."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ReadSkipped(f"cannot open: {exc.strerror}") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise ReadSkipped("no longer a regular file", "not-regular")
        chunks = []
        remaining = max_size + 1
        while remaining > 0:
            chunk = os.read(fd, min(remaining, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
        data = b"".join(chunks)
    except OSError as exc:
        raise ReadSkipped(f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_size:
        raise ReadSkipped(f"larger than max-file-size ({max_size} bytes)", "too-large")
    return data


def read_text(inv: Inventory, entry: Entry, max_size: int) -> str:
    data = read_bytes(inv, entry, max_size)
    wide = utf16_text(data) if b"\0" in data[:8192] else None
    if wide is not None:
        return wide
    if is_binary(data):
        raise ReadSkipped("binary file (NUL bytes)", "binary")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReadSkipped(f"not valid UTF-8 (byte {exc.start})", "not-utf8") from None
