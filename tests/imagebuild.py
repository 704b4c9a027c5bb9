"""Real container images for the tests, built from small rootfs trees with umoci (layers,
config, history) and exported with skopeo to the three formats hardcheck reads; and a
hostile image whose layers only a hand-written tar can hold (no builder writes them)."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import real_consumer

UMOCI = Path(shutil.which("umoci") or "/usr/bin/umoci")
SKOPEO = Path(shutil.which("skopeo") or "/usr/bin/skopeo")
TAG = "app"
FORMATS = ("oci-layout", "docker-archive", "oci-archive")
# skopeo refuses to copy without a trust policy; the tests' own accepts their own images
POLICY = {"default": [{"type": "insecureAcceptAnything"}]}

Layer = Callable[[Path], None]  # changes a rootfs directory (adds, edits, deletes files)


@dataclass(frozen=True)
class Exports:
    layout: Path  # an OCI image layout directory (tag TAG)
    docker_archive: Path
    oci_archive: Path

    def targets(self) -> dict[str, str]:
        """What a user types for each format."""
        return {
            "oci-layout": str(self.layout),
            "docker-archive": str(self.docker_archive),
            "oci-archive": f"oci-archive:{self.oci_archive}",
        }


def tools() -> tuple[Path, Path]:
    return real_consumer(UMOCI, "umoci"), real_consumer(SKOPEO, "skopeo")


def _run(*argv: str) -> str:
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} failed: {proc.stderr.strip()}")
    return proc.stdout


def build(
    workdir: Path,
    layers: list[Layer],
    *,
    user: str = "",
    env: tuple[str, ...] = (),
    cmd: tuple[str, ...] = (),
    workingdir: str = "",
    history: tuple[str, ...] = (),
) -> Exports:
    """Each function in `layers` edits the rootfs, then umoci repacks it as one layer."""
    umoci, skopeo = tools()
    layout = workdir / "layout"
    ref = f"{layout}:{TAG}"
    rootless = () if os.geteuid() == 0 else ("--rootless",)
    _run(str(umoci), "init", "--layout", str(layout))
    _run(str(umoci), "new", "--image", ref)
    for i, change in enumerate(layers):
        bundle = workdir / f"bundle{i}"
        _run(str(umoci), "unpack", *rootless, "--image", ref, str(bundle))
        change(bundle / "rootfs")
        created_by = history[i] if i < len(history) else f"layer {i + 1}"
        _run(str(umoci), "repack", "--history.created_by", created_by, "--image", ref, str(bundle))
        shutil.rmtree(bundle)
    argv = [str(umoci), "config", "--image", ref, "--no-history"]
    if user:
        argv += ["--config.user", user]
    for item in env:
        argv += ["--config.env", item]
    for part in cmd:
        argv += ["--config.cmd", part]
    if workingdir:
        argv += ["--config.workingdir", workingdir]
    _run(*argv)
    policy = workdir / "policy.json"
    policy.write_text(json.dumps(POLICY))
    docker = workdir / "image-docker.tar"
    oci = workdir / "image-oci.tar"
    for dest in (f"docker-archive:{docker}:example/{TAG}:1.0", f"oci-archive:{oci}:{TAG}"):
        _run(str(skopeo), "--policy", str(policy), "copy", f"oci:{ref}", dest)
    return Exports(layout, docker, oci)


def inspect(exports: Exports) -> dict[str, dict]:
    """`skopeo inspect` of each export: proof each one is a valid image."""
    _, skopeo = tools()
    sources = {
        "oci-layout": f"oci:{exports.layout}:{TAG}",
        "docker-archive": f"docker-archive:{exports.docker_archive}",
        "oci-archive": f"oci-archive:{exports.oci_archive}:{TAG}",
    }
    return {fmt: json.loads(_run(str(skopeo), "inspect", src)) for fmt, src in sources.items()}


# --- rootfs pieces -------------------------------------------------------------------------
PASSWD = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n"
GROUP = "root:x:0:\napp:x:1000:\n"
FLASK_APP = """\
import os

from flask import Flask

app = Flask(__name__)
app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024


@app.get("/")
def index():
    return "ok"
"""
# a key in the PEM shape detect-secrets' PrivateKeyDetector reads (not a usable key)
PRIVATE_KEY = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def write(root: Path, rel: str, text: str, mode: int = 0o644, owner: int = 0) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    os.chmod(path, mode)
    if os.geteuid() == 0:
        os.chown(path, owner, owner)


def base_system(root: Path) -> None:
    """What a slim base image holds that matters here: accounts and a setuid `su`."""
    write(root, "etc/passwd", PASSWD)
    write(root, "etc/group", GROUP)
    for d in ("tmp", "var/tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
        os.chmod(root / d, 0o1777)
    su = root / "usr/bin/su"
    su.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy("/bin/true", su)
    os.chmod(su, 0o4755)


# --- a hostile image, written by hand ------------------------------------------------------
def _blob(layout: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (layout / "blobs" / "sha256").mkdir(parents=True, exist_ok=True)
    (layout / "blobs" / "sha256" / digest).write_bytes(data)
    return f"sha256:{digest}"


def write_layout(layout: Path, layers: list[bytes], config: dict) -> Path:
    """An OCI image layout of these (compressed or not) layer blobs, tagged TAG."""
    layout.mkdir(parents=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    descriptors = []
    for data in layers:
        media = "application/vnd.oci.image.layer.v1.tar" + (
            "+gzip" if data[:2] == b"\x1f\x8b" else ""
        )
        descriptors.append({"mediaType": media, "digest": _blob(layout, data), "size": len(data)})
    diff_ids = [
        "sha256:" + hashlib.sha256(gzip.decompress(d) if d[:2] == b"\x1f\x8b" else d).hexdigest()
        if len(d) < 64 << 20
        else "sha256:" + "0" * 64
        for d in layers
    ]
    full_config = {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    config_bytes = json.dumps(full_config).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": _blob(layout, config_bytes),
            "size": len(config_bytes),
        },
        "layers": descriptors,
    }
    manifest_bytes = json.dumps(manifest).encode()
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "digest": _blob(layout, manifest_bytes),
                "size": len(manifest_bytes),
                "annotations": {"org.opencontainers.image.ref.name": TAG},
            }
        ],
    }
    (layout / "index.json").write_text(json.dumps(index))
    return layout


def tar_of(members: list[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def member(
    name: str,
    kind: bytes = tarfile.REGTYPE,
    data: bytes | None = b"",
    link: str = "",
    mode: int = 0o644,
):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.linkname = link
    return info, (data if kind == tarfile.REGTYPE else None)


def sparse_layer(workdir: Path, size: int) -> bytes:
    """GNU tar's sparse member: `size` bytes of which none are stored."""
    big = workdir / "sparse" / "huge.bin"
    big.parent.mkdir()
    with open(big, "wb") as fh:
        fh.truncate(size)
    out = workdir / "sparse.tar"
    _run("tar", "--sparse", "-C", str(big.parent), "-cf", str(out), "huge.bin")
    return out.read_bytes()


def gzip_bomb_layer(size: int) -> bytes:
    """A gzipped tar holding one file of `size` zero bytes (compressed about 1000×)."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=1) as gz,
        tarfile.open(fileobj=gz, mode="w|") as tf,
    ):
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tf.addfile(info, _Zeros(size))
    return buf.getvalue()


class _Zeros(io.RawIOBase):
    def __init__(self, size: int):
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = min(len(b), self.left)
        b[:n] = bytes(n)
        self.left -= n
        return n
