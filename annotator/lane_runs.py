"""Run-length summaries of a lane, and the cells a view of it draws (numpy, no Qt).

A lane is summarised as maximal runs of frames that look the same on the timeline (state, lock or
review mark, confidence colour step, suspect or not). Drawing a view asks ``view_columns`` for
what each pixel column shows: the runs under it are reduced per column (the strongest state, the
strongest mark, the lowest confidence and any suspect frame win a column), so the work is bounded
by the track's width in pixels and the runs in view, not by the video's length; ``view_cells``
merges equal neighbouring columns into segments.
"""

from __future__ import annotations

import functools
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

    @functools.cached_property
    def packed(self) -> np.ndarray:
        """(R, 4) int16: state, mark, suspect and the negated confidence key (unknown as -127), so one
        maximum over a column's runs gives the strongest state and mark, any suspect, and the lowest
        known confidence step."""
        key = np.where(self.level < 0, _UNKNOWN, self.level).astype(np.int16)
        return np.stack([self.state, self.mark, self.suspect, -key], axis=1).astype(np.int16)

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


@dataclass(frozen=True)
class Columns:
    """A view's pixel columns: state, mark, level, suspect (width,) as LaneRuns; columns past the
    video's end are NONE, unmarked, of unknown confidence and not suspect."""

    state: np.ndarray
    mark: np.ndarray
    level: np.ndarray
    suspect: np.ndarray


def _squeeze(values: np.ndarray, first_run: np.ndarray, last_run: np.ndarray, ufunc: np.ufunc) -> np.ndarray:
    """ufunc-reduce ``values`` ((R,) or (R, k)) over runs first_run[c] .. last_run[c] (inclusive)
    for each column c."""
    lo, hi = int(first_run.min()), int(last_run.max()) + 1
    part = np.concatenate((values[lo:hi], values[:1]))  # a spare row: the last bound points one past the runs
    bounds = np.empty(2 * len(first_run), np.int64)
    bounds[0::2], bounds[1::2] = first_run - lo, last_run + 1 - lo  # odd slots: between columns, dropped
    return ufunc.reduceat(part, bounds)[0::2]


@functools.lru_cache(maxsize=4)
def _geometry(n: int, first: float, frames_per_px: float, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The columns of a view that show frames of an ``n``-frame video, and their first and last
    (exclusive) frames; the same for every lane of a repaint, so made once."""
    edges = np.floor(first + np.arange(width + 1) * frames_per_px).astype(np.int64)
    lo = np.clip(edges[:-1], 0, None)
    valid = np.flatnonzero(lo < n)
    lo = lo[valid]
    hi = np.minimum(np.maximum(lo + 1, edges[1:][valid]), n)
    for array in (valid, lo, hi):
        array.flags.writeable = False  # shared through the cache
    return valid, lo, hi


def view_columns(runs: LaneRuns, first: float, frames_per_px: float, width: int) -> Columns:
    """Each pixel column of a view whose left edge is frame ``first`` (float), ``frames_per_px``
    frames a pixel, ``width`` pixels wide. Column c shows frames floor(first + c * fpp) up to (not
    including) floor(first + (c + 1) * fpp), at least one: the strongest state and mark, the
    lowest known confidence and any suspect frame among them win. Cost: O(width + runs in view)."""
    width = max(0, int(width))
    n = runs.frame_count
    state, mark = np.zeros(width, np.int8), np.zeros(width, np.int8)
    level, suspect = np.full(width, -1, np.int8), np.zeros(width, bool)
    valid, lo, hi = _geometry(n, float(first), float(frames_per_px), width)
    if n == 0 or len(valid) == 0:
        return Columns(state, mark, level, suspect)
    first_run = np.searchsorted(runs.ends, lo, side="right")
    last_run = np.searchsorted(runs.starts, hi, side="left") - 1
    top = _squeeze(runs.packed, first_run, last_run, np.maximum)  # (columns, 4): one reduction for all four
    state[valid], mark[valid], suspect[valid] = top[:, 0], top[:, 1], top[:, 2] > 0
    level[valid] = np.where(top[:, 3] == -_UNKNOWN, -1, -top[:, 3])
    return Columns(state, mark, level, suspect)


def stack_columns(columns: list[Columns]) -> Columns:
    """Several lanes' columns (same width) as one Columns of (lanes, width) arrays."""
    return Columns(*(np.stack([getattr(c, f) for c in columns]) if columns else np.zeros((0, 0), np.int8)
                     for f in ("state", "mark", "level", "suspect")))


def view_cells(runs: LaneRuns, first: float, frames_per_px: float, width: int) -> Cells:
    """The columns of ``view_columns`` inside the video, neighbours that look the same merged into
    one segment (at most one a pixel column, whatever the video's length)."""
    n = runs.frame_count
    cols = view_columns(runs, first, frames_per_px, width)
    edges = np.floor(first + np.arange(max(0, int(width))) * frames_per_px)
    inside = np.flatnonzero((edges < n) & (edges + frames_per_px > 0))
    if n == 0 or len(inside) == 0:
        return Cells(np.zeros(0), np.zeros(0), *(np.zeros(0, np.int8) for _ in range(3)), np.zeros(0, bool))
    state, mark, level, suspect = (a[inside] for a in (cols.state, cols.mark, cols.level, cols.suspect))
    change = (np.diff(inside) != 1) | (state[1:] != state[:-1]) | (mark[1:] != mark[:-1]) | (
        level[1:] != level[:-1]) | (suspect[1:] != suspect[:-1])
    seg = np.concatenate(([0], np.flatnonzero(change) + 1))
    seg_end = np.append(seg[1:], len(inside)) - 1
    return Cells(inside[seg].astype(float), inside[seg_end].astype(float) + 1.0, state[seg], mark[seg], level[seg],
                 suspect[seg])



def next_suspect(lanes: list[LaneRuns], current: int, forward: bool = True) -> int | None:
    """The nearest frame after (or before) ``current`` that is suspect in any of ``lanes``, read from
    their summaries (no pass over the frames: `J` on an hour of video answers at once)."""
    found: list[int] = []
    for runs in lanes:
        flagged = np.flatnonzero(runs.suspect)
        if forward:
            later = flagged[runs.ends[flagged] > current + 1]
            if len(later):
                found.append(max(int(runs.starts[later[0]]), current + 1))
        else:
            earlier = flagged[runs.starts[flagged] < current]
            if len(earlier):
                found.append(min(int(runs.ends[earlier[-1]]) - 1, current - 1))
    if not found:
        return None
    return min(found) if forward else max(found)
