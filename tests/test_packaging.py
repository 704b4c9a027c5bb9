"""The wheel carries the rule catalogue and the schema, and works outside the repo."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
import zipfile

import pytest

from tests.conftest import REPO, SAMPLES


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
            str(REPO),
        ],
        check=True,
        capture_output=True,
    )
    (path,) = out.glob("hardcheck-*.whl")
    return path


def test_wheel_contains_catalogue_and_schema(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {n for n in names if n.startswith("hardcheck/rules/")}
    assert shipped == {f"hardcheck/rules/{p.name}" for p in (REPO / "rules").glob("*.toml")}
    assert "hardcheck/report/schema.json" in names


def test_installed_wheel_runs_in_a_fresh_venv(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    install = subprocess.run(
        [str(bin_dir / "pip"), "install", "-q", str(wheel)], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-2000:]
    rules = subprocess.run(
        [str(bin_dir / "hardcheck"), "rules", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert rules.returncode == 0, rules.stderr
    from hardcheck.catalogue import load_catalogue

    assert [r["id"] for r in json.loads(rules.stdout)] == [r.id for r in load_catalogue()]
    run = subprocess.run(
        [str(bin_dir / "hardcheck"), "audit", str(SAMPLES / "insecure-fastapi")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert run.returncode == 1, run.stderr
    assert "PRM002" in run.stdout
