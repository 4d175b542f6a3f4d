"""Bookkeeping of one propagation run on the GUI side: which results to keep, rate and time left.

Plain Python (no Qt). Results stream into the document as frames finish; this records what
each replaced so the whole run (or its finished part, after a cancel) becomes one undo step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from annotator.document import AnnotationDocument, MaskEntry, MaskSource
from annotator.worker import Leg
from core.types import Direction, FrameResult


@dataclass(frozen=True)
class RunProgress:
    """done of total frames; rate: frames per second; eta: seconds left (None until measurable)."""

    done: int
    total: int
    rate: float
    eta: float | None

    def text(self) -> str:
        left = "" if self.eta is None else f", {format_seconds(self.eta)} left"
        return f"{self.done}/{self.total} frames, {self.rate:.1f} fps{left}"


def legs_for(direction: Direction, frame_range: tuple[int, int] | None, current: int) -> tuple[Leg, ...]:
    """The legs of a run: from ``current`` in ``direction``, or over an inclusive frame range
    (both ways over a range: from the current frame, clamped into it, to each end)."""
    if frame_range is None:
        return (Leg(current, direction),)
    a, b = sorted(frame_range)
    if direction is Direction.FORWARD:
        return (Leg(a, Direction.FORWARD, b),)
    if direction is Direction.BACKWARD:
        return (Leg(b, Direction.BACKWARD, a),)
    middle = min(max(current, a), b)
    return (Leg(middle, Direction.FORWARD, b), Leg(middle, Direction.BACKWARD, a))


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


def entry_for(doc: AnnotationDocument, obj_id: int, frame: int, result_mask: object) -> MaskEntry:
    """The document entry for one SAM 2 result (an ObjectMask): prompted where the annotator clicked."""
    source = MaskSource.PROMPTED if doc.prompt(obj_id, frame) is not None else MaskSource.PROPAGATED
    return MaskEntry(result_mask.rle, source, False, float(result_mask.object_score), float(result_mask.iou))


@dataclass
class PropagationRun:
    """One run: its id, the objects it tracks, and the entries it replaced so far."""

    run_id: int
    obj_ids: tuple[int, ...]
    started: float = field(default_factory=time.monotonic)
    changes: dict[tuple[int, int], tuple[MaskEntry | None, MaskEntry | None]] = field(default_factory=dict)
    frames_done: int = 0
    last_frame: int = -1

    def accept(self, doc: AnnotationDocument, result: FrameResult) -> dict[tuple[int, int], MaskEntry]:
        """The entries to write for one finished frame; hand edits and locked masks are never replaced."""
        writes: dict[tuple[int, int], MaskEntry] = {}
        for obj_id, mask in result.objects.items():
            if obj_id not in doc.objects or mask.rle.height != (doc.video.height if doc.video else mask.rle.height):
                continue
            old = doc.mask(obj_id, result.frame)
            if old is not None and (old.locked or old.source is MaskSource.EDITED):
                continue
            new = entry_for(doc, obj_id, result.frame, mask)
            key = (obj_id, result.frame)
            first_old = self.changes[key][0] if key in self.changes else old
            self.changes[key] = (first_old, new)
            writes[key] = new
        self.frames_done += 1
        self.last_frame = result.frame
        return writes

    def progress(self, done: int, total: int, now: float | None = None) -> RunProgress:
        elapsed = (time.monotonic() if now is None else now) - self.started
        rate = done / elapsed if elapsed > 0 and done > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        return RunProgress(done, total, rate, eta)
