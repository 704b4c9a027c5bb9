"""An audit that crashes or hangs becomes an error item; the other audits still report."""

from __future__ import annotations

import json
import os
import re
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from hardcheck import audits, runner
from hardcheck.audits.base import Audit, AuditOutput, Coverage
from hardcheck.cli import main
from tests.conftest import SAMPLES, copy_sample, make_tree


class CrashingAudit(Audit):
    name = "crashing"
    description = "raises"

    def run(self, ctx):
        raise RuntimeError("engine exploded")


class HangingAudit(Audit):
    name = "hanging"
    description = "never returns"
    released = threading.Event()

    def run(self, ctx):
        self.released.wait(60)
        return AuditOutput([], Coverage())


@pytest.fixture()
def registered():
    def add(cls):
        audits.register(cls)
        added.append(cls.name)

    added: list[str] = []
    yield add
    for name in added:
        audits.unregister(name)
    HangingAudit.released.set()


def _invoke(*args):
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_crashing_audit_gives_exit_3_and_keeps_the_others(registered, validate_report):
    registered(CrashingAudit)
    code, out = _invoke("audit", str(SAMPLES / "hardened-fastapi"), "--format", "json")
    assert code == 3
    report = validate_report(json.loads(out))
    by_name = {a["name"]: a for a in report["audits"]}
    assert by_name["crashing"]["status"] == "error"
    assert (
        "RuntimeError" in by_name["crashing"]["message"]
        and "engine exploded" in by_name["crashing"]["message"]
    )
    assert by_name["permissions"]["status"] == "pass"
    assert by_name["permissions"]["counts"]["pass"] >= 10
    errors = [f for f in report["findings"] if f["rule_id"] == "RUN001"]
    assert [f["audit"] for f in errors] == ["crashing"]
    assert report["summary"]["complete"] is False


def test_crash_and_failing_findings_exit_1(registered, tmp_path):
    registered(CrashingAudit)
    root = copy_sample("insecure-fastapi", tmp_path)
    code, out = _invoke("audit", str(root))
    assert code == 1
    assert re.search(r"! crashing +error .*audit crashed: RuntimeError", out)
    assert "PRM002" in out
    assert re.search(
        r"score \d+/100 \([A-F]\) · incomplete \(crashing\): it scores only what was audited\n", out
    )


def test_complete_run_says_nothing_of_incompleteness(tmp_path):
    code, out = _invoke("audit", str(copy_sample("insecure-fastapi", tmp_path)))
    assert code == 1 and "summary: " in out and "incomplete" not in out


def test_hanging_audit_times_out(registered):
    HangingAudit.released.clear()
    registered(HangingAudit)
    t0 = time.monotonic()
    code, out = _invoke(
        "audit", str(SAMPLES / "hardened-fastapi"), "--timeout", "1", "--format", "json"
    )
    assert time.monotonic() - t0 < 10
    assert code == 3
    report = json.loads(out)
    hanging = next(a for a in report["audits"] if a["name"] == "hanging")
    assert hanging["status"] == "error" and "timed out after 1s" in hanging["message"]
    assert next(a for a in report["audits"] if a["name"] == "permissions")["status"] == "pass"


def test_only_and_skip_select_audits(registered):
    registered(CrashingAudit)
    code, out = _invoke(
        "audit", str(SAMPLES / "hardened-fastapi"), "--skip", "crashing", "--format", "json"
    )
    assert code == 0
    ran = [a["name"] for a in json.loads(out)["audits"]]
    assert ran == [name for name in audits.available() if name != "crashing"]
    assert "permissions" in ran and "crashing" not in ran
    code, out = _invoke(
        "audit", str(SAMPLES / "hardened-fastapi"), "--only", "crashing", "--format", "json"
    )
    assert code == 3
    assert [a["name"] for a in json.loads(out)["audits"]] == ["crashing"]


def test_whole_tree_audits_in_worker_processes_find_the_same(tmp_path, monkeypatch):
    """On a large tree permissions, logging and uploads run in processes of their own so
    they overlap; what they report must not change."""
    import hardcheck

    root = copy_sample("insecure-fastapi", tmp_path)
    names = ["permissions", "logging", "uploads"]
    in_threads = hardcheck.audit(root, only=names, jobs=2)
    monkeypatch.setattr(runner, "OFFLOAD_MIN_FILES", 1)
    in_processes = hardcheck.audit(root, only=names, jobs=2)
    for result in in_processes.audits:
        assert dict(result.stats).get("worker_process") == 1, result.name
    assert all("worker_process" not in dict(r.stats) for r in in_threads.audits)
    assert [f.to_record() for f in in_processes.findings] == [
        f.to_record() for f in in_threads.findings
    ]
    assert [(a.name, a.status) for a in in_processes.audits] == [
        (a.name, a.status) for a in in_threads.audits
    ]


