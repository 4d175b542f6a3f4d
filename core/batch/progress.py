"""The driver's one progress display: videos done / failed / running, frames per second, time left.

On a terminal it rewrites one line; in a log or a pipe it writes a line every few seconds and
one at the end, as the other headless commands' bars do.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, TextIO


@dataclass(frozen=True)
class BatchProgress:
    """The run so far. total: jobs of the manifest; done/skipped/failed: finished jobs by end;
    running: jobs on workers; frames: frames tracked in this run (finished jobs and the running
    jobs' frames so far); worked: jobs the workers finished in this run; running_fraction: the
    running jobs' fractions done, summed; elapsed_s: seconds since the first job was handed out."""

    total: int
    done: int
    skipped: int
    failed: int
    running: int
    frames: int
    worked: int
    running_fraction: float
    elapsed_s: float

    @property
    def finished(self) -> int:
        return self.done + self.skipped + self.failed

    @property
    def fps(self) -> float:
        return self.frames / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def seconds_left(self) -> float | None:
        """Time left at this run's pace (jobs the workers finished, running ones counted in part);
        None before any job advanced."""
        worked = self.worked + self.running_fraction
        if worked <= 0 or self.elapsed_s <= 0:
            return None
        remaining = self.total - self.finished - self.running_fraction
        return max(0.0, remaining) * self.elapsed_s / worked

    def line(self) -> str:
        left = self.seconds_left()
        text = (f"batch {self.finished}/{self.total} videos: {self.done} done, {self.skipped} skipped, "
                f"{self.failed} failed, {self.running} running; {self.fps:.1f} frames/s")
        return text + (f", {format_duration(left)} left" if left is not None and self.finished < self.total else "")


def format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"


class ProgressDisplay:
    """Draws BatchProgress on ``stream``: one rewritten line on a terminal, else a line every
    ``interval_s`` seconds and at ``close``."""

    def __init__(self, stream: TextIO, interval_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval_s = interval_s
        self._clock = clock
        self._last = float("-inf")
        self._latest: BatchProgress | None = None
        self._shown: BatchProgress | None = None

    def __call__(self, progress: BatchProgress) -> None:
        self._latest = progress
        now = self._clock()
        if self.tty:
            self.stream.write("\r" + progress.line() + "\033[K")
            self._shown = progress
        elif now - self._last >= self.interval_s:
            self._last = now
            self.stream.write(progress.line() + "\n")
            self._shown = progress
        self.stream.flush()

    def close(self) -> None:
        """End the display with the latest state (once)."""
        if self.tty and self._latest is not None:
            self.stream.write("\r" + self._latest.line() + "\033[K\n")
        elif self._latest is not None and self._latest is not self._shown:
            self.stream.write(self._latest.line() + "\n")
        self._shown = self._latest
        self.stream.flush()
