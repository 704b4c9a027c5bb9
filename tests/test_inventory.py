"""The inventory: one walk, git-aware, with a fallback when git refuses."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

import hardcheck
from hardcheck.inventory import build_inventory
from tests.conftest import IS_ROOT, make_tree

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed")
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.invalid",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.invalid",
}


def _git(root, *args):
    subprocess.run(
        ["git", "-C", str(root), *args],
        check=True,
        capture_output=True,
        env={**os.environ, **GIT_ENV},
    )


@pytest.fixture()
def repo(tmp_path, monkeypatch):
    for key, value in GIT_ENV.items():
        monkeypatch.setenv(key, value)
    root = make_tree(
        tmp_path / "repo",
        {
            ".gitignore": ".env\nbuild/\n",
            "app.py": "x = 1\n",
            ".env": "SECRET=1\n",
            "build/out.txt": "o\n",
            "new.py": "y = 2\n",
            ".venv/pyvenv.cfg": "home = /usr\n",
            "node_modules/x/index.js": "//\n",
        },
    )
    os.chmod(root / ".env", 0o644)
    _git(root, "init", "-q")
    _git(root, "add", ".gitignore", "app.py")
    _git(root, "commit", "-qm", "init")
    return root


def test_git_listing_decides_content_but_permissions_see_everything(repo):
    inv = build_inventory(repo)
    assert inv.source == "git" and inv.note == ""
    content = sorted(e.rel for e in inv.files())
    assert content == [".gitignore", "app.py", "new.py"]  # tracked + untracked-not-ignored
    everything = sorted(e.rel for e in inv.files(content_only=False))
    assert ".env" in everything and "build/out.txt" in everything
    assert not any(e.rel.startswith((".git/", ".venv", "node_modules")) for e in inv.entries)
    assert inv.excluded == 3  # .git, .venv, node_modules
    report = hardcheck.audit(repo, only=["permissions"])
    assert [
        f.location.path
        for f in report.findings
        if f.rule_id == "PRM002" and f.status.value == "fail"
    ] == [".env"]


def test_exclude_and_include_globs(repo):
    inv = build_inventory(repo, include=("*.py",), exclude=("new.py",))
    assert sorted(e.rel for e in inv.files(content_only=False)) == ["app.py"]


@pytest.mark.skipif(not IS_ROOT, reason="needs a tree owned by another user (root only)")
def test_git_refusal_falls_back_to_walk_and_says_so(repo):
    for dirpath, dirnames, filenames in os.walk(repo):
        for name in dirnames + filenames:
            os.lchown(os.path.join(dirpath, name), 65534, 65534)
    os.lchown(repo, 65534, 65534)
    inv = build_inventory(repo)
    assert inv.source == "walk"
    assert "git refused to list files" in inv.note and "dubious ownership" in inv.note
    assert ".env" in {e.rel for e in inv.files()}  # walked: every file is content
    report = hardcheck.audit(repo, only=["permissions"]).to_dict()
    assert report["run"]["inventory"]["source"] == "walk"
    assert "walked the directory instead" in report["run"]["inventory"]["note"]


def test_deep_nesting_does_not_recurse(tmp_path):
    root = tmp_path / "deep"
    path = root
    for _ in range(300):
        path = path / "d"
    path.mkdir(parents=True)
    (path / "f.txt").write_text("x")
    inv = build_inventory(root)
    assert any(e.rel.endswith("/f.txt") for e in inv.files())
