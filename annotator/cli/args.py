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


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be {minimum} or more, got {value}")
    return value


def positive_int(text: str) -> int:
    return _whole_number(text, 1)


def count(text: str) -> int:
    """A whole number, 0 or more (a count of retries, say)."""
    return _whole_number(text, 0)


def dataset_command(prog: str, description: str, source: tuple[str, str], out: tuple[str, str]) -> CommandParser:
    """A parser for a command from one file to another through a dataset format.

    source, out: (metavar, help) of the positional input and of ``--out``; ``--format`` lists
    every format and ``--force`` allows replacing the output.
    """
    from core.formats import FORMATS

    parser = CommandParser(prog=prog, description=description)
    parser.add_argument("source", metavar=source[0], help=source[1])
    parser.add_argument("--format", required=True, choices=sorted(FORMATS),
                        help="; ".join(f"{f.name}: {f.label}" for f in FORMATS.values()))
    parser.add_argument("--out", required=True, metavar=out[0], help=out[1])
    parser.add_argument("--force", action="store_true", help=f"replace {out[0]} if it exists")
    return parser
