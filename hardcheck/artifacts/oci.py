"""Find an image's config and layers in a `docker save` tarball, an OCI image layout
directory or an `oci-archive` tarball, without a daemon or the network.

Registries are out of scope: `skopeo copy docker://… oci-archive:app.tar` brings an image
from one. Nothing here writes anything; blobs are read in place (a tarball member through
tarfile's random access, a layout's blob as a file)."""

from __future__ import annotations

import json
import os
import re
import tarfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from ..safetext import safe
from .streams import Limits

INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
# the transports skopeo users write; `oci:` and `oci-archive:` may name a tag after the path
TRANSPORTS = ("oci-archive:", "docker-archive:", "oci:")


class ImageError(Exception):
    """The target is not a readable image (the message says why): a usage error, exit 2."""


@dataclass(frozen=True)
class Layer:
    index: int  # 1-based, bottom first
    digest: str
    media_type: str
    size: int | None
    open: Callable[[], IO[bytes]] = field(repr=False, compare=False)

    @property
    def name(self) -> str:
        short = self.digest.split(":", 1)[-1][:12] if self.digest else "?"
        return f"layer {self.index} ({short})"


@dataclass
class ImageSource:
    format: str  # docker-archive | oci-layout | oci-archive
    reference: str  # a tag, or the file's name
    config: dict[str, Any]
    layers: list[Layer]
    notes: list[str] = field(default_factory=list)


def split_transport(target: str) -> tuple[str, str, str]:
    """`oci-archive:app.tar:v1` -> ("oci-archive", "app.tar", "v1"); a plain path -> ("", path, "")."""
    for prefix in TRANSPORTS:
        if target.startswith(prefix):
            rest = target[len(prefix) :]
            if not os.path.exists(rest):  # the shortest prefix that names a file: tags hold ':'
                for i, char in enumerate(rest):
                    if char == ":" and os.path.exists(rest[:i]):
                        return prefix[:-1], rest[:i], rest[i + 1 :]
            return prefix[:-1], rest, ""
    return "", target, ""


def docker_reference(name: str) -> str:
    """A tag as docker normalises it: `app:1.0` and `docker.io/library/app:1.0` are one
    image, as are `team/app:1.0` and `docker.io/team/app:1.0` (docker save records the
    long form)."""
    first, sep, _ = name.partition("/")
    if not sep:
        return f"docker.io/library/{name}"
    if "." in first or ":" in first or first == "localhost":
        return name
    return f"docker.io/{name}"


def looks_like_image(path: Path) -> bool:
    if path.is_dir():
        return (path / "oci-layout").is_file() and (path / "index.json").is_file()
    if not path.is_file() or not tarfile.is_tarfile(path):
        return False
    try:
        with tarfile.open(path, "r:") as tf:
            names = {_norm(n) for n in _first_names(tf, 4096)}
    except (tarfile.TarError, OSError, EOFError):
        return False
    return "manifest.json" in names or {"oci-layout", "index.json"} <= names


def _first_names(tf: tarfile.TarFile, limit: int) -> Iterator[str]:
    for i, member in enumerate(tf):
        if i >= limit:
            return
        yield member.name


def _norm(name: str) -> str:
    return name[2:] if name.startswith("./") else name.lstrip("/")


def _json(read: Callable[[], IO[bytes]], what: str, limits: Limits) -> Any:
    with read() as fh:
        data = fh.read(limits.max_json + 1)
    if len(data) > limits.max_json:
        raise ImageError(f"{what} is over {limits.max_json >> 20} MiB")
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ImageError(f"{what} is not JSON ({exc})") from None


@contextmanager
def open_image(path: Path, tag: str = "", limits: Limits | None = None) -> Iterator[ImageSource]:
    """The image at `path`; raises ImageError when it cannot be read as one."""
    limits = limits or Limits()
    if path.is_dir():
        index = path / "index.json"
        yield _layout(
            lambda: index.open("rb"), _dir_blob(path), tag, limits, "oci-layout", path.name
        )
        return
    try:
        tf = tarfile.open(path, "r:")  # noqa: SIM115 - closed by the `with tf` below
    except (tarfile.TarError, OSError) as exc:
        raise ImageError(f"{safe(str(path))} is not a tar archive ({exc})") from None
    with tf:
        try:
            members = {_norm(m.name): m for m in tf.getmembers() if m.isfile()}
        except (tarfile.TarError, EOFError) as exc:
            raise ImageError(f"{safe(str(path))} is truncated or corrupt ({exc})") from None

        def member(name: str) -> Callable[[], IO[bytes]]:
            def read() -> IO[bytes]:  # looked up when read: a missing layer is that layer's problem
                info = members.get(_norm(name))
                if info is None:
                    raise ImageError(f"the archive has no {safe(name)}")
                fh = tf.extractfile(info)
                assert fh is not None  # a regular member
                return fh

            return read

        if "manifest.json" in members:
            yield _docker(members, member, tag, limits, path.name)
        elif "index.json" in members:
            yield _layout(
                member("index.json"),
                lambda d: lambda: member(_blob_name(d))(),
                tag,
                limits,
                "oci-archive",
                path.name,
            )
        else:
            raise ImageError(
                f"{safe(str(path))} is a tar archive but not an image "
                "(no manifest.json, no index.json)"
            )


