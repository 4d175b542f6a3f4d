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


SMOOTHING = 0.3  # weight of the newest frame's time in the running estimate

@dataclass(frozen=True)
class RunProgress:
    """done of total frames; rate: frames per second (smoothed; 0 until measurable);
    eta: seconds left (None until measurable)."""

    done: int
    total: int
    rate: float
    eta: float | None

    def text(self) -> str:
        """``12/200 frames, 4.2 s/frame, 13:10 left``: seconds per frame where a frame takes longer
        than a second (a CPU), frames per second otherwise."""
        speed = ""
        if self.rate > 0:
            speed = f", {self.rate:.1f} frames/s" if self.rate >= 1 else f", {1 / self.rate:.1f} s/frame"
        left = "" if self.eta is None else f", {format_seconds(self.eta)} left"
        return f"{self.done}/{self.total} frames{speed}{left}"


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
    cancelling: bool = False
    _seconds_per_frame: float | None = None
    _last: tuple[float, int] | None = None  # (time, frames done) of the previous report

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
        """The run's progress; the time a frame takes is smoothed over recent frames, so the time
        left does not swing with one slow frame (the first one encodes and warms up)."""
        now = time.monotonic() if now is None else now
        since_time, since_done = self._last if self._last is not None else (self.started, 0)
        if done > since_done and now > since_time:
            latest = (now - since_time) / (done - since_done)
            spf = self._seconds_per_frame
            self._seconds_per_frame = latest if spf is None else SMOOTHING * latest + (1 - SMOOTHING) * spf
            self._last = (now, done)
        spf = self._seconds_per_frame
        rate = 1 / spf if spf else 0.0
        eta = (total - done) * spf if spf else None
        return RunProgress(done, total, rate, eta)
