"""All-or-nothing outputs: write into a temporary place beside the target, move it in when complete.

A failure (an exception, a cancel, a full disk) removes the temporary place and leaves the
target as it was: no half-written dataset or project ever sits at the path the user chose.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

from core.formats.dataset import FormatError


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open directories, and needs no such step."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: Path, write: Callable[[IO[bytes]], None]) -> None:
    """Call ``write`` on a temporary file in ``path``'s folder, flush, fsync, then os.replace it onto path.

    If ``write`` raises (or the disk fills), the temporary file is deleted and ``path`` keeps
    its previous content.
    """
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def check_target(path: Path, overwrite: bool) -> None:
    """Refuse an existing target unless overwriting was asked for; the parent folder must exist."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FormatError(f"the folder {path.parent} does not exist")
    if path.exists() and not overwrite:
        raise FormatError(f"{path} already exists (overwrite it explicitly)")


@contextlib.contextmanager
def atomic_directory(path: Path, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success it becomes ``path``.

    An existing ``path`` (with overwrite) is moved aside first and deleted only once the new
    folder is in place. On any exception the temporary folder is removed and ``path`` is untouched.
    """
    path = Path(path)
    check_target(path, overwrite)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old: Path | None = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
        os.replace(path, old / "previous")
    os.replace(tmp, path)
    _fsync_dir(path.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_json_atomic(path: Path, data: object, overwrite: bool = False) -> None:
    """Write ``data`` as UTF-8 JSON (json's default separators) atomically."""
    check_target(path, overwrite)
    text = json.dumps(data)
    write_file_atomic(Path(path), lambda handle: handle.write(text.encode("utf-8")))


def read_json(path: Path, what: str) -> object:
    """Parse a JSON file; any failure becomes one FormatError line naming ``what`` it should be."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path} is not a file")
    try:
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise FormatError(f"{path} is not a readable {what} JSON file ({exc.__class__.__name__}: {exc})") from None
