"""Bookkeeping of one propagation run on the GUI side: which results to keep, rate and time left.

Plain Python (no Qt). Results stream into the document as frames finish; this records what
each replaced so the whole run (or its finished part, after a cancel) becomes one undo step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from annotator.document import AnnotationDocument, MaskEntry
from annotator.results import entry_for, is_protected
from core.types import FrameResult


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


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


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
        """The entries to write for one finished frame; protected masks are never replaced."""
        writes: dict[tuple[int, int], MaskEntry] = {}
        for obj_id, mask in result.objects.items():
            if obj_id not in doc.objects:
                continue
            old = doc.mask(obj_id, result.frame)
            if is_protected(old):
                continue
            new = entry_for(mask, doc.prompt(obj_id, result.frame) is not None)
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
