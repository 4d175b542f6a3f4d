"""Decodes the frame to show on a background thread, so a seek in a long video never freezes the window.

Only the newest request matters: while one frame decodes, any number of newer requests collapse
into the last one (scrubbing the slider decodes what the eye can follow, not every frame passed).
The loader is the only reader of the window's frame source; the model worker has its own.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from core.types import FrameSource


class FrameLoader(QObject):
    """Signals: loaded(frame: int, image: (H, W, 3) uint8 RGB); failed(message: str)."""

    loaded = Signal(int, object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._wanted: tuple[FrameSource, int] | None = None
        self._busy = False
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="masklet-frame-loader", daemon=True)
        self._thread.start()

    def request(self, source: FrameSource, frame: int) -> None:
        """Decode ``frame`` of ``source`` next, replacing any request not started yet."""
        with self._cond:
            self._wanted = (source, frame)
            self._cond.notify()

    def idle(self) -> bool:
        """True when nothing is waiting or decoding."""
        with self._cond:
            return self._wanted is None and not self._busy

    def stop(self, timeout: float = 5.0) -> None:
        with self._cond:
            self._stopped = True
            self._wanted = None
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while self._wanted is None and not self._stopped:
                    self._cond.wait()
                if self._stopped:
                    return
                source, frame = self._wanted
                self._wanted, self._busy = None, True
            try:
                image = source.get(frame)
            except Exception as exc:  # a closed or broken source: one line, the loop goes on
                message = f"cannot show frame {frame}: {exc}".splitlines()[0]
                image = None
            with self._cond:
                self._busy = False
                superseded = self._wanted is not None or self._stopped
            if image is not None and not superseded:
                self.loaded.emit(frame, image)
            elif image is None and not superseded:
                self.failed.emit(message)
