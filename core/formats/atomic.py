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
from core.formats.target import ExportTarget, TargetState, claim_target


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


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dst)


def _merge(tmp: Path, target: ExportTarget) -> None:
    """Move the files in ``tmp`` into the existing folder ``target.path``, replacing only ``target.replaced``.

    The files to replace go aside first (one rename each, beside the folder) and are deleted once
    every new file is in place; a failure moves everything back. A new file that would land on a
    file the target does not list as replaced (the user's) stops the export before anything moves.
    """
    path, replaced = target.path, set(target.replaced)
    new = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    clash = [rel for rel in new if rel not in replaced and os.path.lexists(path / rel)]
    if clash:
        raise FormatError(f"{path / clash[0]} is not Masklet's; the export stops rather than replace it")
    aside = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
    moved_old: list[str] = []
    moved_new: list[str] = []
    try:
        for rel in target.replaced:
            if os.path.lexists(path / rel):
                _move(path / rel, aside / rel)
                moved_old.append(rel)
        for rel in new:
            _move(tmp / rel, path / rel)
            moved_new.append(rel)
    except BaseException:
        for rel in reversed(moved_new):
            _move(path / rel, tmp / rel)
        for rel in reversed(moved_old):
            _move(aside / rel, path / rel)
        shutil.rmtree(aside, ignore_errors=True)
        raise
    for rel in {str(Path(r).parent) for r in target.replaced} | set(target.dirs):
        if rel != "." and (path / rel).is_dir() and not any((path / rel).iterdir()):
            (path / rel).rmdir()  # an object the new export no longer has: no empty folder stays
    _fsync_dir(path)
    shutil.rmtree(aside, ignore_errors=True)


@contextlib.contextmanager
def atomic_directory(path: Path, fmt: str, overwrite: bool = False) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; on success its files take their place in ``path``.

    Where an export may write, and what it may replace, is :func:`core.formats.target.claim_target`'s
    rule, asked before the work and again before the move. A new ``path`` is the temporary folder
    renamed; into an existing folder (empty, or a previous export) only the export's files move
    (see ``_merge``): every other file there stays. On any exception the temporary folder is
    removed and ``path`` is as it was.
    """
    path = Path(path)
    claim_target(path, fmt, overwrite)  # before the work, not after it
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent))
    try:
        yield tmp
        target = claim_target(path, fmt, overwrite)  # the folder may have changed during the work
        if target.state is TargetState.NEW:
            os.replace(tmp, path)
            _fsync_dir(path.parent)
        else:
            _merge(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def write_json_export(path: Path, fmt: str, overwrite: bool, build: Callable[[], object]) -> None:
    """Write the JSON ``build()`` returns (UTF-8, json's default separators) atomically to ``path``.

    The target is claimed (see core.formats.target) before ``build`` runs and again before the write.
    """
    path = Path(path)
    claim_target(path, fmt, overwrite)  # before the work, not after it
    text = json.dumps(build())
    claim_target(path, fmt, overwrite)
    write_file_atomic(path, lambda handle: handle.write(text.encode("utf-8")))


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
