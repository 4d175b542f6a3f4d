"""argparse for the headless commands: a usage error is one line on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn, Sequence


class CommandParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (``masklet export: --format: invalid choice ...``)."""

    def error(self, message: str) -> NoReturn:
        print(f"{self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def parse(parser: argparse.ArgumentParser, argv: Sequence[str]) -> argparse.Namespace | int:
    """Parsed arguments, or the exit code when argparse stopped (``--help`` 0, a usage error 2)."""
    try:
        return parser.parse_args(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value
