"""The canvas tools: positive/negative clicks, box, brush, eraser, select.

Left click adds a positive point, right click (or Shift+left) a negative one; the box tool
drags a rectangle; the brush paints and the eraser erases the current object's mask on the
current frame, the whole stroke being one undo step (right-drag with the brush erases);
select picks the object under the cursor. Every gesture becomes one call on the session.
"""

from __future__ import annotations

from enum import Enum

import cv2
import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal

from annotator.session_controller import SessionController
from ui.canvas import Canvas
from ui.overlay import OverlayPresenter

MIN_BOX = 3.0  # pixels; a smaller drag with the box tool is a click
MIN_BRUSH, MAX_BRUSH = 1, 400


class Tool(str, Enum):
    POINT = "point"
    BOX = "box"
    BRUSH = "brush"
    ERASER = "eraser"
    SELECT = "select"


class ToolController(QObject):
    """Turns canvas gestures into session edits. Signals: toolChanged(str), brushSizeChanged(int),
    objectPicked(obj_id: int)."""

    toolChanged = Signal(str)
    brushSizeChanged = Signal(int)
    objectPicked = Signal(int)

    def __init__(self, session: SessionController, canvas: Canvas, presenter: OverlayPresenter,
                 brush_size: int = 20, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.canvas, self.presenter = session, canvas, presenter
        self.tool = Tool.POINT
        self.brush_size = brush_size
        self._drag_from: QPointF | None = None
        self._stroke: tuple[int, int, np.ndarray, np.ndarray, bool] | None = None  # obj, frame, before, after, erase
        self._last: QPointF | None = None
        canvas.tool = self

    # -- settings --------------------------------------------------------------------------
    def set_tool(self, tool: Tool) -> None:
        self.tool = Tool(tool)
        self.canvas.hide_brush_cursor()
        cursor = Qt.CursorShape.ArrowCursor if self.tool is Tool.SELECT else Qt.CursorShape.CrossCursor
        self.canvas.viewport().setCursor(cursor)
        self.toolChanged.emit(self.tool.value)

    def set_brush_size(self, size: int) -> None:
        self.brush_size = int(np.clip(size, MIN_BRUSH, MAX_BRUSH))
        self.brushSizeChanged.emit(self.brush_size)

    def grow_brush(self, factor: float) -> None:
        self.set_brush_size(max(self.brush_size + 1, round(self.brush_size * factor)) if factor > 1
                            else min(self.brush_size - 1, round(self.brush_size * factor)))

    # -- gestures --------------------------------------------------------------------------
    def wants_menu(self, modifiers: Qt.KeyboardModifier) -> bool:
        """Whether a right click opens the canvas's context menu (the select tool, or Alt held)
        instead of being the tool's gesture (a negative click, an erasing stroke)."""
        return self.tool is Tool.SELECT or bool(modifiers & Qt.KeyboardModifier.AltModifier)

    def press(self, pos: QPointF, button: Qt.MouseButton, modifiers: Qt.KeyboardModifier) -> None:
        left, right = button == Qt.MouseButton.LeftButton, button == Qt.MouseButton.RightButton
        if right and self.wants_menu(modifiers):
            return  # the context menu's click (Canvas.contextMenuEvent)
        negative = right or bool(modifiers & Qt.KeyboardModifier.ShiftModifier)
        if self.tool is Tool.POINT and (left or right):
            self.session.prompts.click(pos.x(), pos.y(), positive=not negative)
        elif self.tool is Tool.BOX and left:
            self._drag_from = pos
        elif self.tool is Tool.BOX and right:
            self.session.prompts.click(pos.x(), pos.y(), positive=False)
        elif self.tool in (Tool.BRUSH, Tool.ERASER) and (left or right):
            self._begin_stroke(pos, erase=self.tool is Tool.ERASER or right)
        elif self.tool is Tool.SELECT and left:
            self._pick(pos)

    def move(self, pos: QPointF, buttons: Qt.MouseButton) -> None:
        if self.tool in (Tool.BRUSH, Tool.ERASER):
            self.canvas.show_brush_cursor(pos, self.brush_size)
            if self._stroke is not None:
                self._paint_to(pos)
        elif self._drag_from is not None:
            self.canvas.show_band(self._drag_from, pos)

    def release(self, pos: QPointF, button: Qt.MouseButton) -> None:
        if self._drag_from is not None and button == Qt.MouseButton.LeftButton:
            start, self._drag_from = self._drag_from, None
            self.canvas.hide_band()
            if abs(pos.x() - start.x()) < MIN_BOX or abs(pos.y() - start.y()) < MIN_BOX:
                self.session.prompts.click(pos.x(), pos.y(), positive=True)
            else:
                w, h = self.canvas.image_size
                x0, x1 = sorted((float(np.clip(start.x(), 0, w)), float(np.clip(pos.x(), 0, w))))
                y0, y1 = sorted((float(np.clip(start.y(), 0, h)), float(np.clip(pos.y(), 0, h))))
                self.session.prompts.box(x0, y0, x1, y1)
        elif self._stroke is not None:
            self._end_stroke()

    # -- strokes ---------------------------------------------------------------------------
    def _begin_stroke(self, pos: QPointF, erase: bool) -> None:
        session = self.session
        video = session.video
        if video is None:
            return
        if session.refuse_edit():
            return
        if session.current_obj is None or not session.doc.has_object(session.current_obj):
            if erase:
                return
            session.add_object()
        obj_id, frame = session.current_obj, session.frame
        entry = session.doc.mask(obj_id, frame)
        if entry is not None and entry.locked:
            session.message.emit("This mask is locked; unlock it to change it.")
            return
        before = session.doc.mask_array(obj_id, frame)
        if before is None:
            before = np.zeros((video.height, video.width), bool)
        self._stroke = (obj_id, frame, before, before.copy(), erase)
        self._last = pos
        self._paint_to(pos)

    def _paint_to(self, pos: QPointF) -> None:
        assert self._stroke is not None and self._last is not None
        obj_id, _, _, after, erase = self._stroke
        canvas = np.zeros(after.shape, np.uint8)
        radius = max(1, int(round(self.brush_size / 2)))
        a = (int(round(self._last.x())), int(round(self._last.y())))
        b = (int(round(pos.x())), int(round(pos.y())))
        cv2.line(canvas, a, b, 1, thickness=2 * radius, lineType=cv2.LINE_8)
        cv2.circle(canvas, b, radius, 1, thickness=-1)
        after[canvas.astype(bool)] = not erase
        self._last = pos
        self.presenter.set_override(obj_id, after)

    def _end_stroke(self) -> None:
        obj_id, frame, before, after, erase = self._stroke
        self._stroke, self._last = None, None
        self.presenter.set_override(obj_id, None)
        self.session.prompts.stroke(obj_id, frame, before, after, erase)

    def _pick(self, pos: QPointF) -> None:
        x, y = int(pos.x()), int(pos.y())
        doc, frame = self.session.doc, self.session.frame
        for record in reversed(doc.objects()):  # the top-most drawn wins
            mask = doc.mask_array(record.obj_id, frame)
            if mask is not None and 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and mask[y, x]:
                self.session.select_object(record.obj_id)
                self.objectPicked.emit(record.obj_id)
                return
