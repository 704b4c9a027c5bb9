"""nginx configuration, read as nginx reads it, parsed with crossplane (NGINX's own
parser) one file at a time.

Which files are configuration: a *main* config is a file with a top-level `events` or
`http` block (nginx refuses a main config without `events`). Each is loaded as
`nginx -c FILE` loads it: a relative `include` is resolved against the main config's
directory (nginx's configuration prefix), whichever file it stands in; globs match as
glob(3) does (`*` matches no leading dot, so `conf.d/.default.conf` is how vhosts are
switched off); a file another main config includes is part of it. Files that look like
nginx configuration but no main config includes (templates, disabled vhosts) are not live
and are listed as unused, not audited. A tree with no main config at all (a container's
conf.d/ snippets) is read snippet by snippet, as if included into the http block of the
distribution's nginx.conf; a relative include is then tried against the snippet's own
directory and its parent.

Includes are resolved here rather than by crossplane so they stay inside the audited tree:
a file included twice in one chain is a cycle, and includes that leave the tree or match
nothing are errors, not silent gaps. Context checks are off: snippets are parsed alone.
"""

from __future__ import annotations

import glob
import os
import re
import stat
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
    snippet: bool = False  # no main config in the tree: read as if inside http { }
    max_size: int = 2 * 1024 * 1024  # an included file larger than this is not read
    # the tree is a whole filesystem (an image's): an absolute include is under its root
    rooted: bool = False


@dataclass
class NginxTree:
    """The nginx configuration a tree holds, as nginx would load it."""

    configs: list[NginxConfig] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # looks like nginx, included by nothing


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


MAIN_BLOCK = re.compile(r"^\s*(events|http)\s*\{", re.M)


def is_main_config(text: str) -> bool:
    return MAIN_BLOCK.search(text) is not None


DEFAULT_MAX_SIZE = 2 * 1024 * 1024


def load(
    root: Path,
    rel: str,
    *,
    snippet: bool = False,
    max_size: int = DEFAULT_MAX_SIZE,
    rooted: bool = False,
) -> NginxConfig:
    cfg = NginxConfig(main=rel, snippet=snippet, max_size=max_size, rooted=rooted)
    real_root = os.path.realpath(root)
    here = os.path.dirname(os.path.join(root, rel))
    # a main config's includes are relative to its directory (the prefix); a snippet's
    # prefix is unknown: its own directory, then the parent (conf.d/ sits in the prefix)
    prefixes = (here, os.path.dirname(here)) if snippet else (here,)
    cfg.directives = _load_file(root, real_root, prefixes, rel, cfg, chain=())
    return cfg


def _load_file(
    root: Path, real_root: str, prefixes: tuple[str, ...], rel: str, cfg: NginxConfig, chain: tuple
) -> list[Directive]:
    if rel in chain:
        cfg.errors.append((rel, None, f"include cycle: {' -> '.join((*chain, rel))}"))
        return []
    path = os.path.join(root, rel)
    # crossplane opens included files itself: the inventory's checks apply to them here
    # (a regular file, within max-file-size), or a 100 MB include is parsed whole
    try:
        info = os.lstat(path)
    except OSError as exc:
        cfg.errors.append((rel, None, f"cannot be read: {exc.strerror or exc}"))
        return []
    if not stat.S_ISREG(info.st_mode):
        cfg.errors.append((rel, None, "not a regular file; not read"))
        return []
    if info.st_size > cfg.max_size:
        cfg.errors.append(
            (
                rel,
                None,
                f"larger than max-file-size ({info.st_size} > {cfg.max_size} bytes); not read",
            )
        )
        return []
    payload = crossplane.parse(path, single=True, check_ctx=False, check_args=False, comments=False)
    cfg.files.append(rel)
    directives: list[Directive] = []
    for item in payload["config"]:
        for err in item.get("errors", []):
            cfg.errors.append(
                (rel, err.get("line"), str(err.get("error", "parse error")).split(" in /")[0])
            )
        directives = _convert(item.get("parsed", []), rel)
    return _expand(root, real_root, prefixes, directives, cfg, (*chain, rel))


def _expand(root, real_root, prefixes, directives: list[Directive], cfg, chain) -> list[Directive]:
    out: list[Directive] = []
    for d in directives:
        if d.name == "include" and d.args:
            out.extend(_include(root, real_root, prefixes, d, cfg, chain))
            continue
        if d.block is not None:
            d.block = _expand(root, real_root, prefixes, d.block, cfg, chain)
        out.append(d)
    return out


def _include(root, real_root, prefixes, d: Directive, cfg, chain) -> list[Directive]:
    pattern = d.args[0]
    if os.path.isabs(pattern):
        bases = [os.path.join(root, pattern.lstrip("/")) if cfg.rooted else pattern]
    else:
        bases = [os.path.join(p, pattern) for p in prefixes]
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
                _load_file(root, real_root, prefixes, os.path.relpath(real, real_root), cfg, chain)
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


def http_blocks(cfg: NginxConfig) -> list[Directive]:
    """The config's http blocks; a snippet's top level stands for the http block it is
    included into."""
    if cfg.snippet or not find(cfg.directives, "http"):
        return [Directive("http", [], cfg.main, 0, cfg.directives)]
    return find(cfg.directives, "http")


def iter_locations(cfg: NginxConfig):
    """Yield (server, location, chain) where chain is the list of blocks from http down to
    the location (nested locations included), for settings that inherit downward."""
    for http in http_blocks(cfg):
        for server in find(http.block or [], "server"):
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


def load_tree(
    root: Path,
    candidates: list[tuple[str, str]],
    mains: set[str] | None = None,
    max_size: int = DEFAULT_MAX_SIZE,
    rooted: bool = False,
) -> NginxTree:
    """The nginx configuration among (rel, text) candidates, as nginx would load it.
    `mains`: files the user's config names as a proxy's config, loaded whatever they look
    like (as a snippet when they hold no http or events block). `rooted`: the tree is a
    whole filesystem (an image's), where nginx's absolute includes point."""
    named = mains or set()
    nginxish = [(r, t) for r, t in candidates if r in named or looks_like_nginx(r, t)]
    found = [rel for rel, text in nginxish if is_main_config(text)]
    snippets = [rel for rel, text in nginxish if rel in named and not is_main_config(text)]
    if found or snippets:
        configs = [load(root, rel, max_size=max_size, rooted=rooted) for rel in found]
        configs += [
            load(root, rel, snippet=True, max_size=max_size, rooted=rooted) for rel in snippets
        ]
        included = included_files(configs)
        configs = [c for c in configs if c.main not in included]
    else:
        configs = [
            load(root, rel, snippet=True, max_size=max_size, rooted=rooted) for rel, _ in nginxish
        ]
        included = included_files(configs)
        configs = [c for c in configs if c.main not in included]
    live = {f for c in configs for f in c.files}
    return NginxTree(configs, [rel for rel, _ in nginxish if rel not in live])
