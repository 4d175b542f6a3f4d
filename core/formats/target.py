"""The one rule for where an export may write (Qt-free; the window and ``masklet export`` both ask it).

An export never deletes or replaces what it did not write without consent naming it:

========================  =============================================  =========================
what is at the path       what an export does                            state
========================  =============================================  =========================
nothing                   writes it                                      NEW
an empty folder           writes into it (folder formats)                EMPTY
a previous export of the  replaces it with consent (the window asks,     PREVIOUS
same format               the CLI needs ``--force``); in a folder it
                          rewrites only Masklet's files, keeps the rest
a folder of only this     replaces them with consent (as above)          LAYOUT
layout's files, unmarked
another file              replaces it with consent (file formats)        OTHER_FILE
anything else             refuses, whatever the consent                  REFUSED
========================  =============================================  =========================

"Anything else" is a folder holding files that are not this export's (``notes.txt``, the video's
frames, another format's export), a folder where a file goes or the reverse, or a missing parent
folder. How a previous export and a layout's files are recognised: :mod:`core.formats.layout`.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

from core.formats.dataset import FormatError
from core.formats.layout import FOLDER_FORMATS, TITLES, json_is_export, scan_folder
from core.validation.inputs import protect_input, protected_as, protected_inputs  # noqa: F401 - re-exported


class TargetState(Enum):
    NEW = "new"
    EMPTY = "empty"
    PREVIOUS = "previous"
    LAYOUT = "layout"
    OTHER_FILE = "other file"
    REFUSED = "refused"


@dataclass(frozen=True)
class ExportTarget:
    """Where one export would write, and what that would do there.

    message: one line for the user saying what is there (and, when refused, what to do instead).
    replaced: the files (relative to a folder target, POSIX style) a folder export removes or
    rewrites; kept: the other files it leaves in place; dirs: the layout's sub-folders, removed
    once empty so that no empty object folder is left behind.
    """

    path: Path
    fmt: str
    state: TargetState
    message: str
    replaced: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    dirs: tuple[str, ...] = ()

    @property
    def needs_consent(self) -> bool:
        """Writing here replaces something: the user must say so (a confirmation, ``--force``)."""
        return self.state in (TargetState.PREVIOUS, TargetState.LAYOUT, TargetState.OTHER_FILE)

    @property
    def refused(self) -> bool:
        return self.state is TargetState.REFUSED


class TargetExists(FormatError):
    """The export would replace ``target`` and no consent was given; nothing was written."""

    def __init__(self, target: ExportTarget) -> None:
        super().__init__(f"{target.message}; overwrite it explicitly")
        self.target = target


def names(items: tuple[str, ...] | list[str], most: int = 3) -> str:
    """``a, b, c and 4 more``: a short list of file names for a one-line message."""
    shown = ", ".join(items[:most])
    return f"{shown} and {len(items) - most} more" if len(items) > most else shown


def _a(title: str) -> str:
    return f"an {title}" if title.startswith("SA-") else f"a {title}"  # "an SA-V", said "ess-ay"


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _file_target(path: Path, fmt: str) -> ExportTarget:
    title = TITLES[fmt]
    if not path.exists():
        return ExportTarget(path, fmt, TargetState.NEW, f"{path} will be written")
    if path.is_dir():
        return ExportTarget(path, fmt, TargetState.REFUSED,
                            f"{path} is a folder; {_a(title)} export is one file: choose a file name")
    if json_is_export(path, fmt):
        return ExportTarget(path, fmt, TargetState.PREVIOUS, f"{path} already exists: a previous {title} export")
    return ExportTarget(path, fmt, TargetState.OTHER_FILE, f"{path} already exists and is not {_a(title)} export")


def _folder_target(path: Path, fmt: str) -> ExportTarget:
    title = TITLES[fmt]
    if not path.exists():
        return ExportTarget(path, fmt, TargetState.NEW, f"{path} will be created")
    if not path.is_dir():
        return ExportTarget(path, fmt, TargetState.REFUSED,
                            f"{path} is a file; {_a(title)} export is a folder: choose a new or empty folder")
    scan = scan_folder(path, fmt)
    files = scan.ours + scan.layout
    if not files and not scan.other:
        return ExportTarget(path, fmt, TargetState.EMPTY, f"{path} is an empty folder", dirs=scan.dirs)
    if not scan.other:
        # only this layout's files: Masklet's own, or (a --force / a confirmation away) another tool's
        state = TargetState.LAYOUT if scan.layout else TargetState.PREVIOUS
        what = (f"a previous {title} export ({_files(len(files))})" if state is TargetState.PREVIOUS
                else f"{_files(len(files))} of {_a(title)} export that Masklet did not mark as its own")
        return ExportTarget(path, fmt, state, f"{path} already exists: {what}", files, (), scan.dirs)
    if scan.ours and not scan.layout:
        # Masklet's export with the user's files beside it: those stay where they are
        return ExportTarget(path, fmt, TargetState.PREVIOUS,
                            f"{path} already exists: a previous {title} export ({_files(len(scan.ours))}; "
                            f"{names(scan.other)} stay{'s' if len(scan.other) == 1 else ''})",
                            scan.ours, scan.other, scan.dirs)
    return ExportTarget(path, fmt, TargetState.REFUSED,
                        f"{path} holds files that are not {_a(title)} export ({names(scan.other)}); Masklet exports "
                        f"a folder only into a new or empty folder or over its own previous export: "
                        f"choose another folder", (), scan.other + files, scan.dirs)


# The state the last claim of each real path found: a write to a path claimed as NEW is
# create-exclusive (core.formats.atomic), so of two writers racing for it one fails cleanly.
_claimed: dict[str, TargetState] = {}
_lock = threading.Lock()


def claimed_new(path: Path) -> bool:
    """True when the last claim of ``path`` found nothing there (see ``claim_target``)."""
    with _lock:
        return _claimed.get(os.path.realpath(path)) is TargetState.NEW


def _inputs_hit(path: Path, target: ExportTarget) -> str | None:
    """One line when writing ``target`` would replace something this process reads."""
    real = os.path.realpath(path)
    inputs = protected_inputs()
    if real in inputs:
        return f"{path} is {inputs[real]}; an export never writes over what it reads: choose another path"
    for rel in target.replaced:
        what = inputs.get(os.path.realpath(Path(real) / rel))
        if what is not None:
            return f"{path / rel} is {what}; an export never writes over what it reads: choose another folder"
    return None


def inspect_target(path: Path, fmt: str) -> ExportTarget:
    """What exporting ``fmt`` to ``path`` would do (reads the folder; writes nothing).

    A path that is a symbolic link is judged by what it points to: a link to Masklet's own
    previous export is that export; a link to anything else that exists is refused (the file
    or folder behind it is the user's: give its own path to replace it); a broken link too.
    """
    if fmt not in TITLES:
        raise FormatError(f"unknown format {fmt!r} (one of {', '.join(TITLES)})")
    path = Path(os.path.abspath(path))  # "." names the folder it is, with a parent beside it
    if not path.parent.is_dir():
        return ExportTarget(path, fmt, TargetState.REFUSED, f"the folder {path.parent} does not exist")
    judge = _folder_target if fmt in FOLDER_FORMATS else _file_target
    reading = protected_as(path)
    if reading is not None:
        return ExportTarget(path, fmt, TargetState.REFUSED,
                            f"{path} is {reading}; an export never writes over what it reads: choose another path")
    real = Path(os.path.realpath(path))
    if os.path.islink(path):
        if not real.exists():
            return ExportTarget(path, fmt, TargetState.REFUSED,
                                f"{path} is a broken symbolic link (to {real}): choose another path")
        behind = judge(real, fmt)
        if behind.state in (TargetState.OTHER_FILE, TargetState.LAYOUT):
            return ExportTarget(path, fmt, TargetState.REFUSED,
                                f"{path} is a symbolic link to {real}, which Masklet did not write; "
                                f"to replace it, give that path itself")
        target = behind
    else:
        target = judge(path, fmt)
    hit = _inputs_hit(path, target)
    if hit is not None:
        return ExportTarget(path, fmt, TargetState.REFUSED, hit)
    return target


def claim_target(path: Path, fmt: str, overwrite: bool) -> ExportTarget:
    """The target, if an export may write there; ``overwrite`` is the user's consent to replace.

    Raises FormatError (one line) when refused, TargetExists when consent is needed and not given.
    """
    target = inspect_target(path, fmt)
    with _lock:
        _claimed[os.path.realpath(target.path)] = target.state
    if target.refused:
        raise FormatError(target.message)
    if target.needs_consent and not overwrite:
        raise TargetExists(target)
    return target
