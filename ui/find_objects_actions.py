"""The window's "Find objects on this frame" action: opens the dialog (ui.find_objects_dialog)
with the session's object finder, which sends the search to the model worker."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

from annotator.find_objects import ObjectFinder
from annotator.session_controller import SessionController
from core.sam2.auto_params import AutoMaskParams
from ui.find_objects_dialog import FindObjectsDialog


class FindObjectsActions(QObject):
    def __init__(self, window: QWidget, session: SessionController, actions: dict[str, QAction]) -> None:
        super().__init__(window)
        self.window, self.session = window, session
        self.finder = ObjectFinder(session)
        self.dialog: FindObjectsDialog | None = None  # the last one opened (tests look at it)
        self.params = AutoMaskParams()  # the official generator's defaults
        actions["object.find"].triggered.connect(self.find)

    def find(self) -> None:
        s = self.session
        if s.frames is None:
            s.message.emit("Open a video first.")
            return
        if self.finder.busy:
            s.message.emit("Still finding objects; wait for the search to end or stop it.")
            return
        self.dialog = FindObjectsDialog(s, self.finder, self.params, self.window)
        if self.dialog.start():
            self.dialog.open()
