"""What the timeline shows, computed without widgets: per object a frame table (annotator.frame_table,
called ``Lane`` here), the text of a cell's tooltip, and the suspect frames `J` visits (the one
rule of annotator.suspect). The lanes are drawn from run-length summaries (annotator.lane_runs).
"""

from __future__ import annotations

import numpy as np

from annotator.document import AnnotationDocument, ObjectRecord
from annotator.frame_table import FrameTable, LaneState, entry_state
from annotator.suspect import SuspectThresholds, next_frame, suspect_frames

Lane = FrameTable  # the name the timeline's tests and callers know
__all__ = ["Lane", "LaneState", "columns", "entry_state", "issue_frames", "next_issue", "cell_text"]


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


def issue_frames(doc: AnnotationDocument, obj_ids: list[int], thresholds: SuspectThresholds | None = None) -> list[int]:
    """Suspect frames of any of ``obj_ids`` (annotator.suspect), sorted."""
    return suspect_frames(doc, obj_ids, thresholds or SuspectThresholds())


def next_issue(issues: list[int], current: int, forward: bool = True) -> int | None:
    """The first issue frame after (or before) ``current``, None if there is none."""
    return next_frame(issues, current, forward)


_SOURCE_TEXT = {LaneState.NONE: "no mask", LaneState.ABSENT: "absent (SAM 2: not in view)",
                LaneState.PROPAGATED: "propagated", LaneState.IMPORTED: "imported", LaneState.PROMPTED: "prompted",
                LaneState.EDITED: "edited by hand"}


def suspect_reason(table: FrameTable, frame: int, thresholds: SuspectThresholds) -> str | None:
    """Why ``frame`` is suspect (the rule of annotator.suspect, on the frame and the one before)."""
    from annotator.suspect import suspect_flags

    lo = max(0, frame - 1)
    part = FrameTable(*(getattr(table, f)[lo:frame + 1] for f in ("states", "locked", "reviewed", "iou", "score", "area")))
    if not suspect_flags(part, thresholds)[-1]:
        return None
    iou = table.iou[frame]
    if table.present[frame] and not np.isnan(iou) and iou < thresholds.low_iou:
        return f"predicted IoU below {thresholds.low_iou:.2f}"
    before, now = (float(table.area[f]) if table.present[f] else 0.0 for f in (frame - 1, frame))
    if (before > 0) != (now > 0):
        return "appears" if now > 0 else "vanishes"
    return f"area ×{max(before, now) / min(before, now):.1f} from the previous frame"


def cell_text(record: ObjectRecord, table: FrameTable, frame: int, thresholds: SuspectThresholds,
              frames_in_column: tuple[int, int] | None = None) -> str:
    """The tooltip of one lane cell: frame, object, source, predicted IoU, object score, area, marks,
    why it is suspect and the reviewer's note. frames_in_column: (first, last) frames sharing the
    pixel column when zoomed out."""
    state = LaneState(int(table.states[frame]))
    lines = [f"Frame {frame} · {record.name} (#{record.obj_id})"]
    if frames_in_column is not None and frames_in_column[1] > frames_in_column[0]:
        lines[0] += f"  [this pixel: frames {frames_in_column[0]}–{frames_in_column[1]}]"
    lines.append(f"Source: {_SOURCE_TEXT[state]}")
    if state != LaneState.NONE:
        iou, score = float(table.iou[frame]), float(table.score[frame])
        lines.append("Predicted IoU: " + ("–" if np.isnan(iou) else f"{iou:.3f}")
                     + " · object score: " + ("–" if np.isnan(score) else f"{score:+.2f}"))
        lines.append(f"Area: {int(table.area[frame]):,} px")
        marks = [m for m, on in (("reviewed", table.reviewed[frame]), ("locked", table.locked[frame])) if on]
        if marks:
            lines.append("Marks: " + ", ".join(marks))
    reason = suspect_reason(table, frame, thresholds)
    if reason:
        lines.append(f"Suspect: {reason}")
    note = record.notes.get(frame)
    if note:
        lines.append(f"Note: {note}")
    return "\n".join(lines)
