"""Runs audits concurrently, each against a deadline.

Each audit runs in its own daemon thread (CPU-heavy audits fan out to processes
themselves). An audit that raises, or is still running when its deadline passes, becomes
an `error` result with the reason; the others still report. A timed-out thread cannot be
killed, but it is a daemon, so it does not hold the process open; its context's
`cancelled` event tells a cooperative audit to stop early.
"""

from __future__ import annotations

import contextlib
import gc
import queue
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Callable

from .audits.base import Audit, AuditContext, AuditOutput
from .cache import memo
from .checklist import checklist, headline
from .model import AuditResult, Finding, Location, Status

AUDIT_ERROR_RULE = "RUN001"


@dataclass
class _Outcome:
    name: str
    findings: list[Finding]
    error: str
    duration: float


def _derive_status(findings: list[Finding]) -> Status:
    statuses = {f.status for f in findings}
    for status in (Status.ERROR, Status.FAIL, Status.PASS):
        if status in statuses:
            return status
    return Status.SKIP


def _error_finding(ctx: AuditContext, message: str) -> Finding:
    return ctx.finding(AUDIT_ERROR_RULE, Status.ERROR, message, Location(), key="audit-error")


# Pure-Python audits of the whole tree run as tasks of the run's pool on a tree this large
# (and more than one job): this process takes them one after another while the worker
# processes scan with the engines. In threads they would share this process's one core
# (the GIL) with each other and with the engine chunks it runs too.
OFFLOAD_MIN_FILES = 2_000
# Below this many files a worker process may take a whole-tree audit when it would idle
# otherwise (a rerun after one edit: the engines read their cache); above it, its copy of
# the inventory would cost more memory than the wait costs time.
SHARE_MAX_FILES = 20_000


def offload(audit: Audit, ctx: AuditContext) -> bool:
    return (
        audit.cpu_bound
        and ctx.config.jobs > 1
        and audit.memo_reads(ctx) is not None  # reads only the tree: nothing live
        and ctx.inventory.file_count >= OFFLOAD_MIN_FILES
    )


# open long_lived blocks: an offloaded audit run in this process nests one
_FROZEN = [0]


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """What exists now (the inventory, the service model) lives as long as the audits:
    the collector need not traverse it on every full collection. Tens of thousands of
    inventory entries, traversed again for each collection the audits' syntax trees
    trigger, made the audits' time grow faster than the tree. A nested block (a whole-tree
    audit this process runs as a pool task) freezes again what the run has made since,
    such as each file's facts, once a collection has freed what is garbage now."""
    if _FROZEN[0]:
        gc.collect()
    gc.freeze()
    _FROZEN[0] += 1
    try:
        yield
    finally:
        _FROZEN[0] -= 1
        if not _FROZEN[0]:
            gc.unfreeze()  # a library caller running audit() in a loop keeps nothing frozen


def _run_in_process(name, root, inventory, config, catalogue, options, services):
    from . import audits

    ctx = AuditContext(name, root, inventory, config, catalogue, options, services=services)
    with long_lived():
        output = run_one(audits.load(name)(), ctx)
    return output, dict(ctx.stats), ctx.note


def run_one(audit: Audit, ctx: AuditContext) -> AuditOutput:
    output = audit.run(ctx)
    if not isinstance(output, AuditOutput):
        raise TypeError(f"{audit.name}.run returned {type(output).__name__}, not AuditOutput")
    return output


def offloaded(audit: Audit, ctx: AuditContext) -> AuditOutput:
    """`audit.run` as a task of the run's pool, which this process takes before the
    engines' chunks (a worker process only on a small tree, when it would idle
    otherwise); its stats and note come back with its output."""
    from .pool import run_pooled

    args = (
        audit.name,
        ctx.root,
        ctx.inventory,
        ctx.config,
        ctx.catalogue,
        ctx.options,
        ctx.services,
    )
    ((output, stats, note),) = run_pooled(
        ctx,
        preload=audit.worker_modules,
        initializer=_no_setup,
        initargs=(),
        tasks=[(_run_in_process, args)],
        local=True,  # the whole inventory: a worker process would need a copy
        shareable=ctx.inventory.file_count < SHARE_MAX_FILES,
    )
    ctx.stats.update(stats)
    ctx.stats["worker_process"] = 1
    ctx.note = note
    return output


