"""How the service is started, from every place services are started: Procfile, Dockerfile
(final stage's ENV, CMD and ENTRYPOINT, read with dockerfile-parse), compose files
(`command`, `entrypoint`, `environment`), Kubernetes manifests (each container's
`command`, `args` and `env`), systemd units (`ExecStart`, `Environment`) and shell entry
scripts. Only text is read: nothing is executed and no variable is expanded beyond what
the file itself defines.
"""

from __future__ import annotations

import io
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from ..readers import yamlsafe

POD_KINDS = {"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"}
ENV_LINE = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(\S*)")
SHELL_SPLIT = ("&&", "||", ";", "|")
# start files that are for development by their name (compose.override.yml, Procfile.dev…)
DEV_FILE = re.compile(r"(override|[._-]dev|[._-]local|[._-]test|development)", re.IGNORECASE)


class StartError(Exception):
    """A file that says how the service starts but cannot be read as such."""


@dataclass(frozen=True)
class StartCommand:
    source: str  # display path of the file
    line: int | None
    kind: str  # procfile | dockerfile | compose | kubernetes | systemd | script
    name: str  # process type, compose service, container, unit…
    argv: tuple[str, ...]  # the command as written (may be empty: environment only)
    env: tuple[tuple[str, str], ...] = ()  # what it runs with, as written
    # compose only: the ports it publishes on the host, as written ("8000:8000",
    # "127.0.0.1:8000:8000"), its image and the directory it is built from (tree-relative)
    ports: tuple[str, ...] = ()
    image: str = ""
    context: str | None = None

    def environment(self) -> dict[str, str]:
        return dict(self.env)

    def development_file(self) -> bool:
        return bool(DEV_FILE.search(os.path.basename(self.source)))

    def program(self) -> str:
        """The program that serves: `python manage.py runserver` -> manage.py."""
        for token in self.argv:
            base = os.path.basename(token)
            if base in ("python", "python3", "exec", "env", "-m") or "=" in token:
                continue
            if base.startswith("python3.") or token.startswith("-"):
                continue
            return base
        return ""


def option_values(argv: tuple[str, ...], names: tuple[str, ...]) -> list[str]:
    """Every value given to any of `names` (`--opt value` or `--opt=value`), in order."""
    values = []
    for i, token in enumerate(argv):
        name, eq, value = token.partition("=")
        if name in names:
            if eq:
                values.append(value)
            elif i + 1 < len(argv):
                values.append(argv[i + 1])
    return values


def may_start(rel: str) -> bool:
    """Could this file say how the service starts? (By name: cheap, before reading it.)"""
    lower = os.path.basename(rel).lower()
    return lower.startswith(
        ("procfile", "dockerfile", "entrypoint", "docker-entrypoint", "start")
    ) or lower.endswith((".dockerfile", ".service", ".sh", ".yaml", ".yml"))


def kind_of(rel: str, text: str) -> str | None:
    """Which start-command format a file is, from its name (and, for YAML, its content)."""
    base = os.path.basename(rel)
    lower = base.lower()
    if base == "Procfile" or base.startswith("Procfile."):
        return "procfile"
    if base == "Dockerfile" or base.startswith("Dockerfile.") or lower.endswith(".dockerfile"):
        return "dockerfile"
    if re.match(r"^(docker-)?compose([.-].*)?\.ya?ml$", lower):
        return "compose"
    if lower.endswith((".yaml", ".yml")) and re.search(r"^kind:\s*\w+", text, re.M):
        return "kubernetes"
    if lower.endswith(".service"):
        return "systemd"
    if lower.endswith(".sh") or lower.startswith(("entrypoint", "docker-entrypoint", "start")):
        return "script"
    return None


def commands(rel: str, display: str, text: str) -> list[StartCommand]:
    kind = kind_of(rel, text)
    if kind is None:
        return []
    reader = {
        "procfile": _procfile,
        "dockerfile": _dockerfile,
        "compose": _compose,
        "kubernetes": _kubernetes,
        "systemd": _systemd,
        "script": _script,
    }[kind]
    return list(reader(display, text))


def _split(command: Any) -> tuple[str, ...]:
    if isinstance(command, list):
        return tuple(str(c) for c in command)
    if not isinstance(command, str):
        return ()
    try:
        return tuple(shlex.split(command, comments=True))
    except ValueError:
        return tuple(command.split())


