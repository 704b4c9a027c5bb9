"""The `hardcheck` console script. `hardcheck --version` answers without loading the
command line (click, rich, the pipeline), so it costs about what starting Python does;
everything else goes to `hardcheck.cli`."""

from __future__ import annotations

import sys


def main() -> None:
    if sys.argv[1:] == ["--version"]:
        from . import __version__

        sys.stdout.write(f"hardcheck {__version__}\n")
        return
    from .cli import main as cli_main

    cli_main()
