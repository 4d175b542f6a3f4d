"""Where Masklet keeps downloaded checkpoints.

``$MASKLET_HOME/cache/checkpoints`` when MASKLET_HOME is set (a portable install, the tests),
otherwise platformdirs' per-user cache folder (``~/.cache/masklet/checkpoints`` on Linux,
which follows XDG_CACHE_HOME).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from core.checkpoints.catalogue import CheckpointEntry

APP_NAME = "masklet"


def cache_root() -> Path:
    """Masklet's cache folder (not created)."""
    home = os.environ.get("MASKLET_HOME")
    if home:
        return Path(home).expanduser() / "cache"
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False))


def checkpoints_dir() -> Path:
    """The folder downloaded checkpoints live in (not created)."""
    return cache_root() / "checkpoints"


def checkpoint_path(entry: CheckpointEntry, directory: Path | None = None) -> Path:
    """Where ``entry`` is (or will be once downloaded)."""
    return (directory or checkpoints_dir()) / entry.file_name


def partial_path(target: Path) -> Path:
    """The ``.part`` file an unfinished download of ``target`` grows in."""
    return target.with_name(target.name + ".part")


def is_downloaded(entry: CheckpointEntry, directory: Path | None = None) -> bool:
    """True when the checkpoint's file is in place.

    Only a file that passed the size and load checks is ever renamed to its final name,
    so being there means it was verified.
    """
    return checkpoint_path(entry, directory).is_file()


def partial_bytes(entry: CheckpointEntry) -> int | None:
    """Bytes an unfinished download of ``entry`` holds so far; None when the file is complete or
    no download was started."""
    target = checkpoint_path(entry)
    part = partial_path(target)
    if target.is_file() or not part.is_file():
        return None
    return part.stat().st_size
