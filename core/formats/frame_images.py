"""The video's frames as JPEGs beside a COCO or YouTube-VIS file, so that its ``file_name``s resolve,
and inside a YOLO segmentation folder, so that it can train.

COCO and YouTube-VIS name frame ``f`` of video ``name`` ``name/{f:05d}.jpg``, relative to the JSON
file's folder; YOLO pairs ``images/train/{f:05d}.jpg`` with ``labels/train/{f:05d}.txt``: the
frames go to ``frames_folder(out, name, fmt)``. Each JPEG carries the comment
``Masklet`` (see core.formats.layout), so a later export may replace them and nothing else; the
folder is written all or nothing like any folder export (core.formats.atomic).
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from PIL import Image

from core.formats.atomic import atomic_directory
from core.formats.dataset import ExportCancelled, FormatError, frame_stem
from core.formats.layout import SOFTWARE
from core.types import CancelCheck, ProgressCallback

DEFAULT_QUALITY = 90
FORMATS_WITH_FRAMES = ("coco", "ytvis", "yolo")
FRAMES_INSIDE = ("yolo",)  # the frames go inside the export's folder, written after it


def frames_folder(out: Path, name: str, fmt: str = "coco") -> Path:
    """Where the frames of video ``name`` go for the export ``out`` of format ``fmt``: beside a JSON
    file (its file names' prefix), or ``out/images/train`` in a YOLO folder."""
    if fmt in FRAMES_INSIDE:
        return Path(out) / "images" / "train"
    return Path(out).parent / name


def write_frames(
    read: Callable[[int], np.ndarray], frames: Sequence[int], out: Path, quality: int = DEFAULT_QUALITY,
    overwrite: bool = False, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    """Write ``out/{frame:05d}.jpg`` for each of ``frames``; read(frame) gives an (H, W, 3) uint8 RGB array.

    quality: JPEG quality, 1 (smallest) to 95 (Pillow's best; above it only grows the file).
    overwrite: consent to replace a previous frames export there (see core.formats.target).
    """
    if not 1 <= quality <= 95:
        raise FormatError(f"the JPEG quality is 1 to 95, got {quality}")
    with atomic_directory(Path(out), "frames", overwrite) as tmp:
        for done, frame in enumerate(frames, start=1):
            if cancel is not None and cancel():
                raise ExportCancelled("export cancelled")
            Image.fromarray(read(frame)).save(tmp / f"{frame_stem(frame)}.jpg", quality=quality, comment=SOFTWARE)
            if progress is not None:
                progress(done, len(frames), "frames")
