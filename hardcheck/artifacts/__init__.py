"""Targets that are what ships rather than a source tree: container images (a `docker
save` tarball, an OCI image layout, an `oci-archive` tarball) and Python release
artifacts (wheels, sdists). Each becomes an inventory like a tree's, read from the
archive's own headers, its readable files copied into a private temporary directory that
is removed when the run ends."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..inventory import Inventory, path_spec
from ..safetext import safe
from .oci import ImageError, looks_like_image, split_transport


@dataclass(frozen=True)
class ArtifactTarget:
    kind: str  # image | wheel | sdist
    path: Path
    tag: str = ""
    written: str = ""  # as the user gave it


class ArtifactError(Exception):
    """The artifact cannot be read at all (the message says why): a usage error."""


def detect(target: str) -> ArtifactTarget | None:
    """What `target` names when it is an artifact; None for a directory to walk."""
    transport, written_path, tag = split_transport(target)
    path = Path(written_path)
    if transport:
        if not path.exists():
            raise ArtifactError(f"image not found: {safe(written_path)}")
        if not looks_like_image(path):
            raise ArtifactError(
                f"{safe(written_path)} is not an image in {transport} format "
                "(no manifest.json, no oci-layout and index.json in it)"
            )
        return ArtifactTarget("image", path.resolve(), tag, target)
    if path.is_dir():
        return (
            ArtifactTarget("image", path.resolve(), "", target) if looks_like_image(path) else None
        )
    if not path.is_file():
        return None
    if looks_like_image(path):
        return ArtifactTarget("image", path.resolve(), "", target)
    from .distribution import distribution_kind

    kind = distribution_kind(path)
    return ArtifactTarget(kind, path.resolve(), "", target) if kind else None


@contextmanager
def opened(
    target: ArtifactTarget,
    max_file_size: int,
    include: tuple[str, ...] = (),
    exclude: tuple[str, ...] = (),
) -> Iterator[Inventory]:
    """The artifact's inventory, narrowed by the config's include/exclude patterns as a
    tree's walk is; its copies are removed when the block ends."""
    with tempfile.TemporaryDirectory(prefix="hardcheck-") as tmp:  # mode 0700
        workdir = Path(tmp)
        try:
            if target.kind == "image":
                from .image import read_image

                inventory = read_image(target.path, target.tag, workdir, max_file_size)
            else:
                from .distribution import read_distribution

                inventory = read_distribution(target.path, target.kind, workdir, max_file_size)
        except ImageError as exc:
            raise ArtifactError(f"{safe(target.written)}: {exc}") from None
        _narrow(inventory, include, exclude)
        yield inventory


def _narrow(inventory: Inventory, include: tuple[str, ...], exclude: tuple[str, ...]) -> None:
    if not include and not exclude:
        return
    include_spec = path_spec(include) if include else None
    exclude_spec = path_spec(exclude) if exclude else None
    kept = []
    for entry in inventory.entries:
        match = entry.rel + "/" if entry.kind == "dir" else entry.rel
        dropped = (exclude_spec is not None and exclude_spec.match_file(match)) or (
            entry.kind != "dir"
            and include_spec is not None
            and not include_spec.match_file(entry.rel)
        )
        if dropped:
            inventory.excluded += 1
        else:
            kept.append(entry)
    inventory.entries = kept
