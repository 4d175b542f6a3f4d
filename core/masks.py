"""Lossless masks as COCO run-length encoding (pycocotools).

A mask crosses every boundary of Masklet as an :class:`Rle`; it is decoded to pixels only
for the frame on screen or the frame being exported. pycocotools wants Fortran-ordered
uint8 arrays, which :func:`encode` takes care of.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from core.validation.dataset import check_rle_dict


@dataclass(frozen=True)
class Rle:
    """A binary mask of ``height`` x ``width`` pixels in COCO's compressed RLE.

    counts: COCO's compressed counts string, as bytes (ASCII).
    """

    height: int
    width: int
    counts: bytes

    def to_coco(self) -> dict:
        """COCO's dict form, ``{"size": [h, w], "counts": str}`` (JSON-ready)."""
        return {"size": [self.height, self.width], "counts": self.counts.decode("ascii")}

    @classmethod
    def from_coco(cls, rle: dict) -> "Rle":
        """From ``{"size": [h, w], "counts": str | bytes | list[int]}`` (uncompressed lists too).

        Raises ValueError (core.validation's Invalid, one line) for sizes and counts out of
        bounds, before pycocotools sees them."""
        check_rle_dict(rle, "RLE")
        height, width = (int(v) for v in rle["size"])
        counts = rle["counts"]
        if isinstance(counts, list):
            counts = mask_utils.frPyObjects({"size": [height, width], "counts": counts}, height, width)["counts"]
        if isinstance(counts, str):
            counts = counts.encode("ascii")
        return cls(height, width, bytes(counts))

    def _coco(self) -> dict:
        return {"size": [self.height, self.width], "counts": self.counts}

    def decode(self) -> np.ndarray:
        """The mask as a (height, width) bool array."""
        return mask_utils.decode(self._coco()).astype(bool)

    @property
    def area(self) -> int:
        """Foreground pixel count."""
        return int(mask_utils.area(self._coco()))

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """COCO box (x, y, width, height) in pixels; all zeros for an empty mask."""
        x, y, w, h = mask_utils.toBbox(self._coco()).tolist()
        return (float(x), float(y), float(w), float(h))

    @property
    def is_empty(self) -> bool:
        return self.area == 0


def encode(mask: np.ndarray) -> Rle:
    """Encode a (H, W) bool/uint8 mask (non-zero is foreground)."""
    if mask.ndim != 2:
        raise ValueError(f"a mask must be 2-D (H, W), got shape {mask.shape}")
    fortran = np.asfortranarray(mask.astype(np.uint8, copy=False) != 0, dtype=np.uint8)
    coco = mask_utils.encode(fortran)
    return Rle(int(mask.shape[0]), int(mask.shape[1]), bytes(coco["counts"]))


def empty(height: int, width: int) -> Rle:
    return encode(np.zeros((height, width), dtype=np.uint8))