def _blob_name(digest: str) -> str:
    if not DIGEST.match(digest):
        raise ImageError(f"blob digest {safe(digest)!r} is not sha256:<64 hex>")
    return "blobs/sha256/" + digest.split(":", 1)[1]


def _dir_blob(root: Path) -> Callable[[str], Callable[[], IO[bytes]]]:
    def blob(digest: str) -> Callable[[], IO[bytes]]:
        def read() -> IO[bytes]:
            path = root / _blob_name(digest)
            if not path.is_file() or path.is_symlink():
                raise ImageError(f"the layout has no blob {safe(digest)}")
            return open(path, "rb")

        return read

    return blob


def _layout(
    read_index: Callable[[], IO[bytes]],
    blob: Callable[[str], Callable[[], IO[bytes]]],
    tag: str,
    limits: Limits,
    fmt: str,
    fallback_name: str,
) -> ImageSource:
    index = _json(read_index, "index.json", limits)
    if not isinstance(index, dict):
        raise ImageError("index.json is not an image index")
    notes: list[str] = []
    manifest_desc = _choose(index, tag, blob, limits, notes)
    manifest = _json(blob(str(manifest_desc.get("digest", ""))), "the image manifest", limits)
    if not isinstance(manifest, dict):
        raise ImageError("the image manifest is not a JSON object")
    config_desc = manifest.get("config") or {}
    config = _json(blob(str(config_desc.get("digest", ""))), "the image config", limits)
    layers = []
    for i, desc in enumerate(manifest.get("layers") or [], 1):
        digest = str(desc.get("digest", ""))
        layers.append(
            Layer(i, digest, str(desc.get("mediaType", "")), desc.get("size"), blob(digest))
        )
    reference = (manifest_desc.get("annotations") or {}).get(
        "org.opencontainers.image.ref.name", ""
    )
    return ImageSource(fmt, str(reference or tag or fallback_name), _config(config), layers, notes)


def _config(config: Any) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise ImageError("the image config is not a JSON object")
    return config


def _choose(index: Any, tag: str, blob, limits: Limits, notes: list[str], depth: int = 0) -> dict:
    """The one image manifest the index names (by tag; else the only one; else linux/amd64)."""
    manifests = [m for m in (index.get("manifests") or []) if isinstance(m, dict)]
    if not manifests:
        raise ImageError("the image index lists no manifest")
    if tag:
        tagged = [
            m
            for m in manifests
            if (m.get("annotations") or {}).get("org.opencontainers.image.ref.name") == tag
        ]
        if not tagged:
            raise ImageError(f"the image index has no manifest tagged {safe(tag)!r}")
        manifests = tagged
    chosen = manifests[0]
    if len(manifests) > 1:
        amd64 = [
            m
            for m in manifests
            if (m.get("platform") or {}).get("architecture") == "amd64"
            and (m.get("platform") or {}).get("os", "linux") == "linux"
        ]
        chosen = amd64[0] if amd64 else manifests[0]
        notes.append(
            f"the index lists {len(manifests)} manifests; audited {chosen.get('digest', '?')[:19]}"
            " (name one with oci:PATH:TAG)"
        )
    if chosen.get("mediaType") in (INDEX, DOCKER_LIST):
        if depth > 2:
            raise ImageError("image indexes nest more than three deep")
        nested = _json(blob(str(chosen.get("digest", ""))), "a nested image index", limits)
        return _choose(nested, "", blob, limits, notes, depth + 1)
    return chosen


def _docker(members, member, tag: str, limits: Limits, fallback_name: str) -> ImageSource:
    manifest = _json(member("manifest.json"), "manifest.json", limits)
    if not isinstance(manifest, list) or not manifest:
        raise ImageError("manifest.json lists no image")
    notes: list[str] = []
    chosen = manifest[0]
    if tag:
        wanted = docker_reference(tag)
        tagged = [
            m for m in manifest if wanted in {docker_reference(t) for t in m.get("RepoTags") or []}
        ]
        if not tagged:
            raise ImageError(f"manifest.json has no image tagged {safe(tag)!r}")
        chosen = tagged[0]
    elif len(manifest) > 1:
        notes.append(f"the archive holds {len(manifest)} images; audited the first")
    config = _json(member(str(chosen.get("Config", ""))), "the image config", limits)
    diff_ids = (config.get("rootfs") or {}).get("diff_ids") or []
    layers = []
    for i, name in enumerate(chosen.get("Layers") or [], 1):
        digest = str(diff_ids[i - 1]) if i <= len(diff_ids) else ""
        info = members.get(_norm(str(name)))
        layers.append(
            Layer(i, digest, "docker-archive layer", info.size if info else None, member(str(name)))
        )
    tags = chosen.get("RepoTags") or []
    reference = str(tags[0] if tags else fallback_name)
    return ImageSource("docker-archive", reference, _config(config), layers, notes)