def _no_setup() -> None:
    pass


def _close_pool(timed_out: bool) -> None:
    """End the run's workers, if it started any: killed when an audit ran out of time."""
    import sys

    pool = sys.modules.get("hardcheck.pool")  # imported only by a run that offloads
    if pool is not None:
        if timed_out:
            pool.SHARED.cancelled = True
        pool.SHARED.close()


def run_audits(
    audits: list[Audit],
    make_context: Callable[[Audit], AuditContext],
    timeout: float,
) -> list[AuditResult]:
    results: queue.Queue[_Outcome] = queue.Queue()
    contexts: dict[str, AuditContext] = {}
    started = time.monotonic()

    def work(audit: Audit, ctx: AuditContext, in_worker: bool) -> None:
        t0 = time.monotonic()
        try:
            key = memo.memo_key(audit, ctx)
            output = memo.recall(ctx, key) if key else None
            if output is None:
                output = offloaded(audit, ctx) if in_worker else run_one(audit, ctx)
                if key:
                    memo.keep(ctx, key, output)
            findings = checklist(ctx, output, audit.inputs(ctx))
            results.put(_Outcome(audit.name, findings, "", time.monotonic() - t0))
        except BaseException as exc:
            last = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            where = f" at {last[0].filename.rsplit('/', 1)[-1]}:{last[0].lineno}" if last else ""
            text = str(exc)[:300]
            if isinstance(exc, ImportError):
                text = f"an engine it needs is not installed or broken ({exc.name or text}): {text}"
            results.put(
                _Outcome(
                    audit.name, [], f"{type(exc).__name__}{where}: {text}", time.monotonic() - t0
                )
            )

    for audit in audits:
        contexts[audit.name] = make_context(audit)
    offloading = [audit for audit in audits if offload(audit, contexts[audit.name])]
    if offloading:
        from .pool import start_workers  # worker processes: only when used

        # The worker processes start now and import the engines while the run goes on
        # (the whole-tree audits run in this process).
        start_workers(
            contexts[offloading[0].name].config.jobs,
            sorted({m for audit in audits for m in audit.worker_modules}),
        )
    for audit in audits:
        ctx = contexts[audit.name]
        threading.Thread(
            target=work,
            args=(audit, ctx, audit in offloading),
            name=f"audit-{audit.name}",
            daemon=True,
        ).start()

    outcomes: dict[str, _Outcome] = {}
    deadline = started + timeout
    while len(outcomes) < len(audits):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            arrived = results.get(timeout=remaining)
        except queue.Empty:
            break
        outcomes[arrived.name] = arrived
    _close_pool(timed_out=len(outcomes) < len(audits))

    out: list[AuditResult] = []
    for audit in audits:
        ctx = contexts[audit.name]
        outcome = outcomes.get(audit.name)
        stats = tuple(sorted(ctx.stats.items()))
        if outcome is None:
            ctx.cancelled.set()
            message = f"timed out after {timeout:g}s; its results are missing from this report"
            out.append(
                AuditResult(
                    audit.name,
                    Status.ERROR,
                    timeout,
                    (_error_finding(ctx, message),),
                    message,
                    stats,
                )
            )
        elif outcome.error:
            message = f"audit crashed: {outcome.error}"
            out.append(
                AuditResult(
                    audit.name,
                    Status.ERROR,
                    outcome.duration,
                    (_error_finding(ctx, message),),
                    message,
                    stats,
                )
            )
        else:
            out.append(
                AuditResult(
                    audit.name,
                    _derive_status(outcome.findings),
                    outcome.duration,
                    tuple(outcome.findings),
                    headline(outcome.findings, ctx.note),
                    stats,
                )
            )
    return out