def _first_command(argv: tuple[str, ...]) -> tuple[str, ...]:
    """`cd /app && exec gunicorn …` -> the part that starts the server (the last part)."""
    parts: list[list[str]] = [[]]
    for token in argv:
        if token in SHELL_SPLIT:
            parts.append([])
        else:
            parts[-1].append(token)
    serving = [p for p in parts if p and p[0] not in ("cd", "export", "set", "echo")]
    return tuple(serving[-1]) if serving else argv


def _leading_env(argv: tuple[str, ...]) -> tuple[tuple[tuple[str, str], ...], tuple[str, ...]]:
    """`FLASK_DEBUG=1 flask run` -> ((("FLASK_DEBUG", "1"),), ("flask", "run"))."""
    env = []
    while argv and ENV_LINE.match(argv[0]):
        key, _, value = argv[0].partition("=")
        env.append((key, value))
        argv = argv[1:]
    return tuple(env), argv


def _procfile(path: str, text: str) -> Iterator[StartCommand]:
    for number, line in enumerate(text.splitlines(), 1):
        name, sep, command = line.partition(":")
        if sep and re.fullmatch(r"[A-Za-z0-9_-]+", name.strip()):
            env, argv = _leading_env(_first_command(_split(command.strip())))
            yield StartCommand(path, number, "procfile", name.strip(), argv, env)


def _dockerfile(path: str, text: str) -> Iterator[StartCommand]:
    from dockerfile_parse import DockerfileParser

    try:
        parser = DockerfileParser(fileobj=io.BytesIO(text.encode("utf-8")))
        structure = parser.structure
        env = parser.envs  # of the final stage, with the file's own ARG/ENV substituted
    except Exception as exc:  # dockerfile-parse raises plain exceptions on odd input
        raise StartError(f"Dockerfile does not parse: {type(exc).__name__}: {exc}") from None
    final = max((i for i, s in enumerate(structure) if s["instruction"] == "FROM"), default=0)
    stage = structure[final:]
    found = {s["instruction"]: s for s in stage if s["instruction"] in ("CMD", "ENTRYPOINT")}
    argv: tuple[str, ...] = ()
    line: int | None = None
    for instruction in ("ENTRYPOINT", "CMD"):  # the entrypoint runs with CMD as its arguments
        item = found.get(instruction)
        if item is None:
            continue
        line = line or item["startline"] + 1
        value = item["value"].strip()
        argv += _split(_json_list(value) if value.startswith("[") else value)
    env_line = next((s["startline"] + 1 for s in stage if s["instruction"] == "ENV"), None)
    yield StartCommand(
        path, line or env_line, "dockerfile", "image", _first_command(argv), tuple(env.items())
    )


IMAGE_CONFIG = "image config"
IMAGE_STARTS = frozenset({"image", "script"})  # what starts a container from an image


