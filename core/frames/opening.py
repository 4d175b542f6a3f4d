"""Choosing the frame source for a path, and the fingerprint of a path."""

from __future__ import annotations

from pathlib import Path

from core.validation.inputs import protect_input
from core.frames.base import CachedFrames
from core.frames.errors import FrameSourceError
from core.frames.fingerprint import fingerprint_file, fingerprint_images
from core.frames.folder import DEFAULT_FOLDER_FPS, IMAGE_EXTENSIONS, FolderFrames, list_images
from core.frames.index import open_index
from core.frames.video import VideoFrames
from core.media import VIDEO_EXTENSIONS


def _checked(path: str | Path) -> Path:
    p = Path(path).expanduser()
    if not p.exists():
        raise FrameSourceError(f"{p}: no such file or folder")
    if p.is_file():
        suffix = p.suffix.lower()
        if suffix in IMAGE_EXTENSIONS:
            raise FrameSourceError(f"{p}: a single image is not a video; open the folder that holds the frames")
        if suffix not in VIDEO_EXTENSIONS:
            raise FrameSourceError(
                f"{p}: unsupported file type '{p.suffix}' (videos: {', '.join(e[1:] for e in VIDEO_EXTENSIONS)};"
                " or a folder of images)"
            )
    elif not p.is_dir():
        raise FrameSourceError(f"{p}: neither a file nor a folder")
    return p


def open_frames(path: str | Path, *, cache_mb: int = 512, folder_fps: float = DEFAULT_FOLDER_FPS) -> CachedFrames:
    """Open a video file or a folder of images as a FrameSource (see core.types).

    cache_mb: the decoded-frame cache budget in MiB. folder_fps: the frame rate reported for
    an image folder (a folder has none of its own). Raises FrameSourceError with one line.
    """
    p = _checked(path)
    protect_input(p, "the video" if p.is_file() else "the video's frame folder")
    try:
        if p.is_dir():
            return FolderFrames(p, cache_mb=cache_mb, fps=folder_fps)
        return VideoFrames(p, cache_mb=cache_mb)
    except PermissionError:
        raise FrameSourceError(f"{p}: permission denied") from None


def fingerprint(path: str | Path) -> str:
    """"sha256:<hex>" identifying a video's content (or an image folder's); see core.frames.fingerprint."""
    p = _checked(path)
    if p.is_dir():
        files = list_images(p)
        if not files:
            raise FrameSourceError(f"{p}: no images in this folder")
        return fingerprint_images(files)
    index = open_index(p)
    try:
        frames = len(index) if len(index) else len(index.all_pts())
    finally:
        index.release()  # the count is all we need: no reason to finish a background scan
    return fingerprint_file(p, frames)
