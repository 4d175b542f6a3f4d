"""A folder of still images as a frame source, in natural order (frame2 before frame10).

Images are read with PIL and converted to RGB exactly as SAM 2's own frame loader does
(``Image.open(p).convert("RGB")``: palette and grey images expanded, alpha dropped, EXIF
orientation not applied, so pixels are the stored ones). 16-bit images keep their top 8 bits.
Every image must have the first image's size.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from core.allocator import kept_array
from core.frames.base import CachedFrames
from core.frames.fingerprint import fingerprint_images
from core.frames.errors import FrameSourceError
from core.types import CancelCheck, VideoInfo
from core.validation.bounds import MAX_FRAME_PIXELS, MAX_FRAMES

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")
DEFAULT_FOLDER_FPS = 30.0

_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting "frame2.png" before "frame10.png": digit runs compare as numbers."""
    parts = _DIGITS.split(name.lower())
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p != "")


def list_images(folder: Path) -> list[Path]:
    """The image files directly in ``folder`` (no hidden files), naturally sorted."""
    files = [
        p for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS
    ]
    return sorted(files, key=lambda p: (natural_key(p.name), p.name))


def read_rgb(path: Path, expected: tuple[int, int, str] | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels of one image file. Raises FrameSourceError.

    expected: (width, height, first file's name) the image must match; its header is checked against it (and
    against MAX_FRAME_PIXELS) before any pixel is decoded.
    """
    try:
        with Image.open(path) as im:
            width, height = im.size
            if width * height > MAX_FRAME_PIXELS:
                raise FrameSourceError(f"{path}: {width}x{height} pixels, more than a frame may have ({MAX_FRAME_PIXELS})")
            if expected is not None and (width, height) != expected[:2]:
                raise FrameSourceError(
                    f"{path}: image is {width}x{height}, but the first frame ({expected[2]}) is {expected[0]}x{expected[1]}"
                )
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                grey = np.asarray(im, dtype=np.uint32)
                shift = 8 if im.mode.startswith("I;16") or grey.max(initial=0) > 255 else 0
                g8 = (grey >> shift).clip(0, 255).astype(np.uint8)
                rgb = np.repeat(g8[:, :, None], 3, axis=2)
            else:
                rgb = np.asarray(im.convert("RGB"), dtype=np.uint8)
        # Frames stay in the frame cache for a while: keep them off the heap (core/allocator.py).
        return kept_array(rgb)
    except FrameSourceError:
        raise
    except Image.DecompressionBombError as exc:  # PIL refuses before the size check above can
        claimed = re.search(r"\((\d+) pixels\)", str(exc))
        pixels = f"{claimed.group(1)} pixels" if claimed else "more pixels than PIL opens"
        raise FrameSourceError(f"{path}: its header claims {pixels}, more than a frame may have: refused") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, MemoryError) as exc:
        raise FrameSourceError(f"{path}: not a readable image ({exc})") from None


class FolderFrames(CachedFrames):
    """Images in a folder as a FrameSource; fps is whatever the caller says (default 30)."""

    def __init__(self, folder: Path, cache_mb: int = 512, fps: float = DEFAULT_FOLDER_FPS) -> None:
        self.files = list_images(folder)
        if not self.files:
            raise FrameSourceError(
                f"{folder}: no images in this folder (looked for {', '.join(e[1:] for e in IMAGE_EXTENSIONS)})"
            )
        if len(self.files) > MAX_FRAMES:
            raise FrameSourceError(f"{folder}: {len(self.files)} images, more than {MAX_FRAMES} frames")
        first = read_rgb(self.files[0])
        info = VideoInfo(width=int(first.shape[1]), height=int(first.shape[0]),
                         frame_count=len(self.files), fps=float(fps))
        super().__init__(folder, info, cache_mb)
        self.cache.put(0, first)

    def _decode(self, index: int, *, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        path = self.files[index]
        rgb = read_rgb(path, (self._info.width, self._info.height, self.files[0].name))
        if store:
            self.cache.put(index, rgb)
        return rgb

    def _compute_fingerprint(self) -> str:
        return fingerprint_images(self.files)

    def _close_decoder(self) -> None:
        pass  # every read opens and closes its own file