def image_command(facts: Any) -> StartCommand:
    """An image's config starts it as its Dockerfile's final stage would: ENTRYPOINT with
    CMD as its arguments, in its Env (`facts`: hardcheck.artifacts.image.ImageFacts)."""
    argv = _first_command(tuple(facts.entrypoint) + tuple(facts.cmd))
    if len(argv) >= 2 and argv[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and argv[1] == "-c":
        argv = _first_command(_split(" ".join(argv[2:])))  # `CMD cmd args`: a shell runs it
    env, argv = _leading_env(argv)
    return StartCommand(IMAGE_CONFIG, None, "image", facts.reference, argv, (*facts.env, *env))


def _json_list(value: str) -> Any:
    import json

    try:
        return json.loads(value)
    except ValueError:
        return value


def _yaml_documents(text: str) -> list[Any]:
    try:
        return [d for d in yamlsafe.load_all(text) if isinstance(d, dict)]
    except yaml.YAMLError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StartError(f"YAML does not parse: {first[:200]}") from None


def _env_pairs(value: Any) -> tuple[tuple[str, str], ...]:
    if isinstance(value, dict):
        return tuple((str(k), "" if v is None else str(v)) for k, v in value.items())
    if isinstance(value, list):
        pairs = []
        for item in value:
            if isinstance(item, str):
                key, _, val = item.partition("=")
                pairs.append((key, val))
            elif isinstance(item, dict) and "name" in item:  # Kubernetes env entries
                pairs.append((str(item["name"]), str(item.get("value", ""))))
        return tuple(pairs)
    return ()


def _line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 else None


def _compose(path: str, text: str) -> Iterator[StartCommand]:
    for doc in _yaml_documents(text):
        services = doc.get("services")
        if not isinstance(services, dict):
            continue
        for name, spec in services.items():
            if not isinstance(spec, dict):
                continue
            argv = _split(spec.get("entrypoint")) + _split(spec.get("command"))
            yield StartCommand(
                path,
                _line_of(text, f"{name}:"),
                "compose",
                str(name),
                _first_command(argv),
                _env_pairs(spec.get("environment")),
                ports=_ports(spec.get("ports")),
                image=str(spec.get("image") or ""),
                context=_context(path, spec.get("build")),
            )


def _ports(value: Any) -> tuple[str, ...]:
    """compose `ports`, short ("8000:8000") or long ({published, target, host_ip}) form."""
    out = []
    for item in value if isinstance(value, list) else []:
        if isinstance(item, dict):
            host = item.get("host_ip")
            published = item.get("published", "")
            target = item.get("target", "")
            out.append(":".join(str(p) for p in (host, published, target) if p not in (None, "")))
        elif isinstance(item, (str, int)):
            out.append(str(item))
    return tuple(out)


def _context(path: str, build: Any) -> str | None:
    context = build.get("context", ".") if isinstance(build, dict) else build
    if not isinstance(context, str) or "://" in context:
        return None
    dockerfile = build.get("dockerfile") if isinstance(build, dict) else None
    if isinstance(dockerfile, str) and not os.path.isabs(dockerfile):
        # what is built is the Dockerfile's directory's: `context: .` with
        # `dockerfile: frontend/Dockerfile` is the front-end's image
        context = os.path.join(context, os.path.dirname(dockerfile))
    joined = os.path.normpath(os.path.join(os.path.dirname(path), context))
    return None if joined.startswith("..") else joined


def _pod_spec(doc: dict) -> dict | None:
    spec = doc.get("spec")
    for _ in range(3):  # Pod: spec; Deployment: spec.template.spec; CronJob: spec.jobTemplate…
        if not isinstance(spec, dict):
            return None
        if "containers" in spec:
            return spec
        spec = (spec.get("template") or spec.get("jobTemplate") or {}).get("spec")
    return None


def _kubernetes(path: str, text: str) -> Iterator[StartCommand]:
    for doc in _yaml_documents(text):
        if doc.get("kind") not in POD_KINDS:
            continue
        spec = _pod_spec(doc)
        for container in (spec or {}).get("containers") or []:
            if not isinstance(container, dict):
                continue
            argv = _split(container.get("command")) + _split(container.get("args"))
            name = str(container.get("name", "container"))
            yield StartCommand(
                path,
                _line_of(text, f"- name: {name}") or _line_of(text, f"name: {name}"),
                "kubernetes",
                name,
                _first_command(argv),
                _env_pairs(container.get("env")),
            )


def _systemd(path: str, text: str) -> Iterator[StartCommand]:
    env: list[tuple[str, str]] = []
    start: tuple[int, tuple[str, ...]] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line.startswith("Environment="):
            for item in _split(line.split("=", 1)[1]):
                key, _, value = item.partition("=")
                env.append((key, value))
        elif line.startswith("ExecStart="):
            start = (number, _split(line.split("=", 1)[1].lstrip("-@:+!")))
    if start is not None or env:
        line_no = start[0] if start else None
        argv = start[1] if start else ()
        name = os.path.basename(path).rsplit(".", 1)[0]
        yield StartCommand(path, line_no, "systemd", name, _first_command(argv), tuple(env))


def _script(path: str, text: str) -> Iterator[StartCommand]:
    env: list[tuple[str, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tokens = _split(line)
        words = tokens[1:] if tokens[:1] == ("export",) else tokens
        if words and all(ENV_LINE.match(t) for t in words):  # VAR=value, export VAR=value
            env += [(t.partition("=")[0], t.partition("=")[2]) for t in words]
            continue
        inline, argv = _leading_env(_first_command(tokens))
        if argv and argv[0] == "exec":
            argv = argv[1:]
        command = StartCommand(
            path, number, "script", os.path.basename(path), argv, (*env, *inline)
        )
        if argv and SERVING.match(command.program()):
            yield command


SERVING = re.compile(
    r"^(gunicorn|uvicorn|hypercorn|daphne|granian|waitress-serve|flask|fastapi|manage\.py"
    r"|django-admin|uwsgi|celery)$"
)
