"""All-or-nothing outputs: write into a temporary place beside the target, move it in when complete.

A failure (an exception, a cancel, a full disk) removes the temporary place and leaves the
target as it was: no half-written dataset or project ever sits at the path the user chose.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import IO, Callable, Iterator

from core.formats.dataset import FormatError
from core.formats.target import ExportTarget, TargetState, claim_target, claimed_new, protect_input
from core.validation.bounds import Invalid
from core.validation.json_input import parse_json

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale temporaries are then left alone
    fcntl = None  # type: ignore[assignment]

_NAME_ROOM = 200  # bytes of the target's name kept in a temporary's name (file names stop at 255)
_TEMP_SUFFIXES = (".tmp", ".partial", ".old")
_DATASET_DEPTH = 100  # JSON nesting a dataset file may have (COCO polygons are 4 deep)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open directories, and needs no such step."""
    if os.name != "posix":
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def temp_prefix(name: str) -> str:
    """``.NAME.`` for the temporaries of ``NAME``, cut to fit: a 250-byte name still gets one."""
    raw = os.fsencode(name)
    if len(raw) > _NAME_ROOM:
        name = os.fsdecode(raw[:_NAME_ROOM].decode("utf-8", "ignore").encode("utf-8")) + "~"
    return f".{name}."


def _lock(fd: int) -> None:
    """Hold an advisory lock on a temporary while it is in use: a temporary nobody holds is an
    earlier crash's leftover (``clean_stale``)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def clean_stale(folder: Path, name: str) -> list[Path]:
    """Remove the temporaries of ``name`` in ``folder`` that no running writer holds (left by a
    process that was killed); the ones removed. Only Masklet's own temporary names are looked at."""
    if fcntl is None:
        return []
    removed: list[Path] = []
    prefix = temp_prefix(name)
    try:
        candidates = [p for p in folder.iterdir() if p.name.startswith(prefix) and p.name.endswith(_TEMP_SUFFIXES)]
    except OSError:
        return []
    for candidate in candidates:
        try:
            fd = os.open(candidate, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            continue  # a writer is working in it right now
        try:
            if candidate.is_dir() and not candidate.is_symlink():
                shutil.rmtree(candidate, ignore_errors=True)
            else:
                candidate.unlink(missing_ok=True)
            removed.append(candidate)
        finally:
            os.close(fd)
    return removed


def _default_mode() -> int:
    """What a plain ``open(path, "w")`` would give a new file: 0o666 less the umask."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _real_target(path: Path) -> Path:
    """``path`` made absolute; through a symbolic link, the file it points to (the link stays)."""
    path = Path(os.path.abspath(path))
    if os.path.islink(path) and os.path.exists(path):
        return Path(os.path.realpath(path))
    return path


def write_file_atomic(path: Path, write: Callable[[IO[bytes]], None], *, exclusive: bool | None = None) -> None:
    """Call ``write`` on a temporary file in ``path``'s folder, flush, fsync, then move it onto path.

    If ``write`` raises (or the disk fills), the temporary file is deleted and ``path`` keeps
    its previous content. A replaced file keeps its permissions; a new one gets the umask's.
    exclusive: the file must not exist at the moment it is put in place (FileExistsError, and
    nothing written, when another writer got there first); None: as the last
    ``claim_target`` of this path said (exclusive when it found nothing there).
    Afterwards temporaries of ``path`` left by a killed writer are removed.
    """
    path = _real_target(Path(path))
    if exclusive is None:
        exclusive = claimed_new(path)
    fd, tmp_name = tempfile.mkstemp(prefix=temp_prefix(path.name), suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            _lock(handle.fileno())
            write(handle)
            handle.flush()
            try:
                mode = stat.S_IMODE(os.stat(path).st_mode)
            except OSError:
                mode = _default_mode()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
            if exclusive:
                os.link(tmp, path)  # fails if anything is at path by now: create-exclusive
                tmp.unlink()
            else:
                os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)
    clean_stale(path.parent, path.name)


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
    aside = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), suffix=".old", dir=path.parent))
    held = _hold_folder(aside)
    try:
        _merge_via(tmp, target, new, aside)
    finally:
        if held is not None:
            os.close(held)


def _merge_via(tmp: Path, target: ExportTarget, new: list[str], aside: Path) -> None:
    path = target.path
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
    path = Path(os.path.abspath(path))  # "." and "..": a real name, beside which the temporaries go
    claim_target(path, fmt, overwrite)  # before the work, not after it
    path = _real_target(path)  # a link to a previous export: the export replaces it there
    tmp = Path(tempfile.mkdtemp(prefix=temp_prefix(path.name), suffix=".partial", dir=path.parent))
    held = _hold_folder(tmp)
    try:
        yield tmp
        target = claim_target(path, fmt, overwrite)  # the folder may have changed during the work
        if target.state is TargetState.NEW:
            try:
                os.rename(tmp, path)  # onto a folder another writer made meanwhile: refused (not empty)
            except OSError as exc:
                if not os.path.lexists(path):
                    raise
                raise FormatError(f"{path} was created by another program during the export; nothing was written "
                                  f"({exc.strerror or exc})") from None
            _fsync_dir(path.parent)
        else:
            _merge(tmp, target)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        if held is not None:
            os.close(held)
    clean_stale(path.parent, path.name)


def _hold_folder(folder: Path) -> int | None:
    """A locked descriptor of a temporary folder (see ``_lock``); None where locks do not exist."""
    if fcntl is None:
        return None
    fd = os.open(folder, os.O_RDONLY)
    _lock(fd)
    return fd


def write_json_export(path: Path, fmt: str, overwrite: bool, build: Callable[[], object]) -> None:
    """Write the JSON ``build()`` returns (UTF-8, json's default separators) atomically to ``path``.

    The target is claimed (see core.formats.target) before ``build`` runs and again before the write.
    """
    path = Path(path)
    claim_target(path, fmt, overwrite)  # before the work, not after it
    try:
        text = json.dumps(build(), allow_nan=False)  # strict JSON: NaN and Infinity are not JSON
    except ValueError as exc:
        raise FormatError(f"{path}: not written, a value is not a finite number ({exc})") from None
    claim_target(path, fmt, overwrite)
    try:
        write_file_atomic(path, lambda handle: handle.write(text.encode("utf-8")))
    except FileExistsError:
        raise FormatError(f"{path} was created by another program during the export; nothing was written") from None


def read_json(path: Path, what: str) -> object:
    """Parse a JSON file; any failure becomes one FormatError line naming ``what`` it should be."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path} is not a file")
    protect_input(path, f"the {what} file being read")
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        raise FormatError(f"{path} is not a readable {what} JSON file ({exc.__class__.__name__}: {exc})") from None
    try:  # nesting counted before the parser recurses (core.validation.json_input)
        return parse_json(raw, depth=_DATASET_DEPTH, allow_nan=True)
    except Invalid as exc:
        raise FormatError(f"{path} is not a readable {what} JSON file ({exc})") from None
