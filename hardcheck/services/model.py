"""The service model, built once per run from the inventory: what is deployed and how,
so that audits judge the service rather than files one by one.

It holds how the service is started (hardcheck.services.start: Procfile, Dockerfile,
compose, Kubernetes, systemd, entry scripts, with the environment each runs with); the
Django settings production loads, merged along their import chain (services.django); the
proxy in front: the nginx configuration read as nginx reads it (main configs and what they
include, prefix-relative includes, glob(3) semantics), with the files that look like nginx
configuration but nothing includes listed apart; and which directories are JavaScript
front-ends. Audits read `ctx.services` instead of finding and parsing these files
themselves. Audits whose results are cached whole (hardcheck.cache.memo) must name the
files the model read for them in `memo_reads`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..inventory import Inventory, ReadSkipped, read_bytes, read_text
from ..readers import nginx
from . import apps, routes, start, uwsgi
from .apps import Service
from .django import DjangoSettings, production_settings
from .start import StartCommand


@dataclass
class ServiceModel:
    # the services in the tree: entrypoints, the start commands and proxy routes of each
    services: list[Service] = field(default_factory=list)
    nginx: nginx.NginxTree = field(default_factory=nginx.NginxTree)
    starts: list[StartCommand] = field(default_factory=list)
    django: DjangoSettings | None = None  # the settings production loads, merged
    # directories of JavaScript front-ends (package.json, no Python below): their .env
    # files are build-time configuration compiled into public bundles, not the service's
    frontends: list[str] = field(default_factory=list)
    # files the model needed that could not be read or parsed: (display path, why)
    unreadable: list[tuple[str, str]] = field(default_factory=list)

    def settings_problems(self) -> list[tuple[str, str]]:
        """What could not be read of the settings production loads: (path, why)."""
        if self.django is None or not self.django.confident:
            return []
        return [
            (f"{path}:{line}" if line else path, why) for path, line, why in self.django.problems
        ]

    def in_frontend(self, rel: str) -> bool:
        return any(rel.startswith(f"{d}/") for d in self.frontends)

    def service_for(self, path: str | None) -> str | None:
        """The service a file belongs to: the innermost service root holding it; a start
        file or nginx config serving one service; the only service; else None."""
        if not self.services:
            return None
        if path is None:  # a URL, a setting no file holds
            return self.services[0].name if len(self.services) == 1 else None
        inner = apps.innermost(self.services, path)
        if inner is not None:
            return inner.name
        serving = {s.name for s in self.services for c in s.starts if c.source == path}
        serving |= {
            s.name for s in self.services for r in s.routes if path in self._config_files(r.config)
        }
        if len(serving) == 1:
            return serving.pop()
        return self.services[0].name if len(self.services) == 1 else None

    def _config_files(self, main: str) -> list[str]:
        return next((c.files for c in self.nginx.configs if c.main == main), [])

    def nginx_files(self) -> set[str]:
        """Every file the live nginx configuration is made of."""
        return {f for cfg in self.nginx.configs for f in cfg.files}


def is_nginx_candidate(rel: str) -> bool:
    return rel.endswith(".conf")


def build(
    root: Path,
    inventory: Inventory,
    max_file_size: int,
    settings: str | None = None,
    configured: dict[str, dict[str, str]] | None = None,
) -> ServiceModel:
    """`settings`: the Django settings module the user's config names; `configured`: the
    config's [services.NAME] tables (root, proxy)."""
    configured = configured or {}
    proxies = {t["proxy"]: name for name, t in configured.items() if t.get("proxy")}
    model = ServiceModel()
    candidates: list[tuple[str, str]] = []
    for entry in inventory.files():
        wanted_nginx = is_nginx_candidate(entry.rel) or entry.rel in proxies
        if entry.size == 0 or not (wanted_nginx or start.may_start(entry.rel)):
            continue
        try:
            text = read_text(inventory, entry, max_file_size)
        except ReadSkipped as exc:
            if not exc.deliberate:
                model.unreadable.append((entry.display, str(exc)))
            continue
        if wanted_nginx:
            candidates.append((entry.rel, text))
        try:
            model.starts.extend(start.commands(entry.rel, entry.display, text))
        except start.StartError as exc:
            model.unreadable.append((entry.display, str(exc)))
    if inventory.image is not None:
        # An image is started by its config (and the scripts that runs): a compose file,
        # Procfile, manifest or Dockerfile copied into it does not start it
        model.starts = [c for c in model.starts if c.kind in start.IMAGE_STARTS]
        model.starts.append(start.image_command(inventory.image))
    model.nginx = nginx.load_tree(
        root,
        candidates,
        mains=set(proxies),
        max_size=max_file_size,
        rooted=inventory.image is not None,
    )
    inis = {e.rel: e for e in inventory.files() if e.rel.endswith(".ini")}

    def read_ini(rel: str) -> str | None:
        try:
            return read_text(inventory, inis[rel], max_file_size)
        except ReadSkipped:
            return None

    model.starts = [uwsgi.expand(c, set(inis), read_ini, model.unreadable) for c in model.starts]
    python = {e.rel: e for e in inventory.files() if e.rel.endswith(".py")}
    model.frontends = sorted(
        d
        for d in {
            os.path.dirname(e.rel) for e in inventory.files() if e.rel.endswith("package.json")
        }
        if d and not any(p.startswith(f"{d}/") for p in python)
    )

    def read(rel: str) -> bytes | None:
        try:
            return read_bytes(inventory, python[rel], max_file_size)
        except ReadSkipped:
            return None

    model.django = production_settings(
        set(python), read, model.starts, StartCommand.development_file, settings
    )
    model.services = apps.discover(
        python,
        {e.rel for e in inventory.files(content_only=False)},
        read,
        inventory.name,
        {name: t["root"].strip("/") or "." for name, t in configured.items() if t.get("root")},
        model.django.file if model.django and model.django.file else None,
    )
    _connect(model, proxies)
    return model


def _connect(model: ServiceModel, proxies: dict[str, str]) -> None:
    """Each start command and proxy route to the service it starts or sends requests to."""
    owned: list[tuple[StartCommand, Service | None]] = []
    for command in model.starts:
        service = routes.service_of(command, model.services)
        owned.append((command, service))
        if service is not None:
            service.starts.append(command)
    by_name = {s.name: s for s in model.services}
    for cfg in model.nginx.configs:
        if apps.NOT_SERVICES.match_file(cfg.main):
            continue
        # the service the config names for this proxy; else a proxy config inside a
        # service's root is that service's own
        named = by_name.get(proxies.get(cfg.main, ""))
        home = apps.innermost(model.services, cfg.main)
        candidates = [(c, s) for c, s in owned if home is None or s is home]
        for route in routes.routes(cfg):
            service = named or routes.route_to(route, candidates) or home
            if service is None and len(model.services) == 1:
                service = model.services[0]
            if service is not None:
                service.routes.append(route)
    for path, name in proxies.items():
        if name in by_name:
            by_name[name].proxy = path
