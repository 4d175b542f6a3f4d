"""The window's label and track-fix actions: the label dialog, colouring by label, merge / split /
swap from the Objects menu, the canvas's context menu (the object under the cursor), and the
chooser of SAM 2's alternative masks over the canvas."""

from __future__ import annotations

from PySide6.QtCore import QObject, QPoint
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QWidget

from annotator.session_controller import SessionController
from ui.alternatives_chooser import AlternativesChooser
from ui.canvas import Canvas
from ui.object_menu import ObjectMenu
from ui.overlay import OverlayStyle


def object_at(session: SessionController, x: float, y: float) -> int | None:
    """The top-most object (the last drawn) whose mask on the current frame covers pixel (x, y)."""
    doc, frame = session.doc, session.frame
    col, row = int(x), int(y)
    for record in reversed(doc.objects()):
        mask = doc.mask_array(record.obj_id, frame)
        if mask is not None and 0 <= row < mask.shape[0] and 0 <= col < mask.shape[1] and mask[row, col]:
            return record.obj_id
    return None


class LabelActions(QObject):
    def __init__(self, window: QWidget, session: SessionController, canvas: Canvas, style: OverlayStyle,
                 actions: dict[str, QAction]) -> None:
        super().__init__(window)
        self.window, self.session, self.style = window, session, style
        self.menu = ObjectMenu(session, style, actions, window)
        self.last_menu = None  # the last context menu shown (tests look at it)
        actions["labels.edit"].triggered.connect(self.edit_labels)
        actions["view.color_by_label"].toggled.connect(style.set_color_by_label)
        actions["object.merge"].triggered.connect(self.merge)
        actions["object.split"].triggered.connect(self.split)
        actions["object.swap"].triggered.connect(self.swap)
        canvas.menuRequested.connect(self.canvas_menu)
        self.chooser = AlternativesChooser(session, actions, canvas)

    def edit_labels(self) -> None:
        from ui.label_dialog import LabelDialog

        LabelDialog(self.session, self.window).exec()

    def canvas_menu(self, x: float, y: float, global_pos: QPoint) -> None:
        obj_id = object_at(self.session, x, y)
        if obj_id is None:
            self.session.message.emit("No object under the cursor on this frame.")
            return
        self.last_menu = self.menu.build(obj_id)
        self.last_menu.popup(global_pos)

    def _other(self, title: str) -> int | None:
        """Ask for another object than the selected one (None: cancelled or none)."""
        s = self.session
        others = [r for r in s.doc.objects() if r.obj_id != s.current_obj]
        if s.current_obj is None or not others:
            s.message.emit("Select one of two or more objects first.")
            return None
        names = [f"{r.name} (id {r.obj_id})" for r in others]
        choice, ok = QInputDialog.getItem(self.window, title, "Other object:", names, 0, False)
        return others[names.index(choice)].obj_id if ok else None

    def merge(self) -> None:
        other = self._other("Merge with")
        if other is not None:
            self.menu.merge(self.session.current_obj, other)

    def split(self) -> None:
        if self.session.current_obj is not None:
            self.session.tracks.split(self.session.current_obj, self.session.frame)

    def swap(self) -> None:
        other = self._other(f"Swap from frame {self.session.frame} on with")
        if other is not None:
            self.session.tracks.swap(self.session.current_obj, other, self.session.frame)
