"""Server command lines found in deployment files: Procfile, Dockerfile (shell and exec
form), docker-compose, systemd units and shell scripts.

Shared by the audits that care how uvicorn and gunicorn are started (logging, uploads).
Only the text is read: nothing is executed, no variable is expanded.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass

SERVERS = ("uvicorn", "gunicorn")
_DEPLOY_NAME = re.compile(
    r"(^Procfile|^Dockerfile|\.dockerfile$|^(docker-)?compose.*\.ya?ml$|\.service$|\.sh$"
    r"|^entrypoint|^start|^run)",
    re.IGNORECASE,
)
_EXEC_FORM = re.compile(r"^\s*(?:CMD|ENTRYPOINT|RUN)\s+(\[.*\])\s*$", re.IGNORECASE)
_PREFIX = re.compile(
    r"^\s*(?:-\s+)?(?:CMD|ENTRYPOINT|RUN|ExecStart=|command:|web:|worker:|[\w-]+:)\s*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ServerCommand:
    server: str  # "uvicorn" or "gunicorn"
    path: str  # display path of the file
    line: int
    args: tuple[str, ...]  # everything after the server's name

    def option(self, *names: str) -> str | None:
        """The last value given for any of `names` (`--opt value` or `--opt=value`)."""
        value = None
        args = self.args
        for i, arg in enumerate(args):
            for name in names:
                if arg == name and i + 1 < len(args):
                    value = args[i + 1]
                elif arg.startswith(name + "="):
                    value = arg.split("=", 1)[1]
        return value

    def flag(self, name: str) -> bool:
        return name in self.args


def is_deployment_file(rel: str) -> bool:
    return bool(_DEPLOY_NAME.search(os.path.basename(rel)))


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Join backslash continuations; yield (first line number, joined text)."""
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        stripped = raw.rstrip()
        if stripped.endswith("\\"):
            buf.append(stripped[:-1])
            continue
        buf.append(stripped)
        yield start, " ".join(buf)
        buf = []
    if buf:
        yield start, " ".join(buf)


def _tokens(line: str) -> list[str]:
    exec_form = _EXEC_FORM.match(line)
    if exec_form:
        try:
            value = json.loads(exec_form.group(1))
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return [t for v in value for t in (shlex.split(v) if " " in v else [v])]
    body = _PREFIX.sub("", line, count=1)
    body = body.strip().strip("\"'") if body.strip()[:1] in "\"'" else body
    try:
        return shlex.split(body, comments=True)
    except ValueError:
        return body.split()


def commands_in(path: str, text: str) -> Iterator[ServerCommand]:
    for number, line in _logical_lines(text):
        if not any(s in line for s in SERVERS):
            continue
        if line.lstrip().startswith("#"):
            continue
        tokens = _tokens(line)
        for i, token in enumerate(tokens):
            name = os.path.basename(token)
            if name in SERVERS:
                rest = tokens[i + 1 :]
                # stop at the next shell command in `a && b` or `a; b`
                for j, t in enumerate(rest):
                    if t in ("&&", "||", ";", "|"):
                        rest = rest[:j]
                        break
                yield ServerCommand(name, path, number, tuple(rest))
                break
