"""Download progress: the report a download sends (bytes, rate, time left) and how it is worded.

``Meter`` turns a stream of byte counts into throttled reports with a rate averaged over the
last few seconds, so that a window gets a steady, readable figure at most ten times a second.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report.

    done: bytes in the file so far (resumed bytes included); total: bytes of the whole file,
    None while the server has not said; rate: bytes per second over the last few seconds;
    eta: seconds left at that rate, None when unknown.
    """

    done: int
    total: int | None
    rate: float
    eta: float | None

    @property
    def fraction(self) -> float | None:
        return self.done / self.total if self.total else None

    @property
    def message(self) -> str:
        """``12.3 MB of 156.0 MB, 4.5 MB/s, 25 s left``"""
        parts = [f"{format_bytes(self.done)} of {format_bytes(self.total)}" if self.total else format_bytes(self.done)]
        if self.rate > 0:
            parts.append(f"{format_bytes(int(self.rate))}/s")
        if self.eta is not None:
            parts.append(f"{format_duration(self.eta)} left")
        return ", ".join(parts)


ProgressSink = Callable[[DownloadProgress], None]


def format_bytes(count: int | None) -> str:
    """Bytes in decimal units, as download sizes are usually shown: ``156.0 MB``."""
    if count is None:
        return "?"
    value = float(count)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop always returns


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``1 h 02 min``."""
    s = int(round(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {(s % 3600) // 60:02d} min"


class Meter:
    """Turns byte counts into throttled DownloadProgress reports (at most ten a second)."""

    WINDOW_S = 3.0
    INTERVAL_S = 0.1

    def __init__(self, sink: ProgressSink | None) -> None:
        self.sink = sink
        self.total: int | None = None
        self.samples: deque[tuple[float, int]] = deque()
        self.last_report = 0.0

    def start(self, done: int, total: int | None) -> None:
        self.total = total
        self.samples.clear()
        self.samples.append((time.monotonic(), done))
        self._report(done, force=True)

    def update(self, done: int) -> None:
        now = time.monotonic()
        self.samples.append((now, done))
        while len(self.samples) > 2 and now - self.samples[0][0] > self.WINDOW_S:
            self.samples.popleft()
        self._report(done)

    def finish(self, total: int) -> None:
        self.total = total
        self._report(total, force=True)

    def _report(self, done: int, force: bool = False) -> None:
        now = time.monotonic()
        if self.sink is None or (not force and now - self.last_report < self.INTERVAL_S):
            return
        self.last_report = now
        rate = 0.0
        if len(self.samples) > 1:
            (t0, b0), (t1, b1) = self.samples[0], self.samples[-1]
            rate = (b1 - b0) / (t1 - t0) if t1 > t0 else 0.0
        eta = (self.total - done) / rate if self.total is not None and rate > 0 else None
        self.sink(DownloadProgress(done=done, total=self.total, rate=rate, eta=eta))
