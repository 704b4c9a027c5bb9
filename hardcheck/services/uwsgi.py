"""uWSGI's ini files, read where a start command names one (`uwsgi etc/uwsgi.ini`, `uwsgi
--ini app.ini`), so the command carries the options the file sets: `--ini` and the
positional form both load the `[uwsgi]` section, whose keys are the command-line options.
The file's options go before the command's own (a command-line option given after wins,
as in uWSGI). Paths written as the container sees them (`/code/etc/uwsgi.ini`) are matched
to the tree by their longest suffix that names a file in it. Placeholders such as
`$(PORT)` are kept as written: nothing is expanded.
"""

from __future__ import annotations

import configparser
import dataclasses
import os
from collections.abc import Callable

from .start import StartCommand

INI_OPTIONS = ("--ini", "--ini-paste")


def ini_arguments(command: StartCommand) -> list[str]:
    argv = command.argv
    found = []
    for i, token in enumerate(argv):
        if token.endswith(".ini") and not token.startswith("-"):
            if not i or argv[i - 1] not in INI_OPTIONS:
                found.append(token)
        elif token in INI_OPTIONS and i + 1 < len(argv):
            found.append(argv[i + 1])
        elif token.startswith(tuple(f"{o}=" for o in INI_OPTIONS)):
            found.append(token.split("=", 1)[1])
    return found


def locate(path: str, base: str, files: set[str]) -> str | None:
    """The tree file an ini path names: relative to the command's directory, else the
    longest suffix of an absolute path that is a file of the tree."""
    if not os.path.isabs(path):
        joined = os.path.normpath(os.path.join(base, path))
        if joined in files:
            return joined
    parts = path.strip("/").split("/")
    for start in range(len(parts)):
        candidate = "/".join(parts[start:])
        if candidate in files:
            return candidate
    return None


def options(text: str) -> list[str]:
    parser = configparser.RawConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    if not parser.has_section("uwsgi"):
        return []
    return [f"--{key}={value}" for key, value in parser.items("uwsgi")]


def expand(
    command: StartCommand,
    files: set[str],
    read: Callable[[str], str | None],
    problems: list[tuple[str, str]],
) -> StartCommand:
    """The command with its ini files' options; an ini that cannot be read is a problem
    named by its path, and the command stays as written."""
    # `docker-entrypoint.sh uwsgi app.ini`: a wrapper script that execs its arguments
    if not any(os.path.basename(t) == "uwsgi" for t in command.argv):
        return command
    base = os.path.dirname(command.source)
    added: list[str] = []
    for written in ini_arguments(command):
        rel = locate(written, base, files)
        if rel is None:
            continue  # outside the tree (a distribution's file): nothing to read
        text = read(rel)
        if text is None:
            problems.append((rel, "the uWSGI ini file cannot be read"))
            continue
        try:
            added += options(text)
        except configparser.Error as exc:
            problems.append((rel, f"uWSGI ini does not parse: {str(exc).splitlines()[0][:200]}"))
    if not added:
        return command
    at = command.argv.index(next(t for t in command.argv if os.path.basename(t) == "uwsgi")) + 1
    argv = (*command.argv[:at], *added, *command.argv[at:])
    return dataclasses.replace(command, argv=argv)
