"""The files this process reads (the project file, the video, a dataset being imported), by
real path: an export or a save never writes over any of them, --force or not.

Registered by whoever opens them (core.frames, annotator.project, core.formats.atomic.read_json);
asked by core.formats.target and annotator.project's save. Standard library only, so that the
frame sources can register without importing the dataset formats.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

_inputs: dict[str, str] = {}
_lock = threading.Lock()


def protect_input(path: Path | str, what: str) -> None:
    """Never let an export or a save write over ``path`` (``what``: "the video", ...) in this process."""
    with _lock:
        _inputs[os.path.realpath(path)] = what


def protected_as(path: Path | str) -> str | None:
    """What ``path`` (through links) is being read as, or None."""
    with _lock:
        return _inputs.get(os.path.realpath(path))


def protected_inputs() -> dict[str, str]:
    """Every protected real path and what it is (a copy)."""
    with _lock:
        return dict(_inputs)
