"""The timeline under the canvas: one lane per object over all frames.

A strip of frame thumbnails (ui.thumbnail_strip, decoded off the GUI thread) runs above the lanes.
A lane shows where the object was prompted, propagated, edited by hand, imported, locked or
absent, with SAM 2's confidence as a strip along its bottom. Click or drag to seek, Shift+drag
to select a frame range (used by "propagate over range"); the current frame is a red line.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from annotator.session_controller import SessionController
from ui.thumbnail_strip import ThumbnailStrip
from ui.timeline_model import Lane, LaneState, columns

LABEL_W = 120
RULER_H = 18
LANE_H = 20
CONF_H = 4
THUMB_H = 36  # thumbnail strip height, pixels
LANES_TOP = RULER_H + THUMB_H + 2
BACKGROUND = QColor(36, 36, 40)


def state_color(state: int, color: tuple[int, int, int]) -> QColor | None:
    """How a lane cell of ``state`` is filled for an object of ``color``."""
    r, g, b = color
    if state == LaneState.NONE:
        return None
    if state == LaneState.ABSENT:
        return QColor(80, 80, 86)
    if state == LaneState.PROPAGATED:
        return QColor(r, g, b, 130)
    if state == LaneState.IMPORTED:
        return QColor(r, g, b, 90)
    if state == LaneState.PROMPTED:
        return QColor(r, g, b, 255)
    return QColor(255, 255, 255)  # edited by hand: white, whatever the object's colour


def confidence_color(iou: float) -> QColor:
    """Green for confident, through yellow, to red for IoU 0.5 and below."""
    t = float(np.clip((iou - 0.5) / 0.5, 0.0, 1.0))
    return QColor(int(230 * (1 - t) + 40 * t), int(60 * (1 - t) + 200 * t), 60)


class Timeline(QWidget):
    """Signal: rangeChanged(first: int, last: int) with -1, -1 when the selection is cleared."""

    rangeChanged = Signal(int, int)

    def __init__(self, session: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.session = session
        self.lanes: dict[int, Lane] = {}
        self.selection: tuple[int, int] | None = None
        self._anchor: int | None = None
        self.thumbnails = ThumbnailStrip(THUMB_H, self)
        self.thumbnails.changed.connect(self.update)
        session.model_status.busyChanged.connect(self.thumbnails.hold)  # a waiting annotator comes first
        self.setMinimumHeight(LANES_TOP + LANE_H + 4)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(False)
        doc = session.doc
        doc.documentReset.connect(self.rebuild)
        doc.objectsChanged.connect(self.rebuild)
        doc.masksChanged.connect(self._on_masks)
        session.frameChanged.connect(lambda frame: self.update())
        session.videoChanged.connect(self.rebuild)
        session.videoChanged.connect(self._on_video)
        self.rebuild()
        self._on_video()

    # -- data ------------------------------------------------------------------------------
    def frame_count(self) -> int:
        return self.session.frame_count()

    def rebuild(self) -> None:
        n, doc = self.frame_count(), self.session.doc.document
        self.lanes = {}
        for record in self.session.doc.objects():
            lane = Lane.empty(n)
            lane.update(doc, record.obj_id)
            self.lanes[record.obj_id] = lane
        if self.selection and n and self.selection[1] >= n:
            self.clear_selection()
        self.setMinimumHeight(LANES_TOP + LANE_H * max(1, len(self.lanes)) + 4)
        self.update()

    def _on_video(self) -> None:
        """Thumbnails of the session's (new) frame source; none when no video is open."""
        self.thumbnails.set_source(self.session.frames)
        self.thumbnails.set_track_width(self.track_rect().width())

    def _on_masks(self, obj_id: int, frames: frozenset) -> None:
        lane = self.lanes.get(obj_id)
        if lane is None:
            self.rebuild()
            return
        lane.update(self.session.doc.document, obj_id, list(frames))
        self.update()

    # -- geometry --------------------------------------------------------------------------
    def track_rect(self) -> QRectF:
        return QRectF(LABEL_W, 0, max(1, self.width() - LABEL_W - 4), self.height())

    def frame_at(self, x: float) -> int:
        """The frame under widget x (clamped to the video)."""
        n = self.frame_count()
        rect = self.track_rect()
        frame = int((x - rect.left()) / rect.width() * n)
        return int(np.clip(frame, 0, max(0, n - 1)))

    def x_of(self, frame: float) -> float:
        rect = self.track_rect()
        return rect.left() + frame / max(1, self.frame_count()) * rect.width()

    def clear_selection(self) -> None:
        self.selection = None
        self.rangeChanged.emit(-1, -1)
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self.thumbnails.set_track_width(self.track_rect().width())

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.frame_count() == 0 or event.button() != Qt.MouseButton.LeftButton:
            return
        frame = self.frame_at(event.position().x())
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = frame
            self.selection = (frame, frame)
            self.rangeChanged.emit(frame, frame)
        else:
            self._anchor = None
            self.session.set_frame(frame)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.frame_count() == 0 or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        frame = self.frame_at(event.position().x())
        if self._anchor is not None:
            self.selection = (min(self._anchor, frame), max(self._anchor, frame))
            self.rangeChanged.emit(*self.selection)
        else:
            self.session.set_frame(frame)
        self.update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._anchor = None

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        n = self.frame_count()
        if n == 0:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Open a video to see its timeline")
            return
        rect = self.track_rect()
        self._paint_ruler(p, rect, n)
        self.thumbnails.paint(p, rect.left(), RULER_H + 1)
        records = self.session.doc.objects()
        for row, record in enumerate(records):
            top = LANES_TOP + row * LANE_H
            lane = self.lanes.get(record.obj_id)
            selected = record.obj_id == self.session.current_obj
            p.setPen(QColor(255, 255, 255) if selected else QColor(190, 190, 190))
            p.fillRect(QRectF(4, top + 5, 10, 10), QColor(*record.color))
            name = p.fontMetrics().elidedText(record.name, Qt.TextElideMode.ElideRight, LABEL_W - 22)
            p.drawText(QRectF(18, top, LABEL_W - 22, LANE_H), Qt.AlignmentFlag.AlignVCenter, name)
            if lane is not None:
                self._paint_lane(p, rect, top, lane, record.color)
        if self.selection is not None:
            a, b = self.selection
            p.fillRect(QRectF(self.x_of(a), 0, self.x_of(b + 1) - self.x_of(a), self.height()), QColor(120, 170, 255, 60))
        x = self.x_of(self.session.frame + 0.5)
        p.setPen(QPen(QColor(255, 60, 60), 2))
        p.drawLine(int(x), 0, int(x), self.height())

    def _paint_ruler(self, p: QPainter, rect: QRectF, n: int) -> None:
        p.setPen(QColor(140, 140, 140))
        step = max(1, int(10 ** np.ceil(np.log10(max(1.0, n / 10)))))
        if n / step < 4:
            step = max(1, step // 5)
        for frame in range(0, n, step):
            x = self.x_of(frame)
            p.drawLine(int(x), RULER_H - 5, int(x), RULER_H)
            p.drawText(int(x) + 2, RULER_H - 6, str(frame))

    def _paint_lane(self, p: QPainter, rect: QRectF, top: float, lane: Lane, color: tuple[int, int, int]) -> None:
        n = len(lane.states)
        width = int(rect.width())
        if n > width:
            states, locked = columns(lane.states, width, "max"), columns(lane.locked.astype(np.int8), width, "max")
            iou = columns(lane.iou, width, "min")
            xs = rect.left() + np.arange(width + 1, dtype=float)
        else:
            states, locked, iou = lane.states, lane.locked, lane.iou
            xs = rect.left() + np.arange(n + 1, dtype=float) / max(1, n) * rect.width()
        body_h = LANE_H - CONF_H - 3
        p.fillRect(QRectF(rect.left(), top + 1, rect.width(), LANE_H - 2), QColor(46, 46, 52))
        for i in np.flatnonzero(states):
            fill = state_color(int(states[i]), color)
            x0, w = xs[i], max(1.0, xs[i + 1] - xs[i])
            p.fillRect(QRectF(x0, top + 1, w, body_h), fill)
            if locked[i]:
                p.fillRect(QRectF(x0, top + 1, w, 3), QColor(90, 160, 255))
            if not np.isnan(iou[i]):
                p.fillRect(QRectF(x0, top + 1 + body_h + 1, w, CONF_H), confidence_color(float(iou[i])))
