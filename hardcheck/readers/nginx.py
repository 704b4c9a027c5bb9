"""nginx configuration, parsed with crossplane (NGINX's own parser) one file at a time.

Includes are resolved here rather than by crossplane so they stay inside the audited tree:
an `include` is taken relative to the including file's directory first, then to the
main config's directory (nginx's prefix), globs are expanded, a file included twice in
one chain is a cycle, and includes that leave the tree or match nothing are errors, not
silent gaps. Context checks are off: snippets (conf.d/*.conf) are parsed on their own.
"""

from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import crossplane

SIZE = re.compile(r"^(\d+)([kKmMgG]?)$")
UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


@dataclass
class Directive:
    name: str
    args: list[str]
    file: str  # display path relative to the tree
    line: int
    block: list[Directive] | None = None


@dataclass
class NginxConfig:
    main: str
    directives: list[Directive] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    errors: list[tuple[str, int | None, str]] = field(default_factory=list)


def parse_size(text: str) -> int | None:
    """nginx sizes: bytes, or k/m/g (either case). None when it is not a size."""
    m = SIZE.match(text.strip())
    if not m:
        return None
    return int(m.group(1)) * UNITS[m.group(2).lower()]


def looks_like_nginx(rel: str, text: str) -> bool:
    if "nginx" in rel.lower() and rel.endswith((".conf", ".conf.template")):
        return True
    return rel.endswith(".conf") and bool(
        re.search(r"^\s*(http|server|location\s+\S+)\s*\{", text, re.M)
    )


def _convert(items: list[dict], file: str) -> list[Directive]:
    out = []
    for item in items:
        block = item.get("block")
        out.append(
            Directive(
                name=item["directive"],
                args=list(item.get("args", [])),
                file=file,
                line=item.get("line", 0),
                block=_convert(block, file) if block is not None else None,
            )
        )
    return out


def load(root: Path, rel: str) -> NginxConfig:
    cfg = NginxConfig(main=rel)
    real_root = os.path.realpath(root)
    main_dir = os.path.dirname(os.path.join(root, rel))
    cfg.directives = _load_file(root, real_root, main_dir, rel, cfg, chain=())
    return cfg


def _load_file(
    root: Path, real_root: str, main_dir: str, rel: str, cfg: NginxConfig, chain: tuple
) -> list[Directive]:
    if rel in chain:
        cfg.errors.append((rel, None, f"include cycle: {' -> '.join((*chain, rel))}"))
        return []
    path = os.path.join(root, rel)
    payload = crossplane.parse(path, single=True, check_ctx=False, check_args=False, comments=False)
    cfg.files.append(rel)
    directives: list[Directive] = []
    for item in payload["config"]:
        for err in item.get("errors", []):
            cfg.errors.append(
                (rel, err.get("line"), str(err.get("error", "parse error")).split(" in /")[0])
            )
        directives = _convert(item.get("parsed", []), rel)
    return _expand(root, real_root, main_dir, directives, cfg, (*chain, rel))


def _expand(root, real_root, main_dir, directives: list[Directive], cfg, chain) -> list[Directive]:
    out: list[Directive] = []
    for d in directives:
        if d.name == "include" and d.args:
            out.extend(_include(root, real_root, main_dir, d, cfg, chain))
            continue
        if d.block is not None:
            d.block = _expand(root, real_root, main_dir, d.block, cfg, chain)
        out.append(d)
    return out


def _include(root, real_root, main_dir, d: Directive, cfg, chain) -> list[Directive]:
    pattern = d.args[0]
    including_dir = os.path.dirname(os.path.join(root, d.file))
    bases = (
        [pattern]
        if os.path.isabs(pattern)
        else [os.path.join(including_dir, pattern), os.path.join(main_dir, pattern)]
    )
    matches: list[str] = []
    for base in bases:
        matches = sorted(glob.glob(base))
        if matches:
            break
    if not matches:
        if glob.has_magic(pattern):
            return []  # an empty glob is valid nginx (conf.d/ with nothing in it)
        cfg.errors.append((d.file, d.line, f"include {pattern!r}: file not found in the tree"))
        return []
    out: list[Directive] = []
    for match in matches:
        real = os.path.realpath(match)
        if not (real == real_root or real.startswith(real_root + os.sep)):
            cfg.errors.append(
                (d.file, d.line, f"include {pattern!r} leaves the audited tree; not followed")
            )
            continue
        if os.path.isfile(real):
            out.extend(
                _load_file(root, real_root, main_dir, os.path.relpath(real, real_root), cfg, chain)
            )
    return out


def included_files(configs: list[NginxConfig]) -> set[str]:
    return {f for c in configs for f in c.files[1:]}


def find(directives: list[Directive], name: str) -> list[Directive]:
    return [d for d in directives if d.name == name]


def value(directives: list[Directive], name: str) -> Directive | None:
    """The directive as nginx applies it at this level: the last occurrence wins."""
    found = find(directives, name)
    return found[-1] if found else None


PROXY_DIRECTIVES = ("proxy_pass", "uwsgi_pass", "fastcgi_pass", "scgi_pass", "grpc_pass")


def iter_locations(cfg: NginxConfig):
    """Yield (server, location, chain) where chain is the list of blocks from http down to
    the location (nested locations included), for settings that inherit downward."""
    for http in find(cfg.directives, "http") or [
        Directive("http", [], cfg.main, 0, cfg.directives)
    ]:
        servers = find(http.block or [], "server")
        if not servers and http.name != "http":
            servers = find(cfg.directives, "server")
        for server in servers:
            yield from _locations(server.block or [], [http, server], server)


def _locations(block: list[Directive], chain: list[Directive], server: Directive):
    for d in block:
        if d.name == "location":
            here = [*chain, d]
            yield server, d, here
            yield from _locations(d.block or [], here, server)


def inherited(chain: list[Directive], name: str) -> Directive | None:
    """The innermost setting of `name` along the chain (nginx inheritance for simple
    directives such as client_max_body_size)."""
    for block in reversed(chain):
        found = value(block.block or [], name)
        if found is not None:
            return found
    return None


def load_tree(root: Path, candidates: list[tuple[str, str]]) -> list[NginxConfig]:
    """Load every nginx config among (rel, text) candidates; files that another config
    includes are audited as part of it, not again on their own."""
    mains = [rel for rel, text in candidates if looks_like_nginx(rel, text)]
    configs = [load(root, rel) for rel in mains]
    included = included_files(configs)
    return [c for c in configs if c.main not in included]
