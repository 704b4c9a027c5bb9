"""A Python release artifact as the tree it installs: a wheel (a zip) or an sdist (a
gzipped tar). Members are read from the archive's own headers, with the same safety as
an image's layers: no name may climb out, links are never created, sizes are capped."""

from __future__ import annotations

import stat
import tarfile
import zipfile
from pathlib import Path

from ..inventory import Inventory
from ..safetext import display_path, safe
from .layers import Node, Rootfs
from .oci import ImageError, Layer
from .streams import Budget, LimitExceeded, Limits


def distribution_kind(path: Path) -> str:
    """ "wheel", "sdist" or "" for a file that is neither."""
    name = path.name.lower()
    if name.endswith(".whl") and zipfile.is_zipfile(path):
        return "wheel"
    if name.endswith((".tar.gz", ".tgz")) and tarfile.is_tarfile(path):
        return "sdist"
    if name.endswith(".zip") and zipfile.is_zipfile(path):
        return "sdist"  # a legacy zip sdist
    return ""


def read_distribution(path: Path, kind: str, workdir: Path, max_file_size: int) -> Inventory:
    limits = Limits()
    fs = Rootfs(workdir, max_file_size, Budget(limits), lambda rel: True, everything=True)
    if zipfile.is_zipfile(path):
        _read_zip(fs, path, limits)
    else:
        fs.apply(Layer(1, "", kind, path.stat().st_size, lambda: path.open("rb")))
    root, _removed, placed = fs.materialise()
    entries = fs.entries(lambda rel: True)  # a release artifact is all the service's own
    inv = Inventory(root=root, entries=entries, source=kind, root_uid=0)
    inv.note = safe(f"{kind} {path.name}: {sum(1 for e in entries if e.kind == 'file')} file(s)")
    inv.label = _project(path.name)
    inv.extracted = placed
    inv.problems.extend(fs.problems)
    inv.problems.extend((display_path(w), f"not applied: {why}") for w, why, _ in fs.unsafe)
    return inv


def _project(filename: str) -> str:
    """`my_app-1.2.0-py3-none-any.whl` -> my_app; `my-app-1.2.0.tar.gz` -> my-app."""
    stem = filename
    for suffix in (".whl", ".tar.gz", ".tgz", ".zip"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    parts = stem.split("-")
    for i, part in enumerate(parts):
        if part[:1].isdigit():
            return "-".join(parts[:i]) or stem
    return stem


def _read_zip(fs: Rootfs, path: Path, limits: Limits) -> None:
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ImageError(f"not a readable zip ({exc})") from None
    with zf:
        infos = zf.infolist()
        if len(infos) > limits.max_entries:
            fs.problems.append((path.name, f"holds over {limits.max_entries} members: not read"))
            return
        for info in infos:
            try:
                _zip_member(fs, zf, info, limits)
            except LimitExceeded as exc:
                fs.problems.append((display_path(info.filename), f"not read: {exc}"))
                return
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                fs.problems.append(
                    (display_path(info.filename), f"is corrupt ({type(exc).__name__}: {exc})")
                )


def _zip_member(fs: Rootfs, zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: Limits) -> None:
    rel = fs.safe_name(info.filename, 1)
    if not rel:
        return
    parent = rel.rpartition("/")[0]
    if not fs.parent_ok(parent, info.filename, 1):
        return
    mode = info.external_attr >> 16
    if info.is_dir():
        fs.put(rel, Node("dir", stat.S_IFDIR | (stat.S_IMODE(mode) or 0o755), 0, 0, 0, None, 1), 1)
        return
    if stat.S_ISLNK(mode):
        with zf.open(info) as fh:
            target = fh.read(4096).decode("utf-8", "surrogateescape")
        fs.put(rel, Node("symlink", stat.S_IFLNK | 0o777, 0, 0, 0, target, 1), 1)
        return
    if info.file_size > limits.ratio_after and info.file_size > limits.max_ratio * max(
        info.compress_size, 1
    ):
        raise LimitExceeded(
            f"{info.file_size} bytes from {info.compress_size}: over {limits.max_ratio}× "
            "(a decompression bomb)"
        )
    fs.budget.draw(min(info.file_size, fs.max_file_size + 1))
    with zf.open(info) as fh:
        blob = fs.copy(fh)
    perms = stat.S_IMODE(mode) or 0o644
    fs.put(rel, Node("file", stat.S_IFREG | perms, 0, 0, info.file_size, None, 1, blob), 1)
