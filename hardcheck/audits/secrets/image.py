"""What only an artifact shows the secrets audit: an image's Env and build history, the
files a later layer deleted (still in the image), and secret-bearing files that ship."""

from __future__ import annotations

from ...inventory import path_spec
from ...model import Finding, Location, Severity
from ...readers.secretfiles import NOT_SECRET_PATTERNS, SECRET_FILE_PATTERNS, not_a_database
from ...safetext import display_path
from ..base import AuditContext, Coverage
from .scan import IMAGE_CONFIG, IMAGE_HISTORY, Hit, init_worker, scan_chunk, scan_image_config

ENV, HISTORY, REMOVED = "SEC005", "SEC006", "SEC007"
IMAGE_RULES = (ENV, HISTORY, REMOVED)
SHIPPED = "SEC008"


def image_findings(ctx: AuditContext, cov: Coverage, initargs: tuple) -> list[Finding]:
    facts = ctx.inventory.image
    if facts is None:
        cov.skip(IMAGE_RULES, "not applicable: the target is not a container image")
        return []
    init_worker(*initargs)  # in this process: a config and a few files
    env, history = scan_image_config(list(facts.env), list(facts.history))
    out: list[Finding] = []
    cov.saw(ENV, "image config", 1)
    ctx.stats["image_env_variables"] = len(facts.env)
    for h in env.hits:
        key = facts.env[h.line - 1][0] if 0 < h.line <= len(facts.env) else "?"
        out.append(
            _finding(
                ctx, ENV, h,
                f"{_who(h)} found a secret in the image's Env ({key}): every container and "
                "everyone who pulls the image reads it; pass it at run time from a secret store",
                Location(path=IMAGE_CONFIG, setting=f"Env.{key}"),
                f"Env {key}", key,
            )
        )  # fmt: skip
    cov.saw(HISTORY, "build step", len(facts.history))
    if not facts.history:
        cov.saw(HISTORY, "image config", 1)
    ctx.stats["image_history_steps"] = len(facts.history)
    for h in history.hits:
        out.append(
            _finding(
                ctx, HISTORY, h,
                f"{_who(h)} found a secret in build step {h.line} of the image's history: "
                "ARG and ENV values are kept there for anyone who pulls the image; use a "
                "build secret (RUN --mount=type=secret) instead",
                Location(path=IMAGE_HISTORY, line=h.line),
                f"step {h.line}", str(h.line),
            )
        )  # fmt: skip
    out.extend(_removed(ctx, cov, facts))
    return out


def _removed(ctx: AuditContext, cov: Coverage, facts) -> list[Finding]:
    copies = {r.copy: r for r in facts.removed}
    cov.saw(REMOVED, "layer", len(facts.layers))
    cov.saw(REMOVED, "file a later layer removed", len(copies))
    for where, why in ctx.inventory.problems:
        cov.could_not_read(REMOVED, where, why)
    ctx.stats["image_removed_files"] = len(copies)
    out = []
    for copy, _digest, result in scan_chunk(facts.removed_root, sorted(copies)):
        gone = copies[copy]
        for _rel, why in result.errors:
            cov.could_not_read(REMOVED, display_path(gone.path), why)
        for h in result.hits:
            verb = "replaced" if gone.replaced else "deleted"
            out.append(
                _finding(
                    ctx, REMOVED, h,
                    f"{_who(h)} found a secret in a file layer {gone.layer} added and layer "
                    f"{gone.by_layer} {verb}: its bytes are still in layer {gone.layer} for "
                    "anyone who pulls the image (rotate it; rebuild without it)",
                    Location(path=display_path(gone.path), line=h.line),
                    f"layer {gone.layer}, removed in layer {gone.by_layer}",
                    f"L{gone.layer}",
                )
            )  # fmt: skip
    return out


def _who(h: Hit) -> str:
    return ", ".join(h.detectors)


def _finding(ctx, rule, h: Hit, message, location, where: str, key: str) -> Finding:
    return ctx.fail(
        rule,
        message,
        location,
        severity=Severity(h.severity),
        evidence=f"{where} · {_who(h)} · id {h.kid}",
        key=f"{key}:{h.kid}",
        upstream_id=h.detectors[0],
    )


def shipped_files(ctx: AuditContext, cov: Coverage) -> list[Finding]:
    """Secret-bearing files that ship in the artifact (an image's own files, a wheel's or
    sdist's members): whoever has the artifact has them."""
    inv = ctx.inventory
    if inv.extracted is None:
        cov.skip(SHIPPED, "not applicable: the target is a source tree, not what ships")
        return []
    secret = path_spec([*SECRET_FILE_PATTERNS, *(f"!{p}" for p in NOT_SECRET_PATTERNS)])
    files = list(inv.files())
    cov.saw(SHIPPED, "file name", len(files))
    what = inv.source  # image, wheel or sdist
    out = []
    for entry in files:
        if not secret.match_file(entry.rel) or ctx.services.in_frontend(entry.rel):
            continue
        if not_a_database(inv, entry, ctx.config.max_file_size):
            continue
        out.append(
            ctx.fail(
                SHIPPED,
                f"secret-bearing file ships in the {what}: everyone who has the {what} has "
                "it; leave it out (.dockerignore, MANIFEST.in, package excludes) and rotate "
                "what it holds",
                Location(path=entry.display),
                evidence=f"in the {what}",
                key=what,
            )
        )
    return out
