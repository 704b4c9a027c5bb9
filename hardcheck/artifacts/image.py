"""An image as an inventory: its final filesystem (from the layers, with the modes and
owners their headers record) and the facts of its config that only an image has."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..inventory import Inventory, path_spec
from ..readers.secretfiles import NOT_SECRET_PATTERNS, SECRET_FILE_PATTERNS
from ..safetext import safe
from .layers import INSTALLED_METADATA, PACKAGE_LISTS, Removed, Rootfs, base_system_path
from .oci import ImageSource, open_image
from .streams import Budget, Limits

# What the servers in an image read however they were installed: nginx's own config (a
# package's conffile, edited by the build) is how the proxy in front behaves.
SERVICE_CONFIG = ("etc/nginx/", "etc/supervisor/", "etc/uwsgi/", "etc/gunicorn/")


@dataclass(frozen=True)
class ImageFacts:
    """What the image's config and layers say beside its files. `env` holds values as the
    image does (secrets among them): it is read, never shown."""

    format: str
    reference: str
    user: str
    env: tuple[tuple[str, str], ...]
    entrypoint: tuple[str, ...]
    cmd: tuple[str, ...]
    workdir: str
    history: tuple[tuple[int, str], ...]  # (1-based step, created_by)
    layers: tuple[tuple[int, str, int], ...]  # (index, digest, entries read)
    removed: tuple[Removed, ...] = ()
    removed_root: str = ""
    unsafe: tuple[tuple[str, str, int], ...] = ()  # (path as written, why, layer)
    installed: tuple[
        tuple[str, str, str], ...
    ] = ()  # Python distributions: (name, version, METADATA)

    @property
    def app_dir(self) -> str:
        """The application's directory, tree-relative ("" when the image does not say)."""
        return self.workdir.strip("/")


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


def _env(value: Any) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in _strings(value):
        key, sep, val = item.partition("=")
        if sep and key:
            pairs.append((key, val))
    return tuple(pairs)


def _package_files(fs: Rootfs, workdir: Path, placed: frozenset[str]) -> set[str]:
    """The files the OS package manager installed (dpkg's lists, apk's database)."""
    owned: set[str] = set()
    for rel in placed:
        if not PACKAGE_LISTS.match(rel):
            continue
        try:
            text = (workdir / "root" / rel).read_text("utf-8", "replace")
        except OSError:
            continue
        if rel.endswith(".list"):
            owned.update(line.strip().lstrip("/") for line in text.splitlines() if line.strip())
        else:  # apk: "F:dir" then "R:file" lines
            folder = ""
            for line in text.splitlines():
                if line.startswith("F:"):
                    folder = line[2:].strip()
                elif line.startswith("R:"):
                    owned.add(f"{folder}/{line[2:].strip()}" if folder else line[2:].strip())
    return owned


def read_image(path: Path, tag: str, workdir: Path, max_file_size: int) -> Inventory:
    """The image's inventory, its readable files copied under `workdir` (private, 0700)."""
    limits = Limits()
    with open_image(path, tag, limits) as source:
        secret = path_spec([*SECRET_FILE_PATTERNS, *(f"!{p}" for p in NOT_SECRET_PATTERNS)])
        fs = Rootfs(workdir, max_file_size, Budget(limits), secret.match_file)
        for layer in source.layers:
            fs.apply(layer)
    root, removed_root, placed = fs.materialise()
    owned = _package_files(fs, workdir, placed)
    venvs = tuple(rel[: -len("pyvenv.cfg")] for rel in fs.nodes if rel.endswith("/pyvenv.cfg"))
    entries = fs.entries(
        lambda rel: (
            rel.startswith(SERVICE_CONFIG)
            or (not base_system_path(rel) and rel not in owned and not rel.startswith(venvs))
        )
    )
    facts = _facts(source, fs, removed_root, _installed(workdir, placed))
    inv = Inventory(root=root, entries=entries, source="image", root_uid=0)
    inv.note = safe(
        "; ".join(
            [f"{source.format} {source.reference}: {len(source.layers)} layer(s)", *source.notes]
        )
    )
    inv.label = _label(source.reference)
    inv.extracted = placed
    inv.image = facts
    inv.problems.extend(fs.problems)
    return inv


def _installed(workdir: Path, placed: frozenset[str]) -> tuple[tuple[str, str, str], ...]:
    """(Name, Version, path) of each installed distribution whose METADATA was copied."""
    out = []
    for rel in sorted(placed):
        if not INSTALLED_METADATA.search(rel):
            continue
        try:
            with open(workdir / "root" / rel, encoding="utf-8", errors="replace") as fh:
                head = fh.read(16384).split("\n\n", 1)[0]  # the headers come first
        except OSError:
            continue
        fields = {}
        for line in head.splitlines():
            key, sep, value = line.partition(":")
            if sep and key in ("Name", "Version") and key not in fields:
                fields[key] = value.strip()
        if fields.get("Name") and fields.get("Version"):
            out.append((fields["Name"], fields["Version"], rel))
    return tuple(out)


def _label(reference: str) -> str:
    """A service name from the image's: `registry/team/api:1.2` -> api."""
    name = reference.rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    return name or "image"


def _facts(
    source: ImageSource, fs: Rootfs, removed_root: Path, installed: tuple[tuple[str, str, str], ...]
) -> ImageFacts:
    config = source.config.get("config") or source.config.get("Config") or {}
    if not isinstance(config, dict):
        config = {}
    history = [
        (i, str(h.get("created_by", "")))
        for i, h in enumerate(source.config.get("history") or [], 1)
        if isinstance(h, dict) and h.get("created_by")
    ]
    return ImageFacts(
        format=source.format,
        reference=safe(source.reference),
        user=str(config.get("User") or ""),
        env=_env(config.get("Env")),
        entrypoint=_strings(config.get("Entrypoint")),
        cmd=_strings(config.get("Cmd")),
        workdir=str(config.get("WorkingDir") or ""),
        history=tuple(history),
        layers=tuple((x.index, x.digest, fs.layer_entries.get(x.index, 0)) for x in source.layers),
        removed=tuple(fs.removed),
        removed_root=os.fspath(removed_root),
        unsafe=tuple(fs.unsafe),
        installed=installed,
    )
