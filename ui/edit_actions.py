"""Connects the Edit, Tools, Objects, View and review actions to the session, the tools and the view."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMessageBox

from annotator.session_controller import SessionController
from ui.canvas import Canvas, ZOOM_STEP
from ui.objects_panel import ObjectsPanel
from ui.overlay import OverlayStyle
from ui.tools import Tool, ToolController

OPACITY_STEP = 0.1


class EditActions(QObject):
    def __init__(self, session: SessionController, tools: ToolController, canvas: Canvas, style: OverlayStyle,
                 objects: ObjectsPanel, actions: dict[str, QAction], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session, self.tools, self.canvas, self.style, self.actions = session, tools, canvas, style, actions
        stack = session.undo_stack
        a = actions
        a["edit.undo"].triggered.connect(self.undo)
        a["edit.redo"].triggered.connect(self.redo)
        stack.canUndoChanged.connect(a["edit.undo"].setEnabled)
        stack.canRedoChanged.connect(a["edit.redo"].setEnabled)
        stack.undoTextChanged.connect(lambda t: a["edit.undo"].setText(f"&Undo {t}".rstrip()))
        stack.redoTextChanged.connect(lambda t: a["edit.redo"].setText(f"&Redo {t}".rstrip()))
        a["edit.undo"].setEnabled(False)
        a["edit.redo"].setEnabled(False)
        a["edit.clear_frame"].triggered.connect(self.clear_frame)

        group = QActionGroup(self)
        for tool in Tool:
            action = a[f"tool.{tool.value}"]
            group.addAction(action)
            action.triggered.connect(lambda checked=False, t=tool: tools.set_tool(t))
        a["tool.point"].setChecked(True)
        tools.toolChanged.connect(lambda name: a[f"tool.{name}"].setChecked(True))
        a["tool.brush_bigger"].triggered.connect(lambda: tools.grow_brush(1.25))
        a["tool.brush_smaller"].triggered.connect(lambda: tools.grow_brush(0.8))

        a["object.add"].triggered.connect(lambda: session.add_object())
        a["object.delete"].triggered.connect(self.delete_object)
        a["object.color"].triggered.connect(objects.choose_color)
        a["object.hide"].triggered.connect(self.toggle_hidden)
        a["object.solo"].triggered.connect(lambda: self._current(style.toggle_solo))
        a["object.lock"].triggered.connect(self.toggle_lock)
        a["object.next"].triggered.connect(lambda: self.cycle_object(1))
        a["object.previous"].triggered.connect(lambda: self.cycle_object(-1))

        a["view.fit"].triggered.connect(canvas.fit)
        a["view.zoom_in"].triggered.connect(lambda: canvas.zoom(ZOOM_STEP))
        a["view.zoom_out"].triggered.connect(lambda: canvas.zoom(1 / ZOOM_STEP))
        a["view.toggle_masks"].triggered.connect(style.toggle_masks)
        a["view.opacity_up"].triggered.connect(lambda: style.set_opacity(style.opacity + OPACITY_STEP))
        a["view.opacity_down"].triggered.connect(lambda: style.set_opacity(style.opacity - OPACITY_STEP))
        # J / Shift+J (suspect frames) and the keyframe jumps: ui.timeline_nav, with the timeline's thresholds

    def undo(self) -> None:
        self.session.undo()

    def redo(self) -> None:
        self.session.redo()

    def _current(self, fn: object) -> None:
        if self.session.current_obj is not None:
            fn(self.session.current_obj)

    def clear_frame(self) -> None:
        if self.session.current_obj is not None:
            self.session.prompts.clear_frame(self.session.current_obj, self.session.frame)

    def delete_object(self) -> None:
        """Delete the selected object with all its masks, once the annotator confirms (Undo brings it back)."""
        obj_id = self.session.current_obj
        if obj_id is None:
            return
        record = self.session.doc.object(obj_id)
        frames = len(self.session.doc.document.masks.get(obj_id, {}))
        answer = QMessageBox.question(
            self.canvas.window(), "Delete object",
            f"Delete “{record.name}” and its masks on {frames} frame{'' if frames == 1 else 's'}?\n"
            "Edit > Undo brings it back.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
        if answer == QMessageBox.StandardButton.Yes:
            self.session.remove_object(obj_id)

    def toggle_hidden(self) -> None:
        obj_id = self.session.current_obj
        if obj_id is not None:
            self.style.set_hidden(obj_id, obj_id not in self.style.hidden)

    def toggle_lock(self) -> None:
        obj_id, frame = self.session.current_obj, self.session.frame
        if obj_id is None:
            return
        entry = self.session.doc.mask(obj_id, frame)
        if entry is None:
            self.session.message.emit("Nothing to lock: the object has no mask on this frame.")
            return
        self.session.set_locked(obj_id, [frame], not entry.locked)

    def cycle_object(self, step: int) -> None:
        ids = [r.obj_id for r in self.session.doc.objects()]
        if not ids:
            return
        current = self.session.current_obj
        index = ids.index(current) if current in ids else -step
        self.session.select_object(ids[(index + step) % len(ids)])
