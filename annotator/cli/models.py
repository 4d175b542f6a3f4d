"""``masklet models list | download [NAME] [--url URL] | path NAME``: the official checkpoints from a terminal.

Downloads go to the user cache folder with progress on stderr; MASKLET_MODEL_BASE_URL or
``--url`` point at a mirror. Errors are one line on stderr and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Sequence, TextIO

from core.checkpoints.catalogue import CATALOGUE, DEFAULT_NAME, UnknownModelError, find
from core.checkpoints.download import DownloadCancelled, DownloadError, download_entry
from core.checkpoints.paths import checkpoint_path, checkpoints_dir, partial_bytes
from core.checkpoints.progress import DownloadProgress, format_bytes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="masklet models", description="List, download or locate the official SAM 2 checkpoints.")
    sub = parser.add_subparsers(dest="action", required=True)
    sub.add_parser("list", help="the catalogue, with what is downloaded and where")
    get = sub.add_parser("download", help="download one checkpoint into the cache (resumes an interrupted one)")
    get.add_argument("name", nargs="?", default=DEFAULT_NAME, help=f"catalogue name (default {DEFAULT_NAME})")
    get.add_argument("--url", help="download from this address instead of the official host")
    where = sub.add_parser("path", help="print where a downloaded checkpoint is")
    where.add_argument("name", help="catalogue name, e.g. sam2.1_hiera_tiny")
    return parser


def list_models(out: TextIO) -> int:
    rows = [("name", "version", "size", "file size", "downloaded", "path")]
    for entry in CATALOGUE:
        target, partial = checkpoint_path(entry), partial_bytes(entry)
        state = "yes" if target.is_file() else "no" if partial is None else f"partial ({format_bytes(partial)})"
        default = " (default)" if entry.name == DEFAULT_NAME else ""
        rows.append((entry.name + default, entry.version.value, entry.size.label, format_bytes(entry.size_bytes), state, str(target)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() + "\n")
    out.write(f"\ncache folder: {checkpoints_dir()}\n")
    return 0


class TerminalProgress:
    """One self-rewriting line on a terminal; a line every few seconds otherwise (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.last = 0.0

    def __call__(self, progress: DownloadProgress) -> None:
        now = time.monotonic()
        finished = progress.total is not None and progress.done >= progress.total
        if self.tty:
            percent = f"{100 * progress.fraction:5.1f}% " if progress.fraction is not None else ""
            self.stream.write(f"\r{percent}{progress.message}\033[K")
            if finished:
                self.stream.write("\n")
        elif finished or now - self.last >= 5.0:
            self.last = now
            self.stream.write(progress.message + "\n")
        self.stream.flush()


def download(name: str, url: str | None, err: TextIO, out: TextIO) -> int:
    entry = find(name)
    from core.checkpoints.verify import verifier_for  # loads torch: only when a file has to be checked

    target = checkpoint_path(entry)
    if target.is_file():
        out.write(f"{target}\n")
        err.write(f"{entry.name} is already downloaded\n")
        return 0
    err.write(f"downloading {entry.title} ({format_bytes(entry.size_bytes)}) to {target}\n")
    path = download_entry(entry, verifier_for(entry), url=url, on_progress=TerminalProgress(err))
    out.write(f"{path}\n")
    return 0


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    try:
        if args.action == "list":
            return list_models(sys.stdout)
        if args.action == "download":
            return download(args.name, args.url, sys.stderr, sys.stdout)
        entry = find(args.name)
        target = checkpoint_path(entry)
        if not target.is_file():
            print(f"masklet models: {entry.name} is not downloaded; run: masklet models download {entry.name}", file=sys.stderr)
            return 1
        print(target)
        return 0
    except (UnknownModelError, DownloadError) as exc:
        print(f"masklet models: {exc}", file=sys.stderr)
        return 1
    except (DownloadCancelled, KeyboardInterrupt):
        print("\nmasklet models: download stopped; run the same command again to resume it", file=sys.stderr)
        return 130
