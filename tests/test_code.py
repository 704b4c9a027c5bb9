"""The code audit (bandit): same issues as `bandit -r`, nosec and config honoured,
unparsable files reported, no code excerpt in any output."""

from __future__ import annotations

import collections
import json
import subprocess
import sys

import hardcheck
from tests.conftest import SAMPLES, make_tree, run_cli

VULNERABLE = {
    "app/shell.py": "import subprocess\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n",
    "app/crypto.py": "import hashlib\nimport random\n\ndef token():\n    return hashlib.md5(str(random.random()).encode()).hexdigest()\n",
    "app/db.py": "def find(cur, name):\n    cur.execute(\"SELECT * FROM users WHERE name = '%s'\" % name)\n",
    "app/net.py": "import requests\n\ndef get(url):\n    return requests.get(url, verify=False, timeout=5)\n",
    "app/tmp.py": "PATH = '/tmp/app.sock'\n",
    "app/render.py": "import jinja2\nenv = jinja2.Environment(autoescape=False)\n",
}


def _ids(report) -> collections.Counter:
    return collections.Counter(f.upstream_id for f in report.findings if f.status.value == "fail")


def test_same_issues_as_bandit_cli(tmp_path):
    shell = "import subprocess\nsubprocess.call(cmd, shell=True)"
    nosec = {  # hardcheck tokenizes only files holding "nosec": the verdicts must not move
        "n/plain.py": f"{shell}  # nosec\n",
        "n/upper.py": f"{shell}  # NOSEC\n",  # bandit's marker is case-sensitive
        "n/named.py": f"{shell}  #nosec B602\n",
        "n/other.py": f"{shell}  # nosec B101\n",
        "n/string.py": f"MARK = 'nosec'\n{shell}\n",
    }
    files = {
        **VULNERABLE,
        **nosec,
        **{f"pkg/m{i}.py": VULNERABLE["app/shell.py"] for i in range(50)},
    }
    root = make_tree(tmp_path / "t", files)
    proc = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    theirs = collections.Counter(r["test_id"] for r in json.loads(proc.stdout)["results"])
    report = hardcheck.audit(root, only=["code"], jobs=2)
    assert report.audits[0].stats["worker_processes"] == 2
    assert _ids(report) == theirs
    assert _ids(hardcheck.audit(root, only=["code"], jobs=1)) == theirs


def test_families_severity_and_explain():
    report = hardcheck.audit(SAMPLES / "insecure-fastapi", only=["code"])
    by_id = {f.upstream_id: f for f in report.findings if f.status.value == "fail"}
    for test_id, rule in {
        "B602": "COD006",
        "B506": "COD005",
        "B301": "COD003",
        "B101": "COD001",
        "B108": "COD001",
    }.items():
        assert by_id[test_id].rule_id == rule
    assert by_id["B602"].severity.value == "high"  # bandit HIGH severity, HIGH confidence
    assert by_id["B101"].severity.value == "low"  # LOW severity, HIGH confidence
    assert "CWE-78" in by_id["B602"].evidence
    run = run_cli("explain", "B602")
    assert run.code == 0 and run.stdout.startswith("COD006 injection")


def test_nosec_tool_bandit_and_code_options(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {
            "a.py": "import subprocess\nsubprocess.call('/bin/ls', shell=True)  # nosec B602\nassert True  # nosec\n",
            "b.py": "import subprocess\nsubprocess.call('/bin/ls', shell=True)  # nosec B101\n",
            "c.py": "assert 1\n",
            "pyproject.toml": "[tool.bandit]\nskips = ['B404']\n",
        },
    )
    report = hardcheck.audit(root, only=["code"])
    hits = sorted(
        (f.location.path, f.upstream_id) for f in report.findings if f.status.value == "fail"
    )
    assert hits == [("b.py", "B602"), ("c.py", "B101")]  # B404 skipped by [tool.bandit]
    assert report.audits[0].stats["nosec"] >= 2
    (root / "hardcheck.toml").write_text('[code]\nskips = ["B101"]\nexclude = ["b.py"]\n')
    assert _ids(hardcheck.audit(root, only=["code"])) == collections.Counter()


def test_bandit_baseline(tmp_path):
    root = make_tree(tmp_path / "t", {"a.py": "assert 1\n", "b.py": "x = 1\n"})
    proc = subprocess.run(
        [sys.executable, "-m", "bandit", "-r", ".", "-f", "json", "-q"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    (root / "bandit-baseline.json").write_text(proc.stdout)
    (root / "b.py").write_text("exec('1')\n")
    (root / "hardcheck.toml").write_text('[code]\nbaseline = "bandit-baseline.json"\n')
    report = hardcheck.audit(root, only=["code"])
    assert _ids(report) == collections.Counter({"B102": 1})
    assert report.audits[0].stats["baseline_known"] == 1


def test_unparsable_file_is_reported_not_dropped(tmp_path):
    root = make_tree(
        tmp_path / "t",
        {"ok.py": "assert 1\n", "broken.py": "def f(:\n", "new.py": "type X = int\n"},
    )
    report = hardcheck.audit(root, only=["code"])
    skipped = {f.location.path: f.message for f in report.findings if f.rule_id == "COD008"}
    assert set(skipped) == {"broken.py", "new.py"} if sys.version_info < (3, 12) else {"broken.py"}
    assert "syntax error" in skipped["broken.py"]
    assert _ids(report) == collections.Counter({"B101": 1})


def test_no_code_excerpt_in_any_output(tmp_path):
    secret = "Hx7Qm2Vz9Lk4Pw8N"  # pragma: allowlist secret
    root = make_tree(tmp_path / "t", {"a.py": f"import subprocess\n\nlabel = '{secret}'\n"})
    run = run_cli("audit", str(root), "--only", "code", "--format", "json")
    report = run.json()
    assert any(f["upstream_id"] == "B404" for f in report["findings"])
    assert secret not in run.stdout + run.stderr


def test_a_worker_keeps_no_syntax_tree_after_a_chunk(tmp_path):
    """bandit links every node to its parent and sibling; on CPython 3.11 some of those
    trees were never collected, so a worker (the main process among them) grew with every
    chunk. Each tree is taken apart once bandit is done with it."""
    import ast
    import gc

    from hardcheck.audits.code import banditscan

    files = {
        f"pkg/m{i}.py": (
            f"from .config import AppConfig{i}\nfrom .registry import apps\n\n"
            f"__all__ = ['AppConfig{i}', 'apps']\n\n\nclass Thing{i}:\n"
            "    def run(self, cmd):\n        import subprocess\n"
            "        return subprocess.call(cmd, shell=True)\n"
        )
        for i in range(40)
    }
    root = make_tree(tmp_path / "t", files)
    banditscan.init_worker(banditscan.BanditOptions())
    gc.collect()
    before = sum(isinstance(o, ast.Module) for o in gc.get_objects())
    results = banditscan.scan_chunk(str(root), sorted(files))
    gc.collect()
    after = sum(isinstance(o, ast.Module) for o in gc.get_objects())
    assert after == before, f"{after - before} syntax trees still alive"
    b602 = [i for _, _, r in results for i in r.issues if i.test_id == "B602"]
    assert len(b602) == 40  # in every module: it did look
