"""The one definition of a "suspect" frame, shared by the timeline's colours and by `J` (no Qt).

A frame of an object is suspect when:
- SAM 2's predicted IoU is below ``low_iou`` (on a frame where the object is present), or
- the object appears or vanishes from one frame to the next (both frames have an entry), or
- its area grows or shrinks by more than ``area_jump`` times between adjacent frames.

The timeline paints exactly these frames red in the confidence strip, and `J` / `Shift+J` visit
exactly these frames; the thresholds live in Preferences. Between ``low_iou`` and ``good_iou``
the strip goes from yellow to green (not suspect, only less sure).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from annotator.document import AnnotationDocument
from annotator.frame_table import FrameTable

CONFIDENCE_LEVELS = 8  # colour steps of the confidence strip between low_iou and good_iou


@dataclass(frozen=True)
class SuspectThresholds:
    """low_iou: predicted IoU below this is suspect; good_iou: at or above it the strip is fully
    green; area_jump: a factor (> 1) of area change between adjacent frames that is suspect."""

    low_iou: float = 0.5
    good_iou: float = 0.9
    area_jump: float = 2.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.low_iou <= 1.0 or not self.low_iou < self.good_iou <= 1.0:
            raise ValueError(f"IoU thresholds need 0 <= low ({self.low_iou}) < good ({self.good_iou}) <= 1")
        if self.area_jump <= 1.0:
            raise ValueError(f"the area jump factor must be above 1, got {self.area_jump}")

    def confidence_level(self, iou: np.ndarray) -> np.ndarray:
        """(N,) int8: -1 where IoU is unknown (NaN), else 0 (at low_iou) .. CONFIDENCE_LEVELS - 1
        (at good_iou and above). Below low_iou is level 0 too; it is the suspect flag that says red."""
        t = np.clip((np.asarray(iou, np.float32) - self.low_iou) / (self.good_iou - self.low_iou), 0.0, 1.0)
        level = np.rint(np.nan_to_num(t) * (CONFIDENCE_LEVELS - 1)).astype(np.int8)
        level[np.isnan(iou)] = -1
        return level


def suspect_flags(table: FrameTable, thresholds: SuspectThresholds) -> np.ndarray:
    """(N,) bool: the frames of ``table``'s object that are suspect (see the module docstring)."""
    present, has = table.present, table.has_mask
    with np.errstate(invalid="ignore"):
        flags = present & (table.iou < thresholds.low_iou)
    if len(flags) < 2:
        return flags
    area = np.where(present, table.area, 0.0)
    before, after = area[:-1], area[1:]
    adjacent = has[:-1] & has[1:]
    appears_or_vanishes = adjacent & ((before > 0) != (after > 0))
    both = adjacent & (before > 0) & (after > 0)
    jump = both & (np.maximum(before, after) > thresholds.area_jump * np.minimum(before, after))
    flags[1:] |= appears_or_vanishes | jump
    return flags


def suspect_frames(doc: AnnotationDocument, obj_ids: list[int], thresholds: SuspectThresholds,
                   frame_count: int | None = None) -> list[int]:
    """Sorted frames where any of ``obj_ids`` is suspect. frame_count: the video's length
    (defaults to the document's video, else one past the last mask)."""
    if frame_count is None:
        if doc.video is not None:
            frame_count = doc.video.frame_count
        else:
            frame_count = 1 + max((max(m) for o in obj_ids if (m := doc.masks.get(o))), default=-1)
    found = np.zeros(frame_count, bool)
    for obj_id in obj_ids:
        found |= suspect_flags(FrameTable.of(doc, obj_id, frame_count), thresholds)
    return np.flatnonzero(found).tolist()


def next_frame(frames: list[int], current: int, forward: bool = True) -> int | None:
    """The first of the sorted ``frames`` after (or before) ``current``, None if there is none."""
    if forward:
        i = bisect.bisect_right(frames, current)
        return frames[i] if i < len(frames) else None
    i = bisect.bisect_left(frames, current)
    return frames[i - 1] if i > 0 else None
