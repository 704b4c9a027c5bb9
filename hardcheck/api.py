"""The pipeline: config → inventory → audits → suppressions → report.

`audit()` is the public entry point for people who embed hardcheck; the CLI is a thin
layer over it. User mistakes raise `ConfigError` (exit 2); everything found in the
target becomes report items.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import os
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from . import __version__, artifacts, audits
from .artifacts import ArtifactTarget
from .baseline import load as load_baseline
from .cache import NO_CACHE_ENV, NO_CACHE_NOTE, ResultCache, memo, open_cache
from .catalogue import Catalogue, load_catalogue
from .config import Config, ConfigError, build_config
from .inventory import Inventory, build_inventory, path_spec
from .model import Finding, Severity, Status
from .report.model import Report, assign_fingerprints, summarise_audit
from .runner import long_lived, run_audits
from .safetext import redact_urls, safe
from .services.model import ServiceModel
from .services.model import build as build_services
from .suppress import apply_inline_ignores, apply_suppressions

ARTIFACT_CACHE_NOTE = "not cached: an artifact's files are read from it afresh each run"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _names(values: Sequence[str]) -> list[str]:
    return [n.strip() for v in values for n in v.split(",") if n.strip()]


def select_audits(only: Sequence[str], skip: Sequence[str]) -> list[str]:
    known = audits.available()
    for name in [*only, *skip]:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(f"unknown audit '{name}'{suggestion}; available: {', '.join(known)}")
    chosen = [n for n in known if (not only or n in only) and n not in skip]
    if not chosen:
        raise ConfigError("--only/--skip leave no audit to run")
    return chosen


def _check_references(config: Config, catalogue: Catalogue) -> None:
    source = str(config.file) if config.file else "command line"
    valid = {*audits.available(), "core", *(r.id for r in catalogue)}
    for key in config.owners:
        if key not in valid:
            hint = difflib.get_close_matches(key, sorted(valid), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(
                f"{source}: owners key '{key}' is neither an audit nor a rule id{suggestion}"
            )
    for s in config.suppressions:
        if catalogue.find(s.rule) is None:
            hint = difflib.get_close_matches(s.rule.upper(), [r.id for r in catalogue], n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            raise ConfigError(
                f"{source}: suppress[{s.index}].rule '{s.rule}' is not a known rule{suggestion}; "
                "see `hardcheck rules`"
            )


# Option values that name a file: given to `audit(options=...)` (or by a CLI flag) they are
# relative to the current directory; in a config file, relative to that file.
PATH_OPTIONS = {("dependencies", "vuln-db"), ("headers", "ca-file")}


def _resolve_paths(options: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for audit_name, values in options.items():
        if not isinstance(values, Mapping):
            raise ConfigError(f"options[{audit_name!r}] must be a mapping of that audit's options")
        table = dict(values)
        for key, value in table.items():
            if (audit_name, key) in PATH_OPTIONS and isinstance(value, (str, os.PathLike)):
                table[key] = str(Path(value).resolve())
        out[str(audit_name)] = table
    return out


def _artifact(target: str | os.PathLike[str]) -> ArtifactTarget | None:
    try:
        return artifacts.detect(os.fspath(target))
    except artifacts.ArtifactError as exc:
        raise ConfigError(str(exc)) from None


def _config_root(target: str | os.PathLike[str], artifact: ArtifactTarget | None) -> Path:
    """Where the config file is looked for: the tree, or for an artifact (which holds the
    project's files, not its audit settings) the current directory."""
    return Path.cwd() if artifact is not None else _target(target)


@contextmanager
def _inventory(root: Path, artifact: ArtifactTarget | None, config: Config) -> Iterator[Inventory]:
    if artifact is None:
        yield build_inventory(root, config.include, config.exclude)
        return
    try:
        with artifacts.opened(
            artifact, config.max_file_size, config.include, config.exclude
        ) as inventory:
            yield inventory
    except artifacts.ArtifactError as exc:
        raise ConfigError(str(exc)) from None


def _target(target: str | os.PathLike[str]) -> Path:
    root = Path(target)
    if not root.exists():
        raise ConfigError(f"target not found: {safe(str(root))}")
    if not root.is_dir():
        raise ConfigError(
            f"target {safe(str(root))} is a file hardcheck cannot audit: give a directory,"
            " a container image (docker save / OCI layout / oci-archive), a wheel or an sdist"
        )
    if not os.access(root, os.R_OK | os.X_OK):
        raise ConfigError(f"target directory cannot be read: {safe(str(root))}")
    return root.resolve()


def discover(
    target: str | os.PathLike[str] = ".", *, config_file: str | os.PathLike[str] | None = None
) -> ServiceModel:
    """The service model of a tree, as the audits see it (`hardcheck services`)."""
    artifact = _artifact(target)
    root = _config_root(target, artifact)
    config = build_config(
        root,
        config_file=Path(config_file) if config_file else None,
        overrides={},
        audit_schemas=audits.ConfigSchemas(),
    )
    with _inventory(root, artifact, config) as inventory:
        return build_services(
            inventory.root,
            inventory,
            config.max_file_size,
            config.django_settings(),
            config.services,
        )


def in_test_code(f: Finding, spec) -> Finding:
    """A failing finding in test code is information: kept (bandit's and detect-secrets'
    parity stay exact) but at info, marked, and counted apart from the service's."""
    path = f.location.path
    if f.status is not Status.FAIL or not path or not spec.match_file(path):
        return f
    note = "" if f.severity is Severity.INFO else f" (test code: {f.severity.value} elsewhere)"
    return dataclasses.replace(
        f,
        severity=Severity.INFO,
        message=f.message + note,
        location=dataclasses.replace(f.location, test_code=True),
    )


NAME_ONLY_DETECTORS = frozenset({"KeywordDetector"})


def _real_credential(f: Finding) -> bool:
    """A secrets finding a detector recognised by its shape (a provider token, a key), not
    only by a password-like name: in a published package's tests, `password = "incorrect"`
    is a fixture; an AWS key is a leak."""
    return f.audit == "secrets" and (f.upstream_id or "") not in NAME_ONLY_DETECTORS


def audit(
    target: str | os.PathLike[str] = ".",
    *,
    config_file: str | os.PathLike[str] | None = None,
    only: Sequence[str] = (),
    skip: Sequence[str] = (),
    fail_on: str | None = None,
    environment: str | None = None,
    timeout: float | None = None,
    jobs: int | None = None,
    urls: Sequence[str] = (),
    options: Mapping[str, Mapping[str, Any]] | None = None,
    baseline: str | os.PathLike[str] | None = None,
    today: dt.date | None = None,
    cache: bool | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Report:
    """Audit a service tree and return the report. Raises ConfigError for user mistakes.

    `options` sets audits' options as their config tables do, over the config file:
    `{"dependencies": {"vuln-db": "advisories/"}, "headers": {"profile": "strict"}}`
    (`hardcheck rules` and the README list them; file paths are relative to the current
    directory). `cache` None follows HARDCHECK_NO_CACHE (set: off); `cache_dir` None is the
    user cache directory (or HARDCHECK_CACHE_DIR)."""
    artifact = _artifact(target)
    root = _config_root(target, artifact)
    catalogue = load_catalogue()
    config = build_config(
        root,
        config_file=Path(config_file) if config_file else None,
        overrides={
            "fail-on": fail_on,
            "environment": environment,
            "timeout": timeout,
            "jobs": jobs,
            "audit_options": _resolve_paths(options or {}),
            "only": _names(only),
            "skip": _names(skip),
            "urls": list(urls),
        },
        audit_schemas=audits.ConfigSchemas(),
    )
    chosen = select_audits(config.only, config.skip)
    _check_references(config, catalogue)
    known = load_baseline(Path(baseline)) if baseline else None

    started_wall, t0 = _now(), time.monotonic()
    with _inventory(root, artifact, config) as inventory:
        return _audit(
            inventory, artifact, config, catalogue, chosen, known, today, cache, cache_dir,
            started_wall, t0,
        )  # fmt: skip


def _audit(
    inventory: Inventory,
    artifact: ArtifactTarget | None,
    config: Config,
    catalogue: Catalogue,
    chosen: list[str],
    known,
    today: dt.date | None,
    cache: bool | None,
    cache_dir,
    started_wall: str,
    t0: float,
) -> Report:
    root = inventory.root
    started = time.time()
    if cache is None:
        cache = not os.environ.get(NO_CACHE_ENV)
    if artifact is not None:
        results_cache = ResultCache(None, note=ARTIFACT_CACHE_NOTE)
    elif cache:
        results_cache = open_cache(Path(cache_dir) if cache_dir else None, root)
    else:
        results_cache = ResultCache(None, note=NO_CACHE_NOTE)
    services = build_services(
        root, inventory, config.max_file_size, config.django_settings(), config.services
    )
    instances = [audits.load(name)() for name in chosen]
    memo.register_probes(inventory, instances)
    inventory.recall_facts(results_cache, config.max_file_size)

    def context(a: audits.Audit) -> audits.AuditContext:
        return audits.AuditContext(
            audit=a.name,
            root=root,
            inventory=inventory,
            config=config,
            catalogue=catalogue,
            options=config.options_for(a.name),
            cache=results_cache,
            services=services,
        )

    with long_lived():
        results = run_audits(instances, context, config.timeout)
    inventory.keep_facts(results_cache, config.max_file_size, started)
    # Fingerprints are taken before suppression so a finding keeps its id either way.
    in_tests = path_spec(config.test_paths)
    # a wheel's or sdist's tests are published with it: a secret there is not test-only
    shipped_tests = artifact is not None and artifact.kind in ("wheel", "sdist")
    all_findings: list[Finding] = [
        f if shipped_tests and _real_credential(f) else in_test_code(f, in_tests)
        for f in (
            f if f.location.service else f.in_service(services.service_for(f.location.path))
            for f in assign_fingerprints([f for r in results for f in r.findings])
        )
    ]
    sup = apply_suppressions(
        all_findings,
        config.suppressions,
        catalogue,
        set(chosen),
        config.owners,
        today or dt.date.today(),
    )
    inline = apply_inline_ignores(sup.kept, root, catalogue, config.owners)
    findings = sorted(
        inline.kept + assign_fingerprints(sup.problems + inline.problems), key=Finding.sort_key
    )
    summaries = tuple(
        summarise_audit(r, [f for f in findings if f.audit == r.name]) for r in results
    )
    return Report(
        run_id=str(uuid.uuid4()),
        tool_version=__version__,
        target=safe(artifact.written if artifact is not None else str(root)),
        urls=tuple(safe(redact_urls(u)) for u in config.urls),
        started=started_wall,
        finished=_now(),
        duration_seconds=time.monotonic() - t0,
        config={**config.describe(), "audits": chosen},
        inventory=inventory.describe(),
        cache=results_cache.describe(),
        audits=summaries,
        findings=tuple(findings),
        suppressed=tuple(sup.suppressed + inline.suppressed),
        suppressions=tuple(sup.outcomes),
        fail_on=config.fail_on,
        baseline=known,
    )
