"""A plain-text progress bar on stderr for the headless commands (no extra dependencies).

On a terminal it rewrites one line (``label [#####-----]  42/100  3.1 it/s``); in a log or a
pipe it writes a line every few seconds and one at the end, so CI logs stay short.
"""

from __future__ import annotations

import time
from typing import Callable, TextIO

_WIDTH = 30


class TerminalBar:
    """A core.types.ProgressCallback drawing ``done`` of ``total`` on ``stream``."""

    def __init__(self, stream: TextIO, label: str, interval_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.label = label
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.interval_s = interval_s
        self._clock = clock
        self._start = clock()
        self._last = float("-inf")
        self._ended = False

    def line(self, done: int, total: int, message: str = "") -> str:
        """The bar's text for ``done`` of ``total`` units."""
        fraction = min(1.0, done / total) if total > 0 else 0.0
        filled = int(round(fraction * _WIDTH))
        elapsed = max(self._clock() - self._start, 1e-9)
        rate = f"{done / elapsed:6.1f}/s"
        text = f"{self.label} [{'#' * filled}{'-' * (_WIDTH - filled)}] {done:>{len(str(total))}}/{total} {rate}"
        return f"{text} {message}".rstrip()

    def __call__(self, done: int, total: int, message: str = "") -> None:
        finished = total > 0 and done >= total
        now = self._clock()
        if self.tty:
            self.stream.write("\r" + self.line(done, total, message) + "\033[K")
            if finished:
                self.stream.write("\n")
        elif finished or now - self._last >= self.interval_s:
            self._last = now
            self.stream.write(self.line(done, total, message) + "\n")
        self.stream.flush()
