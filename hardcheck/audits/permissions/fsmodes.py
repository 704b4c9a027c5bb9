"""Filesystem checks of the permissions audit: modes, owners and links, from lstat data
the inventory already holds (nothing is opened)."""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
from collections.abc import Iterator

import pathspec

from ...inventory import Entry, path_spec
from ...model import Finding, Location, Severity
from ...readers.secretfiles import not_a_database
from ..base import AuditContext
from .image import base_setuid

# Data and config files that have no business being executable.
DATA_EXTENSIONS = frozenset(
    [
        ".json",
        ".yaml",
        ".yml",
        ".toml",
        ".ini",
        ".cfg",
        ".conf",
        ".env",
        ".txt",
        ".md",
        ".rst",
        ".csv",
        ".xml",
        ".html",
        ".htm",
        ".css",
        ".sql",
        ".pem",
        ".key",
        ".crt",
        ".lock",
        ".log",
        ".po",
        ".mo",
        ".properties",
        ".j2",
        ".jinja",
        ".tpl",
    ]
)


def _mode(bits: int) -> str:
    return f"{stat.S_IMODE(bits):04o}"


def _loc(entry: Entry) -> Location:
    return Location(path=entry.display)


def world_writable(ctx: AuditContext, entry: Entry) -> Finding | None:
    if entry.kind not in ("file", "dir") or not entry.mode & stat.S_IWOTH:
        return None
    if entry.kind == "dir" and entry.mode & stat.S_ISVTX:
        return None  # sticky directories (like /tmp) are fine
    what = "directory" if entry.kind == "dir" else "file"
    return ctx.fail(
        "PRM001",
        f"{what} is world-writable (mode {_mode(entry.mode)}): any local user can change it",
        _loc(entry),
        evidence=f"mode {_mode(entry.mode)}",
    )


def readable_secret(ctx: AuditContext, entry: Entry, secret: pathspec.PathSpec) -> Finding | None:
    if entry.kind != "file" or not secret.match_file(entry.rel):
        return None
    if ctx.services.in_frontend(entry.rel):
        return None  # a front-end's build-time .env: compiled into public bundles anyway
    if entry.mode & stat.S_IROTH:
        severity, who = Severity.HIGH, "world"
    elif entry.mode & stat.S_IRGRP:
        severity, who = Severity.MEDIUM, "group"
    else:
        return None
    if not_a_database(ctx.inventory, entry, ctx.config.max_file_size):
        return None
    return ctx.fail(
        "PRM002",
        f"secret-bearing file is {who}-readable (mode {_mode(entry.mode)})",
        _loc(entry),
        severity=severity,
        evidence=f"mode {_mode(entry.mode)}",
        key=who,
    )


def setuid(ctx: AuditContext, entry: Entry) -> Finding | None:
    if entry.kind != "file" or not entry.mode & (stat.S_ISUID | stat.S_ISGID):
        return None
    if base_setuid(ctx.inventory, entry.rel):
        ctx.stats["base_image_setuid"] += 1  # what every base image ships: su, passwd…
        return None
    bits = " and ".join(
        name
        for bit, name in ((stat.S_ISUID, "setuid"), (stat.S_ISGID, "setgid"))
        if entry.mode & bit
    )
    return ctx.fail(
        "PRM003",
        f"file has the {bits} bit (mode {_mode(entry.mode)}): it runs with its owner's rights",
        _loc(entry),
        evidence=f"mode {_mode(entry.mode)}",
    )


def executable_data(ctx: AuditContext, entry: Entry) -> Finding | None:
    if entry.kind != "file" or not entry.mode & 0o111:
        return None
    suffix = os.path.splitext(entry.rel)[1].lower()
    name = os.path.basename(entry.rel)
    if suffix not in DATA_EXTENSIONS and not name.startswith(".env"):
        return None
    return ctx.fail(
        "PRM004",
        f"data/config file is executable (mode {_mode(entry.mode)})",
        _loc(entry),
        evidence=f"mode {_mode(entry.mode)}",
    )


