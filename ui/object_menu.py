"""The context menu of one object, shared by the canvas (the object under the cursor) and the objects list.

Select, hide, lock or unlock this frame, delete on this frame, change the label, and the track
fixes (merge with, split here, swap with from here on); each entry is one call on the session,
so each change is one undo step.
"""

from __future__ import annotations

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QInputDialog, QMenu, QMessageBox, QWidget

from annotator.session_controller import SessionController
from ui.objects_panel import swatch
from ui.overlay import OverlayStyle


class ObjectMenu:
    """Builds the menu; ``actions`` are the window's (``object.delete`` asks before deleting)."""

    def __init__(self, session: SessionController, style: OverlayStyle, actions: dict[str, QAction],
                 parent: QWidget) -> None:
        self.session, self.style, self.actions, self.parent = session, style, actions, parent

    def build(self, obj_id: int) -> QMenu:
        s = self.session
        record, frame = s.doc.object(obj_id), s.frame
        menu = QMenu(self.parent)
        menu.setObjectName("objectMenu")
        menu.setToolTipsVisible(True)
        title = menu.addAction(swatch(record.color), f"{record.name} ({record.category})")
        title.setEnabled(False)
        menu.addAction("Select", lambda: s.select_object(obj_id)).setObjectName("menu.select")
        hidden = obj_id in self.style.hidden
        menu.addAction("Show" if hidden else "Hide", lambda: self.style.set_hidden(obj_id, not hidden)).setObjectName("menu.hide")
        entry = s.doc.mask(obj_id, frame)
        lock = menu.addAction("Unlock this frame" if entry is not None and entry.locked else "Lock this frame",
                              lambda: s.set_locked(obj_id, [frame], not (entry is not None and entry.locked)))
        lock.setObjectName("menu.lock")
        lock.setEnabled(entry is not None)
        clear = menu.addAction("Delete on this frame", lambda: s.prompts.clear_frame(obj_id, frame))
        clear.setObjectName("menu.clear_frame")
        clear.setEnabled(entry is not None or s.doc.prompt(obj_id, frame) is not None)
        menu.addMenu(self._label_menu(menu, obj_id))
        menu.addSeparator()
        others = [r for r in s.doc.objects() if r.obj_id != obj_id]
        merge = menu.addMenu("Merge with")
        merge.setObjectName("menu.merge")
        swap = menu.addMenu(f"Swap with, from frame {frame} on")
        swap.setObjectName("menu.swap")
        for other in others:
            merge.addAction(swatch(other.color), other.name, lambda o=other.obj_id: self.merge(obj_id, o))
            swap.addAction(swatch(other.color), other.name, lambda o=other.obj_id: s.tracks.swap(obj_id, o, frame))
        merge.setEnabled(bool(others))
        swap.setEnabled(bool(others))
        menu.addAction(f"Split at frame {frame}", lambda: s.tracks.split(obj_id, frame)).setObjectName("menu.split")
        menu.addSeparator()
        menu.addAction("Delete object…", lambda: self._delete(obj_id)).setObjectName("menu.delete")
        return menu

    def _label_menu(self, parent: QMenu, obj_id: int) -> QMenu:
        s = self.session
        current = s.doc.object(obj_id).category
        menu = QMenu("Change label", parent)
        menu.setObjectName("menu.label")
        for label in s.labels.schema.labels:
            action = menu.addAction(swatch(label.color), label.name, lambda n=label.name: s.labels.set_label(obj_id, n))
            action.setCheckable(True)
            action.setChecked(label.name == current)
        if s.labels.schema:
            menu.addSeparator()
        menu.addAction("New label…", lambda: self._new_label(obj_id))
        return menu

    def _new_label(self, obj_id: int) -> None:
        text, ok = QInputDialog.getText(self.parent, "Label", "Label of this object:")
        if ok and text.strip():
            self.session.labels.set_label(obj_id, text)

    def merge(self, keep: int, other: int) -> None:
        """Merge ``other`` into ``keep``, asking whose mask stays where both have one."""
        s = self.session
        masks = s.doc.document.masks
        both = set(masks.get(keep, {})) & set(masks.get(other, {}))
        prefer = keep
        if both:
            a, b = s.doc.object(keep).name, s.doc.object(other).name
            box = QMessageBox(QMessageBox.Icon.Question, "Merge objects",
                              f"“{a}” and “{b}” both have a mask on {len(both)} frame(s). Which masks stay there?",
                              QMessageBox.StandardButton.Cancel, self.parent)
            keep_a = box.addButton(f"{a}'s", QMessageBox.ButtonRole.AcceptRole)
            keep_b = box.addButton(f"{b}'s", QMessageBox.ButtonRole.AcceptRole)
            box.exec()
            if box.clickedButton() not in (keep_a, keep_b):
                return
            prefer = keep if box.clickedButton() is keep_a else other
        s.tracks.merge(keep, other, prefer)

    def _delete(self, obj_id: int) -> None:
        self.session.select_object(obj_id)
        self.actions["object.delete"].trigger()
