"""The Review dock (review mode, Ctrl+R): the review progress, the objects with a mask on this frame
with their "reviewed" checkbox, the selected object's note on this frame, and the review actions.

Step with the arrow keys, play with Space, or accept a frame and step on with R.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton,
                               QToolButton, QVBoxLayout, QWidget)

from annotator.session_controller import SessionController
from ui.review_controls import ReviewControls


class ReviewPanel(QWidget):
    def __init__(self, session: SessionController, review: ReviewControls, actions: dict[str, QAction],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reviewPanel")
        self.session, self.review = session, review
        self.progress = QLabel("")
        self.progress.setObjectName("reviewPanelProgress")
        self.frame_label = QLabel("")
        self.objects = QListWidget()
        self.objects.setObjectName("reviewObjects")
        self.objects.setToolTip("Objects with a mask on this frame; checked: reviewed (and locked)")
        self.note = QPlainTextEdit()
        self.note.setObjectName("reviewNote")
        self.note.setPlaceholderText("Reviewer's note on the selected object, this frame")
        self.note.setMaximumHeight(80)
        self.save_note = QPushButton("Save note")
        buttons = QHBoxLayout()
        for name in ("review.accept_frame", "review.accept_range", "review.unaccept"):
            button = QToolButton()
            button.setDefaultAction(actions[name])
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.frame_label)
        layout.addWidget(self.objects, 1)
        layout.addLayout(buttons)
        layout.addWidget(QLabel("Note"))
        layout.addWidget(self.note)
        layout.addWidget(self.save_note)
        self.objects.itemChanged.connect(self._on_check)
        self.objects.currentItemChanged.connect(self._on_current)
        self.save_note.clicked.connect(self._save_note)
        review.progressChanged.connect(self._on_progress)
        session.frameChanged.connect(self.refresh)
        session.currentObjectChanged.connect(self.refresh)
        session.doc.objectsChanged.connect(self.refresh)
        session.doc.masksChanged.connect(self._on_masks)
        self.refresh()

    def _on_progress(self, text: str) -> None:
        self.progress.setText(f"<b>{text}</b>" if text else "")

    def _on_masks(self, obj_id: int, frames: frozenset) -> None:
        if self.session.frame in frames:
            self.refresh()

    def refresh(self, *_: object) -> None:
        """The list and the note for the frame on screen."""
        s = self.session
        self.frame_label.setText(f"Frame {s.frame}" if s.video is not None else "No video")
        self.objects.blockSignals(True)
        self.objects.clear()
        for record in s.doc.objects():
            entry = s.doc.mask(record.obj_id, s.frame)
            if entry is None:
                continue
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(*record.color))
            item = QListWidgetItem(QIcon(swatch), record.name + ("  (locked)" if entry.locked and not entry.reviewed else ""))
            item.setData(Qt.ItemDataRole.UserRole, record.obj_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if entry.reviewed else Qt.CheckState.Unchecked)
            self.objects.addItem(item)
            if record.obj_id == s.current_obj:
                self.objects.setCurrentItem(item)
        self.objects.blockSignals(False)
        note = s.doc.object(s.current_obj).notes.get(s.frame, "") if s.current_obj is not None else ""
        self.note.setPlainText(note)
        self.note.setEnabled(s.current_obj is not None)
        self.save_note.setEnabled(s.current_obj is not None)

    def _on_check(self, item: QListWidgetItem) -> None:
        obj_id = int(item.data(Qt.ItemDataRole.UserRole))
        frame = self.session.frame
        self.review.accept([obj_id], frame, frame, reviewed=item.checkState() == Qt.CheckState.Checked)
        self.refresh()  # a refused change (a click on its way) puts the box back

    def _on_current(self, item: QListWidgetItem | None, _previous: object) -> None:
        if item is not None:
            self.session.select_object(int(item.data(Qt.ItemDataRole.UserRole)))

    def _save_note(self) -> None:
        if self.session.current_obj is not None:
            self.review.set_note(self.session.current_obj, self.session.frame, self.note.toPlainText())
