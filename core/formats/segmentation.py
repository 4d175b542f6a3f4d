"""Reading the segmentation of one annotation in any of COCO's three forms into an :class:`Rle`."""

from __future__ import annotations

from pycocotools import mask as mask_utils

from core.formats.dataset import FormatError
from core.masks import Rle
from core.validation.bounds import Invalid
from core.validation.dataset import check_segmentation


def rle_from_segmentation(segmentation: object, height: int, width: int, where: str) -> Rle:
    """COCO RLE (compressed or uncompressed) or polygons ``[[x0, y0, x1, y1, ...], ...]`` -> Rle.

    height/width: the image size in pixels; ``where`` names the annotation in error messages.
    """
    try:  # what pycocotools would trust: checked first (core.validation.dataset, issue 21)
        check_segmentation(segmentation, height, width, where)
    except Invalid as exc:
        raise FormatError(str(exc)) from None
    try:
        if isinstance(segmentation, dict):
            rle = Rle.from_coco(segmentation)
        elif isinstance(segmentation, list) and segmentation:
            parts = mask_utils.frPyObjects([list(map(float, p)) for p in segmentation], height, width)
            merged = mask_utils.merge(parts)
            rle = Rle(height, width, bytes(merged["counts"]))
        else:
            raise FormatError(f"{where}: the segmentation is neither RLE nor polygons")
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"{where}: unreadable segmentation ({exc})") from None
    if (rle.height, rle.width) != (height, width):
        raise FormatError(f"{where}: mask is {rle.width}x{rle.height}, the image is {width}x{height}")
    return rle
