"""The timeline under the canvas: one lane per object, from 24 frames to an hour of video.

A strip of frame thumbnails (ui.thumbnail_strip, decoded off the GUI thread) runs above the lanes.
A lane shows where the object was prompted, propagated, edited by hand, imported or absent, its
lock and review marks, SAM 2's confidence along its bottom (red: suspect, annotator.suspect) and
the reviewer's notes. Lanes are drawn from run-length summaries (annotator.lane_runs), so a
repaint costs the same on a long video as on a short one.

Zoom: Ctrl+wheel (at the cursor), the +/- actions (at the playhead), fit, or a scale in pixels a
frame (ui.timeline_zoom); Shift+wheel scrolls sideways and the view follows the playhead.
Click or drag to seek, Shift+drag to select a frame range; hover a cell for its details; the
right button asks for the context menu (ui.timeline_menu).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (QColor, QContextMenuEvent, QHelpEvent, QMouseEvent, QPainter, QPaintEvent, QResizeEvent,
                           QWheelEvent)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from annotator.frame_table import FrameTable
from annotator.lane_runs import LaneRuns
from annotator.session_controller import SessionController
from annotator.suspect import SuspectThresholds
from ui.thumbnail_strip import ThumbnailStrip
from ui.timeline_lanes import LaneStore
from ui.timeline_model import cell_text
from ui.timeline_paint import LANE_H, SELECTION, paint_names, paint_note, paint_playhead, paint_ruler
from ui.timeline_zoom import ZOOM_STEP, TimelineView

LABEL_W = 120
RULER_H = 18
THUMB_H = 36  # thumbnail strip height, pixels
LANES_TOP = RULER_H + THUMB_H + 2
BACKGROUND = QColor(36, 36, 40)
WHEEL_NOTCH = 120  # Qt's angle delta of one wheel notch


class Timeline(QWidget):
    """Signals: rangeChanged(first, last) with -1, -1 when the selection is cleared; viewChanged()
    after a zoom or scroll; contextRequested(obj_id (0: none), frame, global position)."""

    rangeChanged = Signal(int, int)
    viewChanged = Signal()
    contextRequested = Signal(int, int, QPoint)

    def __init__(self, session: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.session = session
        self.view = TimelineView()
        self.store = LaneStore()
        self.selection: tuple[int, int] | None = None
        self._anchor: int | None = None
        self.thumbnails = ThumbnailStrip(THUMB_H, self)
        self.thumbnails.changed.connect(self.update)
        session.model_status.busyChanged.connect(self.thumbnails.hold)  # a waiting annotator comes first
        self.setMinimumHeight(LANES_TOP + LANE_H + 4)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        doc = session.doc
        doc.documentReset.connect(self.rebuild)
        doc.objectsChanged.connect(self._on_objects)
        doc.masksChanged.connect(self._on_masks)
        session.frameChanged.connect(self._on_frame)
        session.currentObjectChanged.connect(self.update)
        session.videoChanged.connect(self.rebuild)
        session.videoChanged.connect(self._on_video)
        self.rebuild()
        self._on_video()

    # -- data ------------------------------------------------------------------------------
    @property
    def lanes(self) -> dict[int, FrameTable]:
        return self.store.tables

    @property
    def thresholds(self) -> SuspectThresholds:
        return self.store.thresholds

    def frame_count(self) -> int:
        return self.session.frame_count()

    def rebuild(self) -> None:
        """Every lane again (a new document or video)."""
        n = self.frame_count()
        self.store.rebuild(self.session.doc.document, [r.obj_id for r in self.session.doc.objects()], n)
        if self.selection and n and self.selection[1] >= n:
            self.clear_selection()
        self._relayout()

    def _on_objects(self) -> None:
        self.store.sync_objects(self.session.doc.document, [r.obj_id for r in self.session.doc.objects()],
                                self.frame_count())
        self._relayout()

    def _on_masks(self, obj_id: int, frames: frozenset) -> None:
        if self.store.update(self.session.doc.document, obj_id, list(frames)):
            self.update()
        elif self.session.doc.has_object(obj_id):
            self._on_objects()

    def runs(self, obj_id: int) -> LaneRuns:
        """The lane's run-length summary, made again only after the lane changed."""
        return self.store.runs(obj_id)

    def set_thresholds(self, thresholds: SuspectThresholds) -> None:
        """The suspect rule's thresholds (Preferences), shared with `J`."""
        if self.store.set_thresholds(thresholds):
            self.update()

    def _relayout(self) -> None:
        self.setMinimumHeight(LANES_TOP + LANE_H * max(1, len(self.lanes)) + 4)
        self._sync_view()
        self.update()

    def _on_video(self) -> None:
        """Thumbnails of the session's (new) frame source; none when no video is open."""
        self.view.fit()
        self._sync_view()
        self.thumbnails.set_source(self.session.frames)

    # -- view ------------------------------------------------------------------------------
    def track_rect(self) -> QRectF:
        return QRectF(LABEL_W, 0, max(1, self.width() - LABEL_W - 4), self.height())

    def _sync_view(self, changed: bool = True) -> None:
        self.view.resize(self.frame_count(), self.track_rect().width())
        self.thumbnails.set_track_width(self.track_rect().width())
        fitted = self.view.fitted
        self.thumbnails.set_span(0.0 if fitted else self.view.first, None if fitted else self.view.visible_frames)
        if changed:
            self.viewChanged.emit()
        self.update()

    def frame_at(self, x: float) -> int:
        """The frame under widget x (clamped to the video)."""
        return self.view.frame_at(x - LABEL_W)

    def x_of(self, frame: float) -> float:
        return LABEL_W + self.view.x_of(frame)

    def zoom(self, factor: float, anchor_x: float | None = None) -> None:
        """Zoom by ``factor`` keeping the frame under widget x ``anchor_x`` in place (default: the
        playhead when it is in view, else the middle)."""
        self.view.zoom(factor, *self._anchor_at(anchor_x))
        self._sync_view()

    def set_px_per_frame(self, px: float) -> None:
        self.view.set_scale(px, *self._anchor_at(None))
        self._sync_view()

    def fit(self) -> None:
        self.view.fit()
        self._sync_view()

    def scroll_to(self, first: float) -> None:
        self.view.scroll_to(first)
        self._sync_view()

    def _anchor_at(self, anchor_x: float | None) -> tuple[float | None, float | None]:
        if anchor_x is not None:
            x = anchor_x - LABEL_W
            return self.view.first + x / self.view.px_per_frame, x
        x = self.view.x_of(self.session.frame + 0.5)
        if 0 <= x <= self.view.width:
            return self.session.frame + 0.5, x
        return None, None

    def _on_frame(self, frame: int) -> None:
        if self.view.keep_visible(frame):
            self._sync_view()
        self.update()

    def set_selection(self, first: int, last: int) -> None:
        """Select frames first..last (inclusive, clamped to the video); a range entered as numbers."""
        n = self.frame_count()
        if n == 0:
            return
        a, b = sorted((max(0, min(n - 1, first)), max(0, min(n - 1, last))))
        self.selection = (a, b)
        self.rangeChanged.emit(a, b)
        self.update()

    def clear_selection(self) -> None:
        self.selection = None
        self.rangeChanged.emit(-1, -1)
        self.update()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        self._sync_view()

    # -- where things are ------------------------------------------------------------------
    def object_at(self, y: float) -> int | None:
        """The object whose lane is at widget y, None above or below the lanes."""
        row = int((y - LANES_TOP) // LANE_H) if y >= LANES_TOP else -1
        records = self.session.doc.objects()
        return records[row].obj_id if 0 <= row < len(records) else None

    def tooltip_at(self, pos: QPoint) -> str:
        """The text shown when hovering ``pos`` (a lane cell's details, a frame number on the ruler)."""
        if self.frame_count() == 0 or pos.x() < LABEL_W:
            obj_id = self.object_at(pos.y())
            return self.session.doc.object(obj_id).name if obj_id is not None else ""
        frame = self.frame_at(pos.x())
        obj_id = self.object_at(pos.y())
        if obj_id is None or obj_id not in self.lanes:
            return f"Frame {frame}"
        column = None
        if self.view.px_per_frame < 1:
            x = pos.x() - LABEL_W
            column = (self.view.frame_at(x), self.view.frame_at(x + 0.999))
        return cell_text(self.session.doc.object(obj_id), self.lanes[obj_id], frame, self.thresholds, column)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip:
            help_event: QHelpEvent = event  # type: ignore[assignment]
            text = self.tooltip_at(help_event.pos())
            if text:
                QToolTip.showText(help_event.globalPos(), text, self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.frame_count() == 0 or event.button() != Qt.MouseButton.LeftButton:
            return
        frame = self.frame_at(event.position().x())
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._anchor = frame
            self.set_selection(frame, frame)
        else:
            self._anchor = None
            self.session.set_frame(frame)
        self.update()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.frame_count() == 0 or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        frame = self.frame_at(event.position().x())
        if self._anchor is not None:
            self.set_selection(self._anchor, frame)
        else:
            self.session.set_frame(frame)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        self._anchor = None

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        delta = event.angleDelta()
        mods = event.modifiers()
        if self.frame_count() == 0:
            event.ignore()
        elif mods & Qt.KeyboardModifier.ControlModifier and delta.y():
            self.zoom(ZOOM_STEP ** (delta.y() / WHEEL_NOTCH), event.position().x())
        elif delta.x() or mods & Qt.KeyboardModifier.ShiftModifier:
            step = delta.x() or delta.y()  # Shift+wheel: sideways
            self.scroll_to(self.view.first - step / WHEEL_NOTCH * 60 / self.view.px_per_frame)
        else:
            event.ignore()  # the scroll area scrolls the lanes up and down

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        if self.frame_count() == 0 or event.pos().x() < LABEL_W:
            return
        self.contextRequested.emit(self.object_at(event.pos().y()) or 0, self.frame_at(event.pos().x()),
                                   event.globalPos())

    # -- painting --------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), BACKGROUND)
        n = self.frame_count()
        if n == 0:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Open a video to see its timeline")
            return
        rect, view = self.track_rect(), self.view
        records = self.session.doc.objects()
        p.setClipRect(rect)
        paint_ruler(p, rect.left(), rect.width(), RULER_H, view.first, view.px_per_frame, n)
        self.thumbnails.paint(p, rect.left(), RULER_H + 1)
        laned = [r for r in records if r.obj_id in self.lanes]  # every object has a lane; to be safe
        images = self.store.images(laned, view, int(rect.width()), BACKGROUND)
        p.drawImage(QPointF(rect.left(), LANES_TOP), images.body)
        if self.selection is not None:
            a, b = self.selection
            p.fillRect(QRectF(self.x_of(a), 0, max(1.0, self.x_of(b + 1) - self.x_of(a)), self.height()), SELECTION)
        frame = self.session.frame
        paint_playhead(p, self.x_of(frame), self.x_of(frame + 1), RULER_H, self.height(), RULER_H)
        last_visible = view.first + view.visible_frames
        p.drawImage(QPointF(rect.left(), LANES_TOP), images.marks)  # over the playhead: a lock stays visible under it
        for row, record in enumerate(records):
            top = LANES_TOP + row * LANE_H
            for note_frame in record.notes:
                if view.first - 1 <= note_frame <= last_visible:
                    paint_note(p, self.x_of(note_frame), top)
        p.setClipping(False)
        paint_names(p, records, self.session.current_obj, LABEL_W, LANES_TOP, self.height(), BACKGROUND)
