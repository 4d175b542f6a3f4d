"""A checkpoint's zip structure checked before torch reads a byte of its pickle.

A torch checkpoint is a zip file whose entries are stored, not compressed: its pickle
(``*/data.pkl``) and one entry per tensor storage (``*/data/N``). A zip bomb declares entries
that inflate to many times the file, or a pickle of gigabytes; torch would allocate them
before saying no. Here the central directory alone is read (a few KiB): every entry must lie
inside the file, declare no more than ``MAX_RATIO`` times its compressed size, the pickle be
at most ``MAX_PICKLE_BYTES``, and all of it at most ``MAX_RATIO`` times the file. Then loading
memory-maps the tensors (core.sam2.checkpoint), so memory follows what is used.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from core.validation.bounds import Invalid

MAX_ENTRIES = 100_000
MAX_PICKLE_BYTES = 64 << 20
MAX_RATIO = 4  # stored entries are 1:1; a little deflate is allowed, a bomb is not


def check_checkpoint_zip(path: Path) -> None:
    """Raise Invalid (one line, without the file name) when ``path``'s zip structure is unsafe to load."""
    size = Path(path).stat().st_size
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise Invalid(f"a truncated or damaged zip file ({exc})") from None
    except (OSError, ValueError, NotImplementedError) as exc:
        raise Invalid(f"an unreadable zip file ({exc})") from None
    if len(entries) > MAX_ENTRIES:
        raise Invalid(f"{len(entries)} zip entries, more than a checkpoint has ({MAX_ENTRIES})")
    pickles = [e for e in entries if e.filename.endswith(".pkl")]
    if not pickles:
        raise Invalid("a zip file without a pickle (data.pkl): not a torch checkpoint")
    declared = 0
    for entry in entries:
        if entry.header_offset + entry.compress_size > size:
            raise Invalid(f"truncated: entry {entry.filename} runs past the end of the file")
        if entry.file_size > MAX_RATIO * entry.compress_size + 4096:
            raise Invalid(f"entry {entry.filename} inflates {entry.compress_size} bytes to {entry.file_size}: "
                          f"refused (a compression bomb?)")
        declared += entry.file_size
    for entry in pickles:
        if entry.file_size > MAX_PICKLE_BYTES:
            raise Invalid(f"its pickle {entry.filename} is {entry.file_size} bytes, more than a checkpoint's "
                          f"({MAX_PICKLE_BYTES}): refused")
    if declared > MAX_RATIO * size + (1 << 20):
        raise Invalid(f"its entries declare {declared} bytes in a file of {size}: refused (a compression bomb?)")
