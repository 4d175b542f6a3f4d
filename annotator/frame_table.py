"""Per-frame facts about one object, as dense numpy arrays over the video (no Qt).

The timeline's lanes, the "suspect" rule and the review progress all read the same table:
the state of each frame (no mask, absent, propagated, imported, prompted, edited by hand),
whether it is locked or reviewed, SAM 2's predicted IoU and object score, and the mask's area.
The table is updated frame by frame as masks change, so a propagation run costs a few array
writes per frame, never a rescan of the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from annotator.document import AnnotationDocument, MaskEntry, MaskSource


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
    """NONE without an entry; ABSENT where SAM 2 says the object is not there (score <= 0 or an
    empty mask); otherwise the entry's source."""
    if entry is None:
        return LaneState.NONE
    if entry.source in (MaskSource.PROPAGATED, MaskSource.PROMPTED) and (
            (entry.object_score is not None and entry.object_score <= 0) or entry.rle.is_empty):
        return LaneState.ABSENT
    return _SOURCE_STATE.get(entry.source, LaneState.IMPORTED)


@dataclass
class FrameTable:
    """One object over N frames.

    states (N,) int8 LaneState; locked, reviewed (N,) bool; iou, score (N,) float32, NaN where
    unknown; area (N,) float32 foreground pixels (0 where absent or no mask).
    """

    states: np.ndarray
    locked: np.ndarray
    reviewed: np.ndarray
    iou: np.ndarray
    score: np.ndarray
    area: np.ndarray

    @classmethod
    def empty(cls, n: int) -> "FrameTable":
        return cls(np.zeros(n, np.int8), np.zeros(n, bool), np.zeros(n, bool), np.full(n, np.nan, np.float32),
                   np.full(n, np.nan, np.float32), np.zeros(n, np.float32))

    @classmethod
    def of(cls, doc: AnnotationDocument, obj_id: int, n: int) -> "FrameTable":
        table = cls.empty(n)
        table.update(doc, obj_id)
        return table

    def __len__(self) -> int:
        return len(self.states)

    @property
    def has_mask(self) -> np.ndarray:
        """(N,) bool: the object has an entry on the frame (absent ones included)."""
        return self.states != LaneState.NONE

    @property
    def present(self) -> np.ndarray:
        """(N,) bool: a mask showing the object (not absent, not missing)."""
        return self.states > LaneState.ABSENT

    def update(self, doc: AnnotationDocument, obj_id: int, frames: "list[int] | None" = None) -> None:
        """Recompute the given frames (all of them when None)."""
        masks = doc.masks.get(obj_id, {})
        if frames is None:
            self.states[:], self.locked[:], self.reviewed[:] = 0, False, False
            self.iou[:], self.score[:], self.area[:] = np.nan, np.nan, 0
            frames = list(masks)
        n = len(self.states)
        frames = [f for f in frames if 0 <= f < n]
        rows = [_row(masks.get(f)) for f in frames]  # one area computation per mask, plain Python
        if frames:
            idx = np.asarray(frames, np.int64)
            states, locked, reviewed, iou, score, area = zip(*rows)
            self.states[idx], self.locked[idx], self.reviewed[idx] = states, locked, reviewed
            self.iou[idx], self.score[idx], self.area[idx] = iou, score, area


_NO_MASK = (LaneState.NONE, False, False, np.nan, np.nan, 0.0)


def _row(entry: MaskEntry | None) -> tuple:
    """(state, locked, reviewed, iou, score, area) of one frame; the same state as ``entry_state``."""
    if entry is None:
        return _NO_MASK
    area = entry.rle.area
    state = _SOURCE_STATE.get(entry.source, LaneState.IMPORTED)
    if entry.source in (MaskSource.PROPAGATED, MaskSource.PROMPTED) and (
            (entry.object_score is not None and entry.object_score <= 0) or area == 0):
        state = LaneState.ABSENT
    return (state, entry.locked, entry.reviewed, np.nan if entry.iou is None else entry.iou,
            np.nan if entry.object_score is None else entry.object_score, area if state > LaneState.ABSENT else 0.0)
