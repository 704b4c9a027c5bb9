"""What only an image shows the permissions audit: the user its config runs the service
as, whether that user can change the application, and layer entries that would escape the
image. The user is looked up in the image's own /etc/passwd and /etc/group, never the
machine's."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from dataclasses import dataclass

from ...inventory import Inventory, ReadSkipped, read_text
from ...model import Finding, Location
from ...safetext import display_path, safe
from ...services.start import IMAGE_CONFIG
from ..base import AuditContext, Coverage

ROOT_USER, APP_WRITABLE, UNSAFE_ENTRY = "PRM008", "PRM009", "PRM010"
IMAGE_RULES = (ROOT_USER, APP_WRITABLE, UNSAFE_ENTRY)
# setuid/setgid programs Debian, Ubuntu and Alpine base images ship, by path: a setuid
# file anywhere else is reported
BASE_SETUID = frozenset(
    f"{d}/{name}"
    for d in ("bin", "sbin", "usr/bin", "usr/sbin")
    for name in (
        "chage", "chfn", "chsh", "expiry", "gpasswd", "mount", "newgrp", "passwd", "su",
        "umount", "wall", "write", "unix_chkpwd", "ping", "crontab", "ssh-agent", "bbsuid",
        "pam_extrausers_chkpwd", "sudo",
    )
) | {"usr/lib/openssh/ssh-keysign", "usr/lib/dbus-1.0/dbus-daemon-launch-helper"}  # fmt: skip


@dataclass(frozen=True)
class RunUser:
    written: str
    uid: int | None  # None: not in the image's /etc/passwd
    gids: frozenset[int]

    @property
    def root(self) -> bool:
        return self.uid == 0


def _table(inv: Inventory, rel: str, max_size: int) -> list[list[str]] | None:
    entry = next((e for e in inv.files(content_only=False) if e.rel == rel), None)
    if entry is None:
        return None
    try:
        text = read_text(inv, entry, max_size)
    except ReadSkipped:
        return None
    return [line.split(":") for line in text.splitlines() if line and not line.startswith("#")]


def run_user(inv: Inventory, written: str, max_size: int) -> RunUser:
    """The config's `User` ("", "app", "1000", "app:app", "1000:1000") as ids."""
    name, _, group = written.partition(":")
    name = name or "root"  # no User: the runtime's default, root
    passwd = _table(inv, "etc/passwd", max_size) or []
    groups = _table(inv, "etc/group", max_size) or []
    row = next((r for r in passwd if len(r) > 3 and (r[0] == name or r[2] == name)), None)
    uid = int(name) if name.isdigit() else (int(row[2]) if row and row[2].isdigit() else None)
    if uid is None and name == "root":
        uid = 0
    gids: set[int] = set()
    if group:
        match = next((r for r in groups if len(r) > 2 and (r[0] == group or r[2] == group)), None)
        if group.isdigit():
            gids.add(int(group))
        elif match and match[2].isdigit():
            gids.add(int(match[2]))
    elif row and row[3].isdigit():
        gids.add(int(row[3]))
    user_name = row[0] if row else name
    for r in groups:  # supplementary groups
        if len(r) > 3 and user_name in r[3].split(",") and r[2].isdigit():
            gids.add(int(r[2]))
    return RunUser(written, uid, frozenset(gids))


def base_setuid(inv: Inventory, rel: str) -> bool:
    return inv.image is not None and rel in BASE_SETUID


def check_image(ctx: AuditContext, cov: Coverage) -> Iterator[Finding]:
    facts = ctx.inventory.image
    if facts is None:
        cov.skip(IMAGE_RULES, "not applicable: the target is not a container image")
        return
    cov.saw(UNSAFE_ENTRY, "layer", len(facts.layers))
    for where, why in ctx.inventory.problems:  # a layer not read to its end, a copy that failed
        cov.could_not_read(UNSAFE_ENTRY, where, why)
    for written, why, layer in facts.unsafe:
        yield ctx.fail(
            UNSAFE_ENTRY,
            f"layer {layer} holds an entry that escapes the image: {why}; it was not applied",
            Location(path=display_path(written)),
            evidence=f"layer {layer}",
            key=f"{layer}:{why.split(' (')[0]}",
        )
    user = run_user(ctx.inventory, facts.user, ctx.config.max_file_size)
    config = Location(path=IMAGE_CONFIG, setting="User")
    cov.saw(ROOT_USER, "image config", 1)
    shown = safe(facts.user) or "(not set)"
    if user.root:
        yield ctx.fail(
            ROOT_USER,
            f"the image runs its service as root (User {shown}): a flaw in the app is root "
            "in the container, one step from the host; set USER to an unprivileged account",
            config,
            evidence=f"User {shown}",
        )
        cov.skip(APP_WRITABLE, "the service runs as root (PRM008): every file is writable to it")
        return
    if user.uid is None:
        cov.could_not_read(
            (ROOT_USER, APP_WRITABLE),
            IMAGE_CONFIG,
            f"User {shown} is not in the image's /etc/passwd: which user runs it is not known",
        )
        return
    yield from _app_writable(ctx, cov, facts.app_dir, user)


def _writable(mode: int, uid: int, gid: int, user: RunUser) -> bool:
    if mode & stat.S_IWOTH:
        return True
    if uid == user.uid and mode & stat.S_IWUSR:
        return True
    return gid in user.gids and bool(mode & stat.S_IWGRP)


def _app_writable(ctx: AuditContext, cov: Coverage, app: str, user: RunUser) -> Iterator[Finding]:
    if not app:
        cov.skip(
            APP_WRITABLE, "the image sets no WorkingDir: which directory is the app's is not known"
        )
        return
    inside = [
        e
        for e in ctx.inventory.entries
        if e.kind in ("file", "dir") and (e.rel == app or e.rel.startswith(app + "/"))
    ]
    cov.saw(APP_WRITABLE, "path of the application directory", len(inside))
    if not inside:
        cov.skip(APP_WRITABLE, f"the image has no {display_path('/' + app)} (its WorkingDir)")
        return
    writable = [e for e in inside if _writable(e.mode, e.uid, e.gid, user)]
    if not writable:
        return
    examples = ", ".join(e.display for e in writable[:3])
    yield ctx.fail(
        APP_WRITABLE,
        f"{len(writable)} of {len(inside)} paths in the application directory /{display_path(app)} "
        f"are writable by the user the service runs as (User {safe(user.written)}), e.g. "
        f"{examples}: a flaw in the app can rewrite its own code; own them by root "
        "(COPY without --chown) and make only data directories writable",
        Location(path=display_path(app)),
        evidence=f"{len(writable)} writable by uid {user.uid}",
    )
