"""Run-length summaries of a lane, and the cells a view of it draws (numpy, no Qt).

A lane is summarised as maximal runs of frames that look the same on the timeline (state, lock or
review mark, confidence colour step, suspect or not). Drawing a view asks ``view_cells`` for the
segments of pixel columns to fill: zoomed in, one segment per run in view; zoomed out, the runs
are squeezed into pixel columns (the strongest state, the strongest mark, the lowest confidence
and any suspect frame win a column), then equal neighbours are merged. Either way the number of
rectangles painted is bounded by the track's width in pixels, not by the video's length.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from annotator.frame_table import FrameTable
from annotator.suspect import SuspectThresholds, suspect_flags

MARK_NONE, MARK_LOCKED, MARK_REVIEWED = 0, 1, 2
_UNKNOWN = np.int8(127)  # an unknown confidence must lose to any known one when columns are squeezed


@dataclass(frozen=True)
class LaneRuns:
    """Runs partitioning frames [0, N): starts, ends (R,) int64 (ends exclusive); state (R,) int8
    LaneState; mark (R,) int8 MARK_*; level (R,) int8 confidence step, -1 unknown; suspect (R,) bool."""

    starts: np.ndarray
    ends: np.ndarray
    state: np.ndarray
    mark: np.ndarray
    level: np.ndarray
    suspect: np.ndarray

    @property
    def frame_count(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def __len__(self) -> int:
        return len(self.starts)


@dataclass(frozen=True)
class Cells:
    """Segments to paint: x0, x1 (S,) float pixels from the track's left edge; the rest as LaneRuns."""

    x0: np.ndarray
    x1: np.ndarray
    state: np.ndarray
    mark: np.ndarray
    level: np.ndarray
    suspect: np.ndarray

    def __len__(self) -> int:
        return len(self.x0)


def summarize(table: FrameTable, thresholds: SuspectThresholds) -> LaneRuns:
    """The runs of ``table`` (O(N) numpy; done again only when the lane changed)."""
    n = len(table)
    mark = np.where(table.reviewed, MARK_REVIEWED, np.where(table.locked, MARK_LOCKED, MARK_NONE)).astype(np.int8)
    level = thresholds.confidence_level(table.iou)
    level[~table.present] = -1
    suspect = suspect_flags(table, thresholds)
    state = table.states.astype(np.int8)
    if n == 0:
        empty = np.zeros(0, np.int64)
        return LaneRuns(empty, empty, state, mark, level, suspect)
    change = (state[1:] != state[:-1]) | (mark[1:] != mark[:-1]) | (level[1:] != level[:-1]) | (
        suspect[1:] != suspect[:-1])
    starts = np.concatenate(([0], np.flatnonzero(change) + 1)).astype(np.int64)
    ends = np.append(starts[1:], n).astype(np.int64)
    return LaneRuns(starts, ends, state[starts], mark[starts], level[starts], suspect[starts])


def _squeeze(values: np.ndarray, first_run: np.ndarray, last_run: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """ufunc-reduce ``values`` over runs first_run[c] .. last_run[c] (inclusive) for each column c."""
    padded = np.append(values, values[-1:])  # reduceat needs an index past the last column's runs
    bounds = np.append(first_run, last_run[-1] + 1)
    reduced = ufunc.reduceat(padded, bounds)[:-1]
    return ufunc(reduced, values[last_run])  # a run shared with the next column counts here too


def view_cells(runs: LaneRuns, first: float, frames_per_px: float, width: int) -> Cells:
    """The segments of a view whose left edge is frame ``first`` (float), ``frames_per_px`` frames
    a pixel, ``width`` pixels wide. Segments lie within [0, width] and within the video."""
    n = runs.frame_count
    empty = Cells(*(np.zeros(0) for _ in range(2)), *(np.zeros(0, np.int8) for _ in range(3)), np.zeros(0, bool))
    if n == 0 or width <= 0:
        return empty
    last = min(float(n), first + width * frames_per_px)
    if frames_per_px <= 1.0:
        i0 = int(np.searchsorted(runs.ends, max(0.0, first), side="right"))
        i1 = int(np.searchsorted(runs.starts, last, side="left"))
        sl = slice(i0, max(i0, i1))
        x0 = np.clip((runs.starts[sl] - first) / frames_per_px, 0, width)
        x1 = np.clip((runs.ends[sl] - first) / frames_per_px, 0, width)
        return Cells(x0, x1, runs.state[sl], runs.mark[sl], runs.level[sl], runs.suspect[sl])
    edges = np.floor(first + np.arange(width + 1) * frames_per_px).astype(np.int64)
    edges = np.clip(edges, 0, n)
    columns = np.flatnonzero(edges[1:] > edges[:-1])  # columns showing at least one frame
    if len(columns) == 0:
        return empty
    lo, hi = edges[columns], edges[columns + 1]
    first_run = np.searchsorted(runs.ends, lo, side="right")
    last_run = np.searchsorted(runs.starts, hi, side="left") - 1
    state = _squeeze(runs.state, first_run, last_run, np.maximum)
    mark = _squeeze(runs.mark, first_run, last_run, np.maximum)
    suspect = _squeeze(runs.suspect, first_run, last_run, np.logical_or)
    level = _squeeze(np.where(runs.level < 0, _UNKNOWN, runs.level).astype(np.int8), first_run, last_run, np.minimum)
    level[level == _UNKNOWN] = -1
    # merge neighbouring columns that look the same (and touch) into one segment
    change = (np.diff(columns) != 1) | (state[1:] != state[:-1]) | (mark[1:] != mark[:-1]) | (
        level[1:] != level[:-1]) | (suspect[1:] != suspect[:-1])
    seg = np.concatenate(([0], np.flatnonzero(change) + 1))
    seg_end = np.append(seg[1:], len(columns)) - 1
    x0 = columns[seg].astype(float)
    x1 = columns[seg_end].astype(float) + 1.0
    return Cells(x0, x1, state[seg], mark[seg], level[seg], suspect[seg])
