"""The row of frame thumbnails along the top of the timeline, decoded on a loader thread.

The strip splits the track into as many equal slots as thumbnails of ``height`` pixels fit, and
shows in each the frame under the slot's centre. Thumbnails come from ``source.thumbnail``
(cached by the frame source, which locks its decoder, so this thread and the canvas's frame
loader can both read it) and are painted as they arrive. A new layout (resize, another video)
replaces the job in progress: thumbnails already decoded for frames still shown are kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRectF, QTimer, Signal
from PySide6.QtGui import QImage, QPainter

from core.types import FrameSource
from ui.background import LatestWorkThread

RELAYOUT_DELAY_MS = 120  # a window resize sends many events; lay out once it settles


@dataclass(frozen=True)
class StripLayout:
    """Which frames the strip shows: ``frames[k]`` in slot k of ``slot_w`` pixels; thumbnails
    ``height`` pixels high."""

    frames: tuple[int, ...]
    slot_w: float
    height: int


def strip_layout(frame_count: int, frame_w: int, frame_h: int, track_w: float, height: int,
                 first: float = 0.0, visible: float | None = None) -> StripLayout:
    """As many slots as thumbnails of ``height`` px fit in ``track_w`` px (at most one a frame).

    frame_w, frame_h: the video's size in pixels. The track shows ``visible`` frames (default: all)
    from frame ``first`` (the timeline's zoom, ui.timeline_zoom); slot k shows the frame under its centre.
    """
    if frame_count <= 0 or track_w < 1 or height < 1 or frame_h <= 0:
        return StripLayout((), 0.0, height)
    visible = float(frame_count) if visible is None else max(1e-6, float(visible))
    thumb_w = max(1, round(frame_w * height / frame_h))
    slots = int(min(max(1, round(visible)), max(1, track_w // thumb_w)))
    frames = tuple(min(frame_count - 1, int(first + (k + 0.5) / slots * visible)) for k in range(slots))
    return StripLayout(frames, track_w / slots, height)


def thumbnail_of(source: FrameSource, frame: int, height: int) -> np.ndarray:
    """(height, w, 3) uint8 RGB: the source's own (cached, area-filtered) thumbnail where it has one,
    else the full frame sampled down to ``height`` rows (sources in tests, plain FrameSources)."""
    make = getattr(source, "thumbnail", None)
    if make is not None:
        return make(frame, height)
    image = source.get(frame)
    h, w = image.shape[:2]
    width = max(1, round(w * height / h))
    rows = (np.arange(height) * h // height).clip(0, h - 1)
    cols = (np.arange(width) * w // width).clip(0, w - 1)
    return np.ascontiguousarray(image[rows][:, cols])


def to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> a QImage owning its pixels (safe to build off the GUI thread)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ThumbnailLoader(LatestWorkThread):
    """Decodes a list of thumbnails on its own thread; a new job replaces the one in progress.

    Signal: loaded(job: int, frame: int, image: QImage); the receiver drops stale jobs.
    """

    loaded = Signal(int, int, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("masklet-thumbnails", parent)
        self._job: tuple[int, FrameSource, list[int], int] | None = None  # id, source, frames left, height
        self._held = False
        self._start()

    def request(self, job: int, source: FrameSource, frames: list[int], height: int) -> None:
        with self._cond:
            self._job = (job, source, list(frames), height) if frames else None
            self._cond.notify()

    def cancel(self) -> None:
        with self._cond:
            self._job = None

    def hold(self, held: bool) -> None:
        """While held, no new thumbnail starts (the one decoding finishes); the job waits."""
        with self._cond:
            self._held = held
            self._cond.notify()

    def idle(self) -> bool:
        with self._cond:
            return self._job is None and not self._busy

    def _ready(self) -> bool:
        return self._job is not None and not self._held

    def _take(self) -> tuple[int, FrameSource, int, int]:
        assert self._job is not None
        job, source, frames, height = self._job
        frame = frames.pop(0)
        if not frames:
            self._job = None
        return job, source, frame, height

    def _drop(self) -> None:
        self._job = None

    def _compute(self, item: tuple[int, FrameSource, int, int]) -> QImage | None:
        _, source, frame, height = item
        try:
            return to_qimage(thumbnail_of(source, frame, height))
        except Exception:  # noqa: BLE001 - a source closed under us: that thumbnail stays blank
            return None

    def _wanted(self, item: tuple[int, FrameSource, int, int]) -> bool:
        return self._job is None or self._job[0] == item[0]

    def _deliver(self, item: tuple[int, FrameSource, int, int], image: QImage | None) -> None:
        if image is not None:
            self.loaded.emit(item[0], item[2], image)


class ThumbnailStrip(QObject):
    """The strip's state for one widget: the layout, the thumbnails so far, and the loader.

    Signal: changed() when a thumbnail arrives or the strip is cleared (the widget repaints).
    """

    changed = Signal()

    def __init__(self, height: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.height = height
        self.source: FrameSource | None = None
        self.layout = StripLayout((), 0.0, height)
        self.images: dict[int, QImage] = {}  # frame -> thumbnail, for frames in the layout
        self._track_w = 0.0
        self._span: tuple[float, float | None] = (0.0, None)  # first frame, frames in view (None: all)
        self._job = 0
        self.loader = ThumbnailLoader(self)
        self.loader.loaded.connect(self._on_loaded)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(RELAYOUT_DELAY_MS)
        self._timer.timeout.connect(self.relayout)

    def set_source(self, source: FrameSource | None) -> None:
        """Show ``source`` (None: the video closed, the strip empties)."""
        self.source = source
        self._job += 1
        self.loader.cancel()
        self.images, self.layout = {}, StripLayout((), 0.0, self.height)
        self.changed.emit()
        if source is not None:
            self._timer.start()

    def set_track_width(self, width: float) -> None:
        """The track is ``width`` px wide now; lay out again once resizing settles."""
        if width != self._track_w:
            self._track_w = width
            if self.source is not None:
                self._timer.start()

    def set_span(self, first: float, visible: float | None) -> None:
        """The track shows ``visible`` frames from ``first`` now (None: the whole video)."""
        if (first, visible) != self._span:
            self._span = (first, visible)
            if self.source is not None:
                self._timer.start()

    def relayout(self) -> None:
        """Recompute the slots and ask the loader for the thumbnails not decoded yet."""
        source = self.source
        if source is None:
            return
        info = source.info
        layout = strip_layout(len(source), info.width, info.height, self._track_w, self.height, *self._span)
        if layout == self.layout:
            return
        self.layout = layout
        self.images = {f: img for f, img in self.images.items() if f in layout.frames}
        self._job += 1
        self.loader.request(self._job, source, [f for f in layout.frames if f not in self.images], self.height)
        self.changed.emit()

    def complete(self) -> bool:
        """True when every slot of the layout has its thumbnail."""
        return bool(self.layout.frames) and all(f in self.images for f in self.layout.frames)

    def paint(self, p: QPainter, left: float, top: float) -> None:
        """Draw the thumbnails so far, each centred in its slot, the strip's top-left at (left, top)."""
        for k, frame in enumerate(self.layout.frames):
            image = self.images.get(frame)
            if image is None:
                continue
            x = left + k * self.layout.slot_w + (self.layout.slot_w - image.width()) / 2
            p.drawImage(QRectF(x, top, image.width(), image.height()), image)

    def hold(self, held: bool) -> None:
        """Pause decoding while the model computes what the annotator waits for: on two cores
        the decoder's threads took 0.3 to 0.5 s from a first click's 2 s."""
        self.loader.hold(held)

    def stop(self) -> None:
        self._timer.stop()
        self.loader.stop()

    def _on_loaded(self, job: int, frame: int, image: QImage) -> None:
        if job != self._job or frame not in self.layout.frames:
            return
        self.images[frame] = image
        self.changed.emit()
