"""Bounds on a COCO compressed RLE read from a file, checked before anything decodes it.

A counts string describes at most height x width + 1 runs, and one run takes at most 6
characters (core.formats.rle_check), so a longer string is refused on its length alone,
without looking at its characters (a 64 MiB string on a small mask costs nothing). What the
runs add up to is core.formats.rle_check's job, run once on all masks of a file.
"""

from __future__ import annotations

from core.validation.bounds import Invalid, integer, MAX_SIDE, MAX_FRAME_PIXELS

CHARS_PER_RUN = 6


def max_counts_chars(height: int, width: int) -> int:
    """The longest counts string a height x width mask can have."""
    return CHARS_PER_RUN * (height * width + 1)


def check_rle_fields(size: object, counts: object, field: str) -> tuple[int, int, str]:
    """(height, width, counts) of a ``{"size": [h, w], "counts": "..."}`` mask, shapes and bounds checked.

    Raises Invalid for a size that is not two whole numbers within a frame Masklet opens, a
    counts value that is not ASCII text (uncompressed list counts are a dataset format's job),
    or one longer than the mask could need.
    """
    if not isinstance(size, list) or len(size) != 2:
        raise Invalid(f"{field}.size: must be [height, width], not {size!r:.40}")
    height = integer(size[0], f"{field}.size[0]", 0, MAX_SIDE)
    width = integer(size[1], f"{field}.size[1]", 0, MAX_SIDE)
    if height * width > MAX_FRAME_PIXELS:
        raise Invalid(f"{field}.size: {height}x{width} is more than {MAX_FRAME_PIXELS} pixels")
    if not isinstance(counts, str):
        raise Invalid(f"{field}.counts: must be a compressed RLE string, not {type(counts).__name__}")
    limit = max_counts_chars(height, width)
    if len(counts) > limit:
        raise Invalid(f"{field}.counts: {len(counts)} characters, more than a {height}x{width} mask can need ({limit})")
    if not counts.isascii():
        raise Invalid(f"{field}.counts: holds characters that are not compressed RLE")
    return height, width, counts
