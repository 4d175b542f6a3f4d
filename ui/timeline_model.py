"""What the timeline shows, computed from the document with numpy (no widgets, tested alone).

Per object and frame: a state (absent, propagated, imported, prompted, edited by hand, or no
mask), whether it is locked, and SAM 2's confidence (predicted IoU). Also the frames worth a
second look: low confidence, the object vanishing, or its area jumping from one frame to the next.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from annotator.document import AnnotationDocument, MaskEntry, MaskSource

LOW_IOU = 0.5  # SAM 2's predicted IoU below this is worth a look
AREA_JUMP = 2.0  # the mask grows or shrinks by more than this factor between adjacent frames


class LaneState(IntEnum):
    """Ordered by how much it matters to see it when frames share a pixel column."""

    NONE = 0
    ABSENT = 1
    PROPAGATED = 2
    IMPORTED = 3
    PROMPTED = 4
    EDITED = 5


_SOURCE_STATE = {
    MaskSource.PROPAGATED: LaneState.PROPAGATED,
    MaskSource.IMPORTED: LaneState.IMPORTED,
    MaskSource.PROMPTED: LaneState.PROMPTED,
    MaskSource.EDITED: LaneState.EDITED,
}


def entry_state(entry: MaskEntry | None) -> LaneState:
    if entry is None:
        return LaneState.NONE
    if entry.source in (MaskSource.PROPAGATED, MaskSource.PROMPTED) and (
        (entry.object_score is not None and entry.object_score <= 0) or entry.rle.is_empty):
        return LaneState.ABSENT
    return _SOURCE_STATE[entry.source]


@dataclass
class Lane:
    """One object's row: states (N,) int8 LaneState; locked (N,) bool; iou (N,) float32, NaN where unknown."""

    states: np.ndarray
    locked: np.ndarray
    iou: np.ndarray

    @classmethod
    def empty(cls, n: int) -> "Lane":
        return cls(np.zeros(n, np.int8), np.zeros(n, bool), np.full(n, np.nan, np.float32))

    def update(self, doc: AnnotationDocument, obj_id: int, frames: "list[int] | None" = None) -> None:
        """Recompute the given frames (all of them when None)."""
        masks = doc.masks.get(obj_id, {})
        if frames is None:
            self.states[:], self.locked[:], self.iou[:] = 0, False, np.nan
            frames = list(masks)
        n = len(self.states)
        for frame in frames:
            if not 0 <= frame < n:
                continue
            entry = masks.get(frame)
            self.states[frame] = entry_state(entry)
            self.locked[frame] = bool(entry is not None and entry.locked)
            self.iou[frame] = np.nan if entry is None or entry.iou is None else entry.iou


def columns(values: np.ndarray, width: int, reduce: str) -> np.ndarray:
    """Squeeze (N,) per-frame values into ``width`` pixel columns (N > width): max or nanmin per column."""
    n = len(values)
    starts = (np.arange(width) * n) // width
    if reduce == "max":
        return np.maximum.reduceat(values, starts)
    filled = np.where(np.isnan(values), np.inf, values)
    out = np.minimum.reduceat(filled, starts).astype(np.float32)
    out[np.isinf(out)] = np.nan
    return out


def issue_frames(doc: AnnotationDocument, obj_ids: list[int], low_iou: float = LOW_IOU, area_jump: float = AREA_JUMP) -> list[int]:
    """Frames where some object's confidence is low, it vanishes, or its area jumps, sorted."""
    found: set[int] = set()
    for obj_id in obj_ids:
        masks = doc.masks.get(obj_id, {})
        previous_area: int | None = None
        previous_frame = -2
        for frame in sorted(masks):
            entry = masks[frame]
            state = entry_state(entry)
            area = 0 if state is LaneState.ABSENT else entry.rle.area
            if entry.iou is not None and entry.iou < low_iou and state is not LaneState.ABSENT:
                found.add(frame)
            if previous_area is not None and frame == previous_frame + 1:
                if (previous_area > 0) != (area > 0):
                    found.add(frame)  # appears or vanishes
                elif previous_area > 0 and max(area, previous_area) > area_jump * min(area, previous_area):
                    found.add(frame)
            previous_area, previous_frame = area, frame
    return sorted(found)


def next_issue(issues: list[int], current: int, forward: bool = True) -> int | None:
    """The first issue frame after (or before) ``current``, None if there is none."""
    if forward:
        later = [f for f in issues if f > current]
        return later[0] if later else None
    earlier = [f for f in issues if f < current]
    return earlier[-1] if earlier else None