def link_outside(ctx: AuditContext, entry: Entry, real_root: str) -> Finding | None:
    if entry.kind != "symlink":
        return None
    path = ctx.inventory.path_of(entry)
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return ctx.not_read(entry.display, "symlink loop (never resolves)", "symlink-loop")
        # Dangling: judge where it would point once the target exists.
    resolved = os.path.realpath(path)
    if resolved == real_root or resolved.startswith(real_root.rstrip(os.sep) + os.sep):
        return None
    target = entry.link_target or "?"
    return ctx.fail(
        "PRM005",
        f"symlink points outside the audited tree (-> {target})",
        _loc(entry),
        evidence=f"-> {target}",
    )


def foreign_owner(ctx: AuditContext, entry: Entry) -> Finding | None:
    if entry.kind == "symlink" or entry.uid == ctx.inventory.root_uid:
        return None
    return ctx.fail(
        "PRM006",
        f"owned by {_user(entry.uid)}, while the tree root is owned by "
        f"{_user(ctx.inventory.root_uid)}",
        _loc(entry),
        evidence=f"uid {entry.uid}",
    )


def _user(uid: int) -> str:
    try:
        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except KeyError:
        return f"uid {uid}"


def _lookup(kind: str, name: str) -> int | None:
    if name.isdigit():
        return int(name)
    try:
        return pwd.getpwnam(name).pw_uid if kind == "owner" else grp.getgrnam(name).gr_gid
    except KeyError:
        return None


def expected_modes(ctx: AuditContext, table: dict) -> Iterator[Finding]:
    """Lynis-style expectations: `"glob" = { mode = "0600", owner = "app" }`.
    `mode` must match exactly; `max-mode` allows fewer bits but never more."""
    for pattern, want in sorted(table.items()):
        spec = path_spec([pattern])
        matched = [
            e for e in ctx.inventory.entries if e.kind != "symlink" and spec.match_file(e.rel)
        ]
        if not matched:
            yield ctx.fail(
                "PRM007",
                f"expected-modes entry '{pattern}' matches no file in the tree",
                Location(setting=f"permissions.expected-modes.{pattern}"),
                severity=Severity.LOW,
                key=f"unmatched:{pattern}",
            )
            continue
        for entry in matched:
            problems = []
            mode = stat.S_IMODE(entry.mode)
            if "mode" in want and mode != int(want["mode"], 8):
                problems.append(f"mode {mode:04o}, expected {int(want['mode'], 8):04o}")
            if "max-mode" in want and mode & ~int(want["max-mode"], 8):
                problems.append(f"mode {mode:04o} exceeds {int(want['max-mode'], 8):04o}")
            for kind, actual in (("owner", entry.uid), ("group", entry.gid)):
                if kind not in want:
                    continue
                wanted = _lookup(kind, want[kind])
                if wanted is None:
                    problems.append(f"{kind} '{want[kind]}' does not exist on this machine")
                elif wanted != actual:
                    problems.append(f"{kind} id {actual}, expected {want[kind]} ({wanted})")
            if problems:
                yield ctx.fail(
                    "PRM007",
                    f"does not match expected-modes '{pattern}': " + "; ".join(problems),
                    _loc(entry),
                    evidence="; ".join(problems),
                    key=pattern,
                )


IMAGE_NOT_APPLICABLE = {
    "PRM005": "an image's links resolve inside the image itself: there is no outside",
    "PRM006": "an image's files are owned as its build chose; PRM009 judges them against "
    "the user it runs as",
}


def check_tree(ctx: AuditContext, secret: pathspec.PathSpec) -> Iterator[Finding]:
    real_root = os.path.realpath(ctx.root)
    image = ctx.inventory.image is not None
    for entry in ctx.inventory.entries:
        ctx.stats["paths_checked"] += 1
        # in an image, a base-system file's name and mode are its distribution's business
        own = not image or entry.content
        ctx.stats["own_paths_checked"] += own
        for finding in (
            world_writable(ctx, entry),
            readable_secret(ctx, entry, secret) if own else None,
            setuid(ctx, entry),
            executable_data(ctx, entry) if own else None,
            None if image else link_outside(ctx, entry, real_root),
            None if image else foreign_owner(ctx, entry),
        ):
            if finding is not None:
                yield finding
    for rel, why in ctx.inventory.problems:
        yield ctx.unreadable(rel, why)
