"""Decodes the frame to show on a background thread, so a seek in a long video never freezes the window.

Only the newest request matters: while one frame decodes, any number of newer requests collapse
into the last one (scrubbing the slider decodes what the eye can follow, not every frame passed).
The loader is the only reader of the window's frame source; the model worker has its own.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.types import FrameSource
from ui.background import LatestWorkThread


class FrameLoader(LatestWorkThread):
    """Signals: loaded(frame: int, image: (H, W, 3) uint8 RGB); failed(message: str)."""

    loaded = Signal(int, object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("masklet-frame-loader", parent)
        self._request: tuple[FrameSource, int] | None = None
        self._start()

    def request(self, source: FrameSource, frame: int) -> None:
        """Decode ``frame`` of ``source`` next, replacing any request not started yet."""
        with self._cond:
            self._request = (source, frame)
            self._cond.notify()

    def _ready(self) -> bool:
        return self._request is not None

    def _take(self) -> tuple[FrameSource, int]:
        item, self._request = self._request, None
        assert item is not None
        return item

    def _drop(self) -> None:
        self._request = None

    def _compute(self, item: tuple[FrameSource, int]) -> tuple[object, str]:
        source, frame = item
        try:
            return source.get(frame), ""
        except Exception as exc:  # a closed or broken source: one line, the loop goes on
            return None, f"cannot show frame {frame}: {exc}".splitlines()[0]

    def _wanted(self, item: tuple[FrameSource, int]) -> bool:
        return self._request is None  # not superseded by a newer request

    def _deliver(self, item: tuple[FrameSource, int], result: tuple[object, str]) -> None:
        image, message = result
        if image is not None:
            self.loaded.emit(item[1], image)
        else:
            self.failed.emit(message)
