"""Read-ahead: decode the frames a caller will want next on a background thread, into the cache.

Plain ``threading`` (no Qt). The thread works through the most recent request only: a
propagation moving on asks again with the next frames and older wishes are dropped. The
frame source gives the caller priority: the loader is told to stop between two frames as
soon as the caller wants the decoder, and the interrupted frame is tried again afterwards.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Callable, Sequence

from core.types import CancelCheck

# load(index, stop) decodes one frame into the cache; False when it stopped early.
Loader = Callable[[int, CancelCheck], bool]


class ReadAhead:
    """One daemon thread that runs ``load`` for each requested frame index, in order."""

    def __init__(self, load: Loader, is_cached: Callable[[int], bool], name: str = "masklet-readahead") -> None:
        self._load = load
        self._is_cached = is_cached
        self._name = name
        self._pending: deque[int] = deque()
        self._cond = threading.Condition()
        self._busy = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None  # last failure, kept for diagnosis; get() reports its own

    def request(self, indices: Sequence[int]) -> None:
        """Replace the pending work with ``indices`` (decoded in this order)."""
        with self._cond:
            if self._closed:
                return
            self._pending = deque(int(i) for i in indices)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def cancel(self) -> None:
        """Drop the pending work (the frame being decoded now still finishes or stops early)."""
        with self._cond:
            self._pending.clear()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until nothing is pending or being decoded; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: self._closed or (not self._pending and not self._busy), timeout)

    @property
    def pending(self) -> int:
        with self._cond:
            return len(self._pending)

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread: the frame in progress stops at its next frame boundary."""
        with self._cond:
            self._closed = True
            self._pending.clear()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _stopped(self) -> bool:
        return self._closed

    def _run(self) -> None:
        while True:
            with self._cond:
                self._busy = False
                self._cond.notify_all()
                self._cond.wait_for(lambda: self._closed or bool(self._pending))
                if self._closed:
                    return
                index = self._pending.popleft()
                self._busy = True
            if self._is_cached(index):
                continue
            try:
                done = self._load(index, self._stopped)
            except Exception as exc:  # noqa: BLE001 - a bad frame must not kill read-ahead; get() reports it
                self.error = exc
                continue
            if not done:
                with self._cond:
                    if not self._closed:
                        self._pending.appendleft(index)
