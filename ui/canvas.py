"""The frame canvas: the video frame, the mask overlay, prompt markers, the box being dragged.

A QGraphicsView whose scene units are image pixels (the frame sits at the origin at scale 1),
so mapping a mouse position to the image is ``mapToScene``. Zoom with the wheel (to the
cursor), pan with the middle button or Ctrl+drag, fit with :meth:`fit`. Mouse gestures go
to the active tool (``canvas.tool``), which turns them into edits; the canvas never edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np
from PySide6.QtCore import QPoint, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush, QColor, QContextMenuEvent, QCursor, QImage, QMouseEvent, QPainter, QPen, QPixmap, QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsEllipseItem, QGraphicsItemGroup, QGraphicsPixmapItem, QGraphicsRectItem, QGraphicsScene,
    QGraphicsView, QWidget,
)

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.05, 40.0


MARKER_KIND = 0  # QGraphicsItem data key: "click", "pending" or "halo"


@dataclass(frozen=True)
class Marker:
    """A prompt click to draw: x, y image pixels; positive (green) or negative (red); pending:
    sent to SAM 2, its mask not back yet (drawn as a ring)."""

    x: float
    y: float
    positive: bool
    pending: bool = False


class CanvasTool(Protocol):
    """What the canvas hands mouse gestures to; positions are image pixels."""

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None: ...
    def move(self, pos: QPointF, buttons: Qt.MouseButton) -> None: ...
    def release(self, pos: QPointF, button: Qt.MouseButton) -> None: ...


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """(H, W, 3) uint8 RGB -> QImage (a copy, so the array can go)."""
    rgb = np.ascontiguousarray(rgb)
    h, w, _ = rgb.shape
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


def rgba_to_qimage(rgba: np.ndarray) -> QImage:
    """(H, W, 4) uint8 straight-alpha RGBA -> QImage (a copy)."""
    rgba = np.ascontiguousarray(rgba)
    h, w, _ = rgba.shape
    return QImage(rgba.data, w, h, 4 * w, QImage.Format.Format_RGBA8888).copy()


class Canvas(QGraphicsView):
    """Signals: zoomChanged(scale: float); cursorMoved(x: float, y: float) in image pixels;
    menuRequested(x: float, y: float, global_pos: QPoint): the context menu of image pixel (x, y),
    asked for with a right click the tool leaves free (``CanvasTool.wants_menu``) or the Menu key."""

    zoomChanged = Signal(float)
    cursorMoved = Signal(float, float)
    menuRequested = Signal(float, float, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("canvas")
        self._scene = QGraphicsScene(self)
        self.setScene(self._scene)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor(32, 32, 36))
        self.setMouseTracking(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAcceptDrops(False)  # files dropped here reach the main window
        self.image_item = QGraphicsPixmapItem()
        self.overlay_item = QGraphicsPixmapItem()
        self.overlay_item.setZValue(1)
        self.markers = QGraphicsItemGroup()
        self.markers.setZValue(2)
        self.band = QGraphicsRectItem()
        self.band.setZValue(3)
        self.band.setPen(QPen(QColor(255, 255, 255), 0, Qt.PenStyle.DashLine))
        self.band.setBrush(QBrush(QColor(255, 255, 255, 40)))
        self.band.hide()
        self.brush_cursor = QGraphicsEllipseItem()
        self.brush_cursor.setZValue(4)
        # dark with a light dashed ring on top: visible on light and dark frames alike
        self.brush_cursor.setPen(QPen(QColor(0, 0, 0), 0))
        self._brush_ring = QGraphicsEllipseItem(self.brush_cursor)
        self._brush_ring.setPen(QPen(QColor(255, 255, 255), 0, Qt.PenStyle.DashLine))
        self.brush_cursor.hide()
        for item in (self.image_item, self.overlay_item, self.markers, self.band, self.brush_cursor):
            self._scene.addItem(item)
        self.tool: CanvasTool | None = None
        self._image_size: tuple[int, int] = (0, 0)  # (width, height)
        self._pan_from: QPointF | None = None
        self._fitted = True

    # -- content ---------------------------------------------------------------------------
    def set_image(self, rgb: np.ndarray) -> None:
        """Show a frame, (H, W, 3) uint8 RGB. The view keeps its zoom unless the size changed."""
        h, w = rgb.shape[:2]
        self.image_item.setPixmap(QPixmap.fromImage(rgb_to_qimage(rgb)))
        if (w, h) != self._image_size:
            self._image_size = (w, h)
            self._scene.setSceneRect(QRectF(0, 0, w, h))
            self.fit()

    def clear_image(self) -> None:
        self.image_item.setPixmap(QPixmap())
        self.overlay_item.setPixmap(QPixmap())
        self.set_markers([])
        self._image_size = (0, 0)

    EMPTY_HINT = "Open a video, a folder of frames or a project (Ctrl+O, Ctrl+Shift+F, Ctrl+Shift+O),\nor drop one here"

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:  # noqa: N802 - Qt's name
        """With nothing open, say how to start, centred in the view."""
        super().drawForeground(painter, rect)
        if self._image_size != (0, 0):
            return
        painter.save()
        painter.resetTransform()  # viewport coordinates: the hint does not zoom or pan
        painter.setPen(QColor(170, 170, 180))
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.EMPTY_HINT)
        painter.restore()

    @property
    def image_size(self) -> tuple[int, int]:
        """(width, height) of the frame shown, (0, 0) when none."""
        return self._image_size

    def set_overlay(self, rgba: np.ndarray | None) -> None:
        """The mask overlay, (H, W, 4) uint8 RGBA at frame size, or None for none."""
        self.overlay_item.setPixmap(QPixmap() if rgba is None else QPixmap.fromImage(rgba_to_qimage(rgba)))

    def overlay_image(self) -> QImage:
        return self.overlay_item.pixmap().toImage()

    def set_markers(self, markers: list[Marker], boxes: list[tuple[float, float, float, float, QColor]] = ()) -> None:
        """Prompt clicks as dots; prompt boxes (x0, y0, x1, y1 image pixels, colour) as dashed rectangles."""
        for child in self.markers.childItems():
            self.markers.removeFromGroup(child)
            self._scene.removeItem(child)
        for x0, y0, x1, y1, color in boxes:
            rect = QGraphicsRectItem(QRectF(x0, y0, x1 - x0, y1 - y0))
            rect.setPen(QPen(color, 0, Qt.PenStyle.DashLine))
            self.markers.addToGroup(rect)
        radius = max(3.0, 6.0 / max(self.scale_factor(), 1e-6))
        for m in markers:
            color = QColor(40, 200, 60) if m.positive else QColor(230, 40, 40)
            if m.pending:  # a larger dashed ring, on a light one, until SAM 2's mask comes back
                r = 1.8 * radius
                halo = QGraphicsEllipseItem(m.x - r, m.y - r, 2 * r, 2 * r)
                halo.setPen(QPen(QColor(255, 255, 255), 4 * self._pixel()))
                halo.setData(MARKER_KIND, "halo")
                self.markers.addToGroup(halo)
                dot = QGraphicsEllipseItem(m.x - r, m.y - r, 2 * r, 2 * r)
                dot.setPen(QPen(color, 3 * self._pixel(), Qt.PenStyle.DashLine))
            else:
                dot = QGraphicsEllipseItem(m.x - radius, m.y - radius, 2 * radius, 2 * radius)
                dot.setBrush(color)
                dot.setPen(QPen(QColor(255, 255, 255), 0))
            dot.setData(MARKER_KIND, "pending" if m.pending else "click")
            self.markers.addToGroup(dot)

    def _pixel(self) -> float:
        """One screen pixel in image pixels at the current zoom."""
        return 1.0 / max(self.scale_factor(), 1e-6)

    def pending_marker_count(self) -> int:
        """Click markers drawn as pending (dashed rings)."""
        return sum(c.data(MARKER_KIND) == "pending" for c in self.markers.childItems())

    def marker_count(self) -> int:
        """Click markers shown, pending or not (boxes not counted)."""
        return sum(c.data(MARKER_KIND) in ("click", "pending") for c in self.markers.childItems())

    def show_band(self, a: QPointF, b: QPointF) -> None:
        self.band.setRect(QRectF(a, b).normalized())
        self.band.show()

    def hide_band(self) -> None:
        self.band.hide()

    def set_busy(self, busy: bool) -> None:
        """A busy cursor over the frame while clicks wait for their mask."""
        if busy:
            self.viewport().setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.viewport().unsetCursor()

    def show_brush_cursor(self, pos: QPointF, diameter: float) -> None:
        r = diameter / 2
        self.brush_cursor.setRect(pos.x() - r, pos.y() - r, diameter, diameter)
        self._brush_ring.setRect(self.brush_cursor.rect())
        self.brush_cursor.show()

    def hide_brush_cursor(self) -> None:
        self.brush_cursor.hide()

    # -- coordinates and zoom --------------------------------------------------------------
    def image_pos(self, view_pos: QPointF) -> QPointF:
        """A point of the widget (view pixels) in image pixels (x, y; not clamped)."""
        return self.mapToScene(view_pos.toPoint())

    def view_pos(self, x: float, y: float) -> QPointF:
        """Image pixel (x, y) -> widget position (the inverse of :meth:`image_pos`)."""
        return QPointF(self.mapFromScene(QPointF(x, y)))

    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def fit(self) -> None:
        """Show the whole frame."""
        if self._image_size != (0, 0):
            self.fitInView(self._scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
            self._fitted = True
            self.zoomChanged.emit(self.scale_factor())

    def zoom(self, factor: float, anchor: QPointF | None = None) -> None:
        """Zoom by ``factor`` keeping the image point under ``anchor`` (view pixels) in place."""
        new = self.scale_factor() * factor
        if not MIN_SCALE <= new <= MAX_SCALE:
            return
        if anchor is None:
            anchor = QPointF(self.viewport().rect().center())
        before = self.image_pos(anchor)
        self.scale(factor, factor)
        # Scroll so the image point that was under the anchor is under it again.
        for _ in range(2):  # a scroll bar's range may change with the first move
            shift = self.view_pos(before.x(), before.y()) - anchor
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() + round(shift.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() + round(shift.y()))
        self._fitted = False
        self.zoomChanged.emit(self.scale_factor())

    def resizeEvent(self, event: object) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._fitted:
            self.fit()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom(ZOOM_STEP ** steps, event.position())
        event.accept()

    # -- mouse -----------------------------------------------------------------------------
    def _panning(self, event: QMouseEvent) -> bool:
        return event.button() == Qt.MouseButton.MiddleButton or (
            event.button() == Qt.MouseButton.LeftButton and bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._panning(event):
            self._pan_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        elif self.tool is not None and self._image_size != (0, 0):
            self.tool.press(self.image_pos(event.position()), event.button(), event.modifiers())
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        pos = self.image_pos(event.position())
        self.cursorMoved.emit(pos.x(), pos.y())
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - round(delta.x()))
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - round(delta.y()))
            self._fitted = False
        elif self.tool is not None and self._image_size != (0, 0):
            self.tool.move(pos, event.buttons())
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._pan_from is not None:
            self._pan_from = None
            self.unsetCursor()
        elif self.tool is not None and self._image_size != (0, 0):
            self.tool.release(self.image_pos(event.position()), event.button())
        event.accept()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802
        keyboard = event.reason() == QContextMenuEvent.Reason.Keyboard
        wants = getattr(self.tool, "wants_menu", None)
        if self._image_size == (0, 0) or not (keyboard or (wants is not None and wants(event.modifiers()))):
            event.ignore()
            return
        view = self.viewport().mapFromGlobal(QCursor.pos()) if keyboard else event.pos()
        pos = self.image_pos(QPointF(view))
        self.menuRequested.emit(pos.x(), pos.y(), self.viewport().mapToGlobal(view))
        event.accept()

    def leaveEvent(self, event: object) -> None:  # noqa: N802
        self.hide_brush_cursor()
        super().leaveEvent(event)
