"""Autosave beside the project (``name.masklet.autosave``) and recovery from it. Qt-free.

The window's timer calls :meth:`AutosaveSchedule.tick` every few seconds; it writes the
autosave (atomically, like a save) when the document changed and the interval has passed.
Saving the project removes the autosave. When a project is opened and an autosave newer
than it exists, :func:`recovery_available` says so and :func:`recover` loads it.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Callable

from annotator.document import AnnotationDocument
from annotator.project import LoadedProject, ProjectError, encode_project, load_project, write_to

AUTOSAVE_SUFFIX = ".autosave"
DEFAULT_INTERVAL_S = 60.0


def autosave_path(project_path: str | Path) -> Path:
    """``/a/b.masklet`` -> ``/a/b.masklet.autosave``; a name too long for that (file names stop
    at 255 bytes) keeps its first 200 bytes and a hash of the whole: ``NAME~HASH.autosave``."""
    project_path = Path(project_path)
    name = project_path.name + AUTOSAVE_SUFFIX
    raw = os.fsencode(project_path.name)
    if len(raw) + len(AUTOSAVE_SUFFIX) > 255:
        short = os.fsdecode(raw[:200].decode("utf-8", "ignore").encode("utf-8"))
        name = f"{short}~{hashlib.sha256(raw).hexdigest()[:12]}{AUTOSAVE_SUFFIX}"
    return project_path.with_name(name)


def autosave(doc: AnnotationDocument, project_path: str | Path) -> Path:
    """Write ``doc`` to the project's autosave file (atomically); the project itself is untouched."""
    target = autosave_path(project_path)
    write_to(target, encode_project(doc, Path(project_path).parent))
    return target


def recovery_available(project_path: str | Path) -> bool:
    """True when an autosave exists and is newer than the project (or the project was never saved)."""
    project_path = Path(project_path)
    saved = autosave_path(project_path)
    if not saved.is_file():
        return False
    if not project_path.is_file():
        return True
    return saved.stat().st_mtime_ns > project_path.stat().st_mtime_ns


def recover(project_path: str | Path) -> LoadedProject:
    """Load the autosave in place of the project (the caller then saves it as the project).

    Raises ProjectError if the autosave is unreadable; nothing is deleted either way.
    """
    return load_project(autosave_path(project_path))


def discard_autosave(project_path: str | Path) -> None:
    """Delete the autosave (after a save, or when the user declines recovery)."""
    autosave_path(project_path).unlink(missing_ok=True)


class AutosaveSchedule:
    """When to autosave: at most every ``interval_s`` seconds, and only after a change.

    clock: seconds, monotonic (injectable for tests).
    """

    def __init__(self, interval_s: float = DEFAULT_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s <= 0:
            raise ValueError(f"the autosave interval must be positive, got {interval_s}")
        self.interval_s = float(interval_s)
        self._clock = clock
        self._last = clock()
        self.last_error: str | None = None

    def due(self) -> bool:
        return self._clock() - self._last >= self.interval_s

    def reset(self) -> None:
        """Restart the interval (after a manual save)."""
        self._last = self._clock()

    def tick(self, doc: AnnotationDocument, project_path: str | Path | None, dirty: bool) -> Path | None:
        """Autosave if due and ``dirty``; returns the autosave path when one was written.

        A failed autosave (full disk) is kept in ``last_error`` for the window to show, and
        retried at the next interval; it never raises into the timer.
        """
        if project_path is None or not dirty or not self.due():
            return None
        self.reset()
        try:
            written = autosave(doc, project_path)
        except ProjectError as exc:
            self.last_error = str(exc)
            return None
        self.last_error = None
        return written
