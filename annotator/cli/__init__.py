"""Headless subcommands of ``masklet``: each lives in its own module with ``main(argv) -> int``."""

from __future__ import annotations

import importlib
import sys
from typing import Sequence

# command name -> module under annotator.cli
COMMANDS = {
    "track": "annotator.cli.track",
    "export": "annotator.cli.export",
    "import": "annotator.cli.import_",
    "models": "annotator.cli.models",
    "batch": "annotator.cli.batch",
}


def run_command(name: str, argv: Sequence[str]) -> int:
    """Run one subcommand; errors the user can fix come back as one line and exit code 1 or 2."""
    module = importlib.import_module(COMMANDS[name])
    try:
        return int(module.main(list(argv)))
    except KeyboardInterrupt:
        print(f"masklet {name}: interrupted", file=sys.stderr)
        return 130
