"""Dataset files (SA-V, COCO, YouTube-VIS, DAVIS, per-object PNGs) checked where the readers
would otherwise trust them: what reaches pycocotools, what a reader builds, what an export writes.

* ``check_segmentation``: a COCO segmentation (polygons, RLE with counts as text or as a list)
  before pycocotools sees it: pycocotools trusts its input and dies on a signal for polygon
  coordinates that are NaN, infinite or huge, and allocates from the size it is given.
* ``check_dataset``: the record a reader built (or an export is given): picture size, frame
  count, fps, duplicate track ids, values that are not finite, nesting.
* ``unique_frames``: file names that name the same frame (``00032.png`` and ``32.png``), or
  folders the same object (``001`` and ``0001``), refused with both names.
* ``check_image_header``: a PNG's size from its header, before its pixels are decoded.

Duck-typed on the dataset record (core.formats.dataset) so that this module imports nothing
of the formats. Every refusal is ``Invalid`` with one line ``FIELD: PROBLEM``.
"""

from __future__ import annotations

import math
from pathlib import Path

from core.validation.bounds import (
    MAX_COORDINATE, MAX_FRAME_PIXELS, MAX_FRAMES, MAX_OBJECTS, Invalid, all_finite, depth_at_most, fps,
    frame_count, frame_size, integer, is_int, is_number, no_duplicates,
)
from core.validation.rle import check_rle_fields

MAX_POLYGON_VALUES = 2_000_000  # coordinates in one annotation's polygons


def check_segmentation(segmentation: object, height: int, width: int, where: str) -> None:
    """Raise Invalid unless pycocotools can safely read ``segmentation`` for a height x width image."""
    frame_size(width, height, f"{where}: the image")
    if isinstance(segmentation, dict):
        check_rle_dict(segmentation, where)
        return
    check_polygons(segmentation, where)


def check_rle_dict(segmentation: dict, where: str) -> None:
    """A COCO RLE ``{"size": [h, w], "counts": str | list}`` within bounds (by its own size)."""
    if not isinstance(segmentation, dict):
        raise Invalid(f"{where}: an RLE must be an object with size and counts")
    if True:
        size, counts = segmentation.get("size"), segmentation.get("counts")
        if isinstance(counts, list):
            if not isinstance(size, list) or len(size) != 2 or not all(is_int(v) for v in size):
                raise Invalid(f"{where}.size: must be [height, width]")
            h, w = integer(size[0], f"{where}.size[0]", 0, 2**16), integer(size[1], f"{where}.size[1]", 0, 2**16)
            if h * w > MAX_FRAME_PIXELS:
                raise Invalid(f"{where}.size: {h}x{w} is more than {MAX_FRAME_PIXELS} pixels")
            if len(counts) > h * w + 1:
                raise Invalid(f"{where}.counts: {len(counts)} runs, more than a {h}x{w} mask has")
            if not all(is_int(c) and 0 <= c <= h * w for c in counts):
                raise Invalid(f"{where}.counts: runs must be whole numbers from 0 to {h * w}")
            if sum(counts) != h * w:
                raise Invalid(f"{where}.counts: the runs add up to {sum(counts)}, not the mask's {h * w} pixels")
        elif isinstance(counts, bytes):
            check_rle_fields(size, counts.decode("ascii", "replace"), where)
        else:
            check_rle_fields(size, counts, where)


def check_polygons(segmentation: object, where: str) -> None:
    """Polygons ``[[x0, y0, x1, y1, ...], ...]`` of finite pixel coordinates within MAX_COORDINATE
    (pycocotools dies on a signal, or takes all memory, for NaN, infinite or huge ones)."""
    if not isinstance(segmentation, list) or not segmentation:
        raise Invalid(f"{where}: the segmentation is neither RLE nor polygons")
    values = 0
    for k, polygon in enumerate(segmentation):
        if not isinstance(polygon, list) or len(polygon) < 6 or len(polygon) % 2:
            raise Invalid(f"{where}: polygon {k} must be a list of at least 3 x, y pairs")
        values += len(polygon)
        if values > MAX_POLYGON_VALUES:
            raise Invalid(f"{where}: more than {MAX_POLYGON_VALUES} polygon coordinates")
        for v in polygon:
            if not is_number(v) or not math.isfinite(v) or abs(v) > MAX_COORDINATE:
                raise Invalid(f"{where}: polygon {k} holds {v!r:.20}, not a finite coordinate within {MAX_COORDINATE:g}")


def check_dataset(dataset: object, where: str = "") -> None:
    """The record a reader built, or an export is given: bounds, duplicates, finite values."""
    prefix = f"{where}: " if where else ""
    try:
        frame_size(getattr(dataset, "width"), getattr(dataset, "height"), f"{prefix}video")
        frame_count(getattr(dataset, "frame_count"), f"{prefix}frame count")
        fps(getattr(dataset, "fps"), f"{prefix}fps")
        tracks = list(getattr(dataset, "tracks"))
    except AttributeError as exc:
        raise Invalid(f"{prefix}not a dataset ({exc})") from None
    if len(tracks) > MAX_OBJECTS:
        raise Invalid(f"{prefix}{len(tracks)} objects, more than {MAX_OBJECTS}")
    no_duplicates([t.track_id for t in tracks], f"{prefix}objects", "id")
    for name in ("attributes",):
        value = getattr(dataset, name, None)
        if value is not None:
            depth_at_most(value, f"{prefix}video {name}")
            all_finite(value, f"{prefix}video {name}")
    for track in tracks:
        for name in ("attributes", "frame_attributes"):
            value = getattr(track, name, None)
            if value:
                depth_at_most(value, f"{prefix}object {track.track_id} {name}")
                all_finite(value if name == "attributes" else list(value.values()),
                           f"{prefix}object {track.track_id} {name}")
        masks = getattr(track, "masks", {})
        if masks:
            low, high = min(masks), max(masks)
            count = getattr(dataset, "frame_count")
            if low < 0 or high >= count:
                bad = low if low < 0 else high
                raise Invalid(f"{prefix}object {track.track_id}: frame {bad} is outside 0..{count - 1}")
            size = (getattr(dataset, "height"), getattr(dataset, "width"))
            wrong = next((f for f, rle in masks.items() if (rle.height, rle.width) != size), None)
            if wrong is not None:
                rle = masks[wrong]
                raise Invalid(f"{prefix}object {track.track_id} frame {wrong}: mask is {rle.width}x{rle.height}, "
                              f"video is {size[1]}x{size[0]}")


def unique_frames(named: list[tuple[int, str]], where: str, what: str = "frame") -> None:
    """Refuse two names for one number: ``[(32, "00032.png"), (32, "32.png")]``."""
    by_number: dict[int, list[str]] = {}
    for number, name in named:
        by_number.setdefault(number, []).append(name)
    clash = [(n, names) for n, names in by_number.items() if len(names) > 1]
    if clash:
        number, names = clash[0]
        more = f" (and {len(clash) - 1} more)" if len(clash) > 1 else ""
        raise Invalid(f"{where}: {' and '.join(sorted(names)[:3])} name the same {what} {number}{more}; keep one")


def check_image_header(path: Path) -> tuple[int, int] | None:
    """(width, height) from an image's header, refused above MAX_FRAME_PIXELS before decoding;
    None when it is no image PIL knows (the reader says so in its own words)."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        raise Invalid(f"{path}: its header claims more pixels than an image may have: refused") from None
    except OSError:
        return None
    if width * height > MAX_FRAME_PIXELS:
        raise Invalid(f"{path}: {width}x{height} pixels, more than a frame may have ({MAX_FRAME_PIXELS})")
    return width, height