def _worker_pids(pid: int) -> set[int]:
    """The pool's child workers among a process's descendants."""
    from hardcheck.pool import _descendants

    workers = set()
    for child in _descendants(pid):
        try:
            with open(f"/proc/{child}/cmdline", "rb") as fh:
                cmdline = fh.read()
        except OSError:
            continue
        if b"from hardcheck.worker import main" in cmdline:
            workers.add(child)
    return workers


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts processes in /proc")
def test_one_pool_of_jobs_workers_serves_every_audit_of_the_run(tmp_path):
    """The engines' chunks and the whole-tree audits share the run's workers: with
    --jobs 2 they are this process and one child, where each audit used to start its own
    (and multiprocessing added a forkserver and a resource tracker)."""
    import subprocess
    import sys

    root = tmp_path / "big"
    for i in range(2_100):  # past OFFLOAD_MIN_FILES, and enough for the engines' pools
        sub = root / f"pkg{i % 30}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"m{i}.py").write_text(
            f"import subprocess\nTOKEN_{i} = 'x'\n\ndef f():\n    subprocess.call('ls', shell=True)\n"
            + "# padding line\n" * 60
        )
    out = tmp_path / "r.json"
    proc = subprocess.Popen(
        [sys.executable, "-m", "hardcheck", "audit", str(root), "--jobs", "2", "--no-cache",
         "-q", "--only", "permissions,logging,uploads,secrets,code", "-f", f"json:{out}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    from hardcheck.pool import _descendants

    most, seen, every = 0, set(), set()
    while proc.poll() is None:
        workers = _worker_pids(proc.pid)
        seen |= workers
        every |= _descendants(proc.pid)
        most = max(most, len(workers))
        time.sleep(0.05)
    assert proc.returncode == 0, proc.stderr.read().decode()[-2000:]  # only low findings
    report = json.loads(out.read_text())
    stats = {a["name"]: a["stats"] for a in report["audits"]}
    assert stats["permissions"].get("worker_process") == 1  # offloaded...
    assert stats["code"].get("worker_processes") == 2  # ...beside the engines' chunks
    assert any(f["upstream_id"] == "B602" for f in report["findings"])
    assert most == 1 and len(seen) == 1, (most, len(seen))
    assert every == seen  # nothing but the one worker: no forkserver, no resource tracker


def test_worker_tasks_stay_bounded_as_the_tree_grows():
    """A larger tree is more tasks, not larger ones: a worker's memory does not grow."""
    from hardcheck.inventory import Entry
    from hardcheck.pool import CHUNK_BYTES, balanced_chunks

    def entries(n):
        return [
            Entry(f"f{i}.py", f"f{i}.py", "file", 0o644, 0, 0, 40_000 + i, True) for i in range(n)
        ]

    small, large = balanced_chunks(entries(500), 6), balanced_chunks(entries(5000), 6)
    assert len(small) == 6 and len(large) > 40
    for chunks, n in ((small, 500), (large, 5000)):
        assert sorted(rel for c in chunks for rel in c) == sorted(f"f{i}.py" for i in range(n))
    sizes = [sum(40_000 + int(rel[1:-3]) for rel in c) for c in large]
    assert max(sizes) <= CHUNK_BYTES + 50_000 and max(sizes) - min(sizes) <= 50_000


def test_an_empty_tree_passes_nothing(tmp_path):
    """A rule that looked at nothing is a skip that says so, never a pass."""
    import hardcheck

    (tmp_path / "empty").mkdir()
    report = hardcheck.audit(tmp_path / "empty")
    passes = [(f.rule_id, f.message) for f in report.findings if f.status.value == "pass"]
    assert passes == []
    skips = {f.rule_id: f.message for f in report.findings if f.status.value == "skip"}
    assert "the tree holds no files" in skips["PRM001"]
    assert "nothing scanned" in skips["SEC001"]
    assert "no log files" in skips["LOG006"]
    assert "no non-empty Python files" in skips["LOG009"]
    assert report.exit_code == 0


def test_one_file_is_enough_to_pass_what_it_was_checked_for(tmp_path):
    import hardcheck

    (tmp_path / "svc").mkdir()
    (tmp_path / "svc" / "app.py").write_text("print('hello')\n")
    report = hardcheck.audit(tmp_path / "svc")
    passes = {f.rule_id: f.message for f in report.findings if f.status.value == "pass"}
    assert passes["PRM001"].startswith("checked 1 path(s)")
    assert passes["SEC001"].startswith("checked 1 file(s)")
    assert passes["LOG009"] == "checked 1 Python file(s)"
    assert "LOG006" not in passes  # still no log file


def test_whole_tree_tasks_go_only_to_this_process():
    """On a large tree a worker process never takes a whole-tree task (it would need a
    copy of the whole inventory); this process takes them before any chunk, then helps
    with the chunks."""
    import threading
    from concurrent.futures import Future

    from hardcheck.pool import _Task, _TaskQueue

    queue = _TaskQueue()
    tasks = [_Task(Future(), (name,), local, shareable=False) for name, local in
             [("chunk1", False), ("tree1", True), ("chunk2", False), ("tree2", True)]]  # fmt: skip
    for task in tasks:
        queue.put(task)
    assert queue.take(local=False).call == ("chunk1",)
    assert queue.take(local=True).call == ("tree1",)
    assert queue.take(local=True).call == ("tree2",)
    assert queue.take(local=False).call == ("chunk2",)
    queue.put(_Task(Future(), ("tree3",), True, shareable=False))
    taken: list = []
    child = threading.Thread(target=lambda: taken.append(queue.take(local=False)))
    child.start()
    child.join(0.3)
    assert child.is_alive() and not taken  # a child waits rather than take tree3
    assert queue.take(local=True).call == ("tree3",)
    queue.put(_Task(Future(), ("chunk3",), False))
    child.join(5)
    assert [t.call for t in taken] == [("chunk3",)]
    queue.put(_Task(Future(), ("small-tree",), True, shareable=True))
    assert queue.take(local=False).call == ("small-tree",)  # on a small tree it may
    assert queue.close() == [] and queue.take(local=True) is None


def _exit_unless_in(pid: int) -> str:
    if os.getpid() != pid:
        os._exit(3)  # a worker process dying in the middle of a task
    time.sleep(0.2)
    return "here"


def test_a_worker_process_that_dies_fails_its_task_and_is_replaced():
    from concurrent.futures import Future, wait

    from hardcheck.pool import SHARED, _Task

    queue = SHARED.start(2, ())
    try:
        call = ("none", runner._no_setup, (), _exit_unless_in, (os.getpid(),))
        futures = [Future() for _ in range(6)]
        for future in futures:
            queue.put(_Task(future, call, False))
        wait(futures, timeout=60)
        outcomes = [f.exception() or f.result() for f in futures]
        died = [o for o in outcomes if isinstance(o, RuntimeError)]
        assert died and all("ended in the middle of a task (exit code 3)" in str(o) for o in died)
        assert "here" in outcomes  # this process ran the others
        assert len(SHARED.children) == 1, outcomes
        assert SHARED.children[0].proc.poll() is None  # replaced
    finally:
        SHARED.close()
    assert SHARED.children == []


def test_a_worker_process_imports_nothing_from_the_directory_it_runs_in(tmp_path):
    """Run from inside the audited tree (`cd app && hardcheck audit .`), a worker process
    must not import the tree's modules: a `bandit.py` there would be code execution."""
    import subprocess
    import sys

    root = tmp_path / "app"
    files = {
        f"pkg/m{i}.py": "import subprocess\nsubprocess.call('ls', shell=True)\n" for i in range(60)
    }
    marker = tmp_path / "imported"
    for name in ("bandit", "detect_secrets", "hardcheck"):
        files[f"{name}.py"] = f"open({str(marker)!r}, 'w').write('{name}')\n"
    make_tree(root, files)
    out = tmp_path / "r.json"
    script = Path(sys.executable).parent / "hardcheck"  # as users run it: not from the cwd
    run = subprocess.run(
        [str(script), "audit", ".",
         "--jobs", "2", "--no-cache", "--only", "code,secrets", "-q", "-f", f"json:{out}"],
        cwd=root, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert not marker.exists(), marker.read_text()
    report = json.loads(out.read_text())
    code = next(a for a in report["audits"] if a["name"] == "code")
    assert code["stats"]["worker_processes"] == 2, run.stderr[-2000:]  # the pool did run
    assert sum(f["upstream_id"] == "B602" for f in report["findings"]) == 60
