"""Propagate > Memory policy: the selected object's memory policy (docs/memory_policies.md).

Four exclusive choices; picking one is an undoable edit of the object (its ``memory`` field,
saved in the project), and every later propagation of that object uses it. The menu shows the
selected object's policy and is disabled while no object is selected.
"""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu

from annotator.session_controller import SessionController
from core.video.memory_policy import POLICY_NAMES

TITLES = {
    "sam2": "&SAM 2 (official)",
    "samurai": "SAM&URAI (motion-aware choice)",
    "dam4sam": "&DAM4SAM (distractor-aware memory)",
    "sam2long": "SAM2&Long (memory tree, slower)",
}


class MemoryPolicyMenu(QObject):
    """A submenu of the Propagate menu bound to the session's selected object."""

    def __init__(self, session: SessionController, window: QMainWindow) -> None:
        super().__init__(window)
        self.session = session
        self.menu = QMenu("&Memory policy of the selected object", window)
        self.menu.setObjectName("memoryPolicyMenu")
        self.group = QActionGroup(self)
        self.group.setExclusive(True)
        self.actions: dict[str, QAction] = {}
        for name in POLICY_NAMES:
            action = QAction(TITLES[name], self)
            action.setCheckable(True)
            action.setData(name)
            self.group.addAction(action)
            self.menu.addAction(action)
            self.actions[name] = action
        self.group.triggered.connect(self._chosen)
        propagate = next((a.menu() for a in window.menuBar().actions() if a.text() == "&Propagate"), None)
        if propagate is not None:
            cancel = propagate.actions()[-1] if propagate.actions() else None
            propagate.insertMenu(cancel, self.menu)
            propagate.insertSeparator(cancel)
        session.currentObjectChanged.connect(self._refresh)
        session.doc.objectsChanged.connect(self._refresh)
        session.doc.documentReset.connect(self._refresh)
        self._refresh()

    def _refresh(self, *_: object) -> None:
        obj = self.session.current_obj
        record = self.session.doc.document.objects.get(obj) if obj is not None else None
        self.menu.setEnabled(record is not None)
        if record is not None and record.memory in self.actions:
            self.actions[record.memory].setChecked(True)

    def _chosen(self, action: QAction) -> None:
        obj = self.session.current_obj
        if obj is None or not self.session.doc.has_object(obj):
            return
        self.session.edit_object(obj, memory=str(action.data()))
