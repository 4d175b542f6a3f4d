"""CVAT's own mask RLE (the ``rle`` of a ``<mask>`` in CVAT XML): runs over the mask's tight box.

A mask is cut to the box of its foreground (left, top, width, height: pixels, inclusive of the
last row and column), read row by row, and written as alternating run lengths that start with
a background run (0 when the box's first pixel is foreground). CVAT writes the counts joined
by ``", "``. This is not COCO's RLE, which runs column by column over the whole image.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.formats.dataset import FormatError


@dataclass(frozen=True)
class CvatMask:
    """counts: run lengths, background first; left, top, width, height: the box in pixels."""

    counts: tuple[int, ...]
    left: int
    top: int
    width: int
    height: int

    def text(self) -> str:
        return ", ".join(map(str, self.counts))


def encode_cvat(mask: np.ndarray) -> CvatMask | None:
    """A (H, W) bool mask as CVAT RLE over its tight box; None for an empty mask (CVAT has no empty mask)."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    top, bottom, left, right = int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])
    flat = np.ascontiguousarray(mask[top:bottom + 1, left:right + 1]).reshape(-1).astype(np.int8)
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    if flat[0]:  # the counts start with a background run, here of length 0
        runs.insert(0, 0)
    return CvatMask(tuple(int(r) for r in runs), left, top, right - left + 1, bottom - top + 1)


def decode_cvat(counts: list[int], left: int, top: int, width: int, height: int,
                image_height: int, image_width: int, where: str) -> np.ndarray:
    """The (image_height, image_width) bool mask of CVAT RLE ``counts`` over the box; FormatError
    (naming ``where``) when the runs do not fill the box exactly or the box leaves the image."""
    if width < 1 or height < 1 or left < 0 or top < 0 or left + width > image_width or top + height > image_height:
        raise FormatError(f"{where}: the mask box {left},{top} {width}x{height} leaves the "
                          f"{image_width}x{image_height} image")
    if any(c < 0 for c in counts) or sum(counts) != width * height:
        raise FormatError(f"{where}: the mask's runs cover {sum(counts)} pixels, its box {width * height}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, counts)
    out = np.zeros((image_height, image_width), dtype=bool)
    out[top:top + height, left:left + width] = flat.reshape(height, width)
    return out


def parse_counts(text: str, where: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(" ", "").split(",") if part != ""]
    except ValueError:
        raise FormatError(f"{where}: the mask's rle is not a list of whole numbers") from None
