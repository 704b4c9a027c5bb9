"""Audit a container image of about 150 MB, cold, beside the floor for reading its layers.

The image is assembled from this machine's own Python (its standard library, its
dist-packages, the interpreter and shared libraries: a python:slim-like rootfs) plus a
small Flask service, built into two layers with umoci and exported with skopeo as an OCI
layout and a `docker save` tarball. Then, for each format:

  hardcheck audit IMAGE          every audit but dependencies (it asks PyPI); never cached
  tar -tvf (each layer)          GNU tar listing every layer: reading them, nothing more
  read_image (in-process)        hardcheck's own reading of the layers, without the audits

Prints key=value lines: wall seconds (median of --runs), peak RSS of hardcheck's process
tree, and the ratio to tar. Needs umoci and skopeo (scripts/test.sh installs them) and
root for real file owners (else umoci --rootless).

    .venv/bin/python benchmarks/image_audit.py [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import BIN, cache_dir, machine, measured

TARGET_BYTES = 150 << 20
# every audit but dependencies, which would ask PyPI's vulnerability service (the network)
AUDIT_ARGS = ("-f", "json", "--skip", "dependencies")
SOURCES = ("/usr/lib/python3.11", "/usr/lib/python3/dist-packages", "/usr/bin/python3.11")
LIBS = "/usr/lib/x86_64-linux-gnu"
APP = {
    "app/app.py": "import os\n\nfrom flask import Flask\n\napp = Flask(__name__)\n"
    "app.config['SECRET_KEY'] = os.environ['SECRET_KEY']\n",
    "app/requirements.txt": "flask==3.0.3\ngunicorn==22.0.0\n",
}


def _size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def rootfs(dest: Path) -> Path:
    """A python:slim-like tree of about TARGET_BYTES from this machine's own files."""
    if (dest / ".done").exists():
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    for src in SOURCES:
        target = dest / src.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["cp", "-a", src, str(target)], check=True)
    libs = dest / LIBS.lstrip("/")
    libs.mkdir(parents=True, exist_ok=True)
    total = _size(dest)
    for lib in sorted(Path(LIBS).glob("*.so*")):
        if total >= TARGET_BYTES:
            break
        if total + lib.stat().st_size > TARGET_BYTES + (4 << 20):
            continue
        if lib.is_file() and not lib.is_symlink() and lib.stat().st_size < (8 << 20):
            shutil.copy2(lib, libs / lib.name)
            total += lib.stat().st_size
    etc = dest / "etc"
    etc.mkdir(exist_ok=True)
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/app:/bin/sh\n")
    (etc / "group").write_text("root:x:0:\napp:x:1000:\n")
    (dest / ".done").write_text(str(total))
    return dest


def build(workdir: Path, tree: Path) -> tuple[Path, Path]:
    layout, docker = workdir / "layout", workdir / "image-docker.tar"
    if docker.exists():
        return layout, docker
    shutil.rmtree(layout, ignore_errors=True)
    ref = f"{layout}:bench"
    rootless = [] if os.geteuid() == 0 else ["--rootless"]
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("umoci", "init", "--layout", str(layout))
    run("umoci", "new", "--image", ref)
    for i, fill in enumerate((tree, None)):
        bundle = workdir / f"bundle{i}"
        shutil.rmtree(bundle, ignore_errors=True)
        run("umoci", "unpack", *rootless, "--image", ref, str(bundle))
        if fill is not None:
            subprocess.run(["cp", "-a", f"{fill}/.", str(bundle / "rootfs")], check=True)
            (bundle / "rootfs" / ".done").unlink()
        else:
            for rel, text in APP.items():
                path = bundle / "rootfs" / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
        run("umoci", "repack", "--image", ref, str(bundle))
        shutil.rmtree(bundle)
    run("umoci", "config", "--image", ref, "--config.user", "app", "--config.workingdir", "/app",
        "--config.cmd", "gunicorn", "--config.cmd", "app:app")  # fmt: skip
    policy = workdir / "policy.json"
    policy.write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    run("skopeo", "--policy", str(policy), "copy", f"oci:{ref}", f"docker-archive:{docker}:bench:1")
    return layout, docker


def layer_files(layout: Path) -> list[Path]:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs/sha256" / digest).read_text())
    return [layout / "blobs/sha256" / d["digest"].split(":")[1] for d in manifest["layers"]]


def tar_floor(layers: list[Path], runs: int) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for layer in layers:
            subprocess.run(["tar", "-tvf", str(layer)], check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def read_seconds(target: Path, runs: int) -> float:
    """hardcheck reading the layers into its inventory alone, in a fresh process (no audit)."""
    code = (
        "import sys, tempfile, time; from pathlib import Path;"
        "from hardcheck.artifacts.image import read_image;"
        "t = time.perf_counter();"
        "d = tempfile.TemporaryDirectory(); read_image(Path(sys.argv[1]), '', Path(d.name), 2 << 20);"
        "print(time.perf_counter() - t)"
    )
    times = [
        float(subprocess.run([sys.executable, "-c", code, str(target)], check=True,
                             capture_output=True, text=True).stdout)
        for _ in range(runs)
    ]  # fmt: skip
    return statistics.median(times)


def docker_layers(docker: Path, workdir: Path) -> list[Path]:
    """The docker-save tarball's layer tars, unpacked once for tar to list them."""
    out = workdir / "docker-unpacked"
    if not out.exists():
        out.mkdir()
        subprocess.run(["tar", "-xf", str(docker), "-C", str(out)], check=True)
    manifest = json.loads((out / "manifest.json").read_text())
    return [out / name for name in manifest[0]["Layers"]]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not (shutil.which("umoci") and shutil.which("skopeo")):
        print("needs umoci and skopeo (scripts/test.sh installs them)", file=sys.stderr)
        return 2
    workdir = cache_dir() / "image-bench"
    workdir.mkdir(parents=True, exist_ok=True)
    tree = rootfs(workdir / "rootfs")
    layout, docker = build(workdir, tree)
    print(f"machine={machine()}")
    print(f"rootfs_mb={int((tree / '.done').read_text()) / (1 << 20):.0f}")
    report = workdir / "report.json"
    for fmt, target, layers in (
        ("oci-layout", layout, layer_files(layout)),
        ("docker-archive", docker, docker_layers(docker, workdir)),
    ):
        size = sum(p.stat().st_size for p in layers)
        runs = [
            measured([str(BIN / "hardcheck"), "audit", str(target), *AUDIT_ARGS, "-o", str(report)])
            for _ in range(args.runs)
        ]
        wall = statistics.median(m.wall for m in runs)
        rss = max(m.peak_rss for m in runs)
        floor = tar_floor(layers, args.runs)
        read = read_seconds(target, args.runs)
        data = json.loads(report.read_text())
        inv = data["run"]["inventory"]
        print(
            f"{fmt}: layers_mb={size / (1 << 20):.0f} entries={inv['entries']} "
            f"content_files={inv['content_files']} exit={runs[0].exit}"
        )
        print(
            f"{fmt}: hardcheck_s={wall:.2f} tar_tvf_s={floor:.2f} ratio={wall / floor:.2f} "
            f"read_layers_s={read:.2f} read_ratio={read / floor:.2f} "
            f"peak_rss_mb={rss / (1 << 20):.0f} "
            f"runs_s={','.join(f'{m.wall:.2f}' for m in runs)} "
            f"runs_rss_mb={','.join(str(m.peak_rss >> 20) for m in runs)}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
