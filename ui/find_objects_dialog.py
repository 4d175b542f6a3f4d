""""Find objects on this frame": the automatic mask generator runs on the model worker (progress,
cancel); its candidate masks show over the frame; the annotator keeps or drops each (click on
it or its row, "Keep all", "Drop all", a minimum area slider) and adds the kept ones as objects
in one undoable step (annotator.find_objects). They are then tracked like any other object."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QProgressBar, QPushButton, QSlider, QVBoxLayout, QWidget,
)

from annotator.auto_objects import FoundMask
from annotator.document import color_for
from annotator.find_objects import ObjectFinder
from annotator.requests import FoundObjects
from annotator.session_controller import SessionController
from core.sam2.auto_params import AutoMaskParams
from ui.dialog_buttons import action_buttons, ok_button
from ui.find_objects_view import CandidateView

AREA_STEPS = 100  # the slider's positions from 0 to the largest candidate's area


class FindObjectsDialog(QDialog):
    def __init__(self, session: SessionController, finder: ObjectFinder, params: AutoMaskParams | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Find objects on this frame")
        self.session, self.finder = session, finder
        self.params = params if params is not None else AutoMaskParams()
        self.frame = session.frame
        self.image = session.image(self.frame)
        self.found: list[FoundMask] = []
        self.masks: list[np.ndarray] = []
        self.kept: list[bool] = []
        self.added: list[int] = []
        self.view = CandidateView()
        self.list = QListWidget()
        self.list.setMaximumWidth(260)
        self.status = QLabel(f"Looking for objects on frame {self.frame + 1}…")
        self.progress = QProgressBar()
        self.cancel_search = QPushButton("Stop searching")
        self.keep_all, self.drop_all = QPushButton("Keep all"), QPushButton("Drop all")
        self.min_area = QSlider(Qt.Orientation.Horizontal)
        self.min_area.setRange(0, AREA_STEPS)
        self.min_area_label = QLabel("Minimum area: 0 px")
        self.buttons = action_buttons(self, "Add objects", self.add)
        self._lay_out()
        self.view.show_candidates(self.image, [], [], [])
        self.view.toggled.connect(self.toggle)
        self.list.itemChanged.connect(self._on_item)
        self.keep_all.clicked.connect(self._keep_all)
        self.drop_all.clicked.connect(self._drop_all)
        self.min_area.valueChanged.connect(self._refresh)
        self.cancel_search.clicked.connect(finder.cancel)
        finder.progress.connect(self._on_progress)
        finder.found.connect(self._on_found)
        self._set_searching(True)

    def _lay_out(self) -> None:
        side = QVBoxLayout()
        side.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.keep_all)
        row.addWidget(self.drop_all)
        side.addLayout(row)
        side.addWidget(self.min_area_label)
        side.addWidget(self.min_area)
        top = QHBoxLayout()
        top.addWidget(self.view, 1)
        top.addLayout(side)
        search = QHBoxLayout()
        search.addWidget(self.progress, 1)
        search.addWidget(self.cancel_search)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.status)
        layout.addLayout(search)
        layout.addWidget(self.buttons)
        self.resize(1100, 640)

    def start(self) -> bool:
        """Send the search; False (and the dialog closes) when the session refuses it."""
        if self.finder.find(self.frame, self.params) is None:
            self.reject()
            return False
        return True

    def _set_searching(self, searching: bool) -> None:
        self.progress.setVisible(searching)
        self.cancel_search.setVisible(searching)
        for w in (self.keep_all, self.drop_all, self.min_area, self.list):
            w.setEnabled(not searching and bool(self.found))  # nothing to keep or drop before a result
        self._update_ok()

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.status.setText(f"Looking for objects on frame {self.frame + 1}: {done} of {total} grid points…")

    def _on_found(self, result: FoundObjects) -> None:
        self._set_searching(False)
        if result.error or result.cancelled:
            self.status.setText(f"Search failed: {result.error}" if result.error else "Search stopped: nothing found yet.")
            return
        self.found = list(result.masks)
        self._set_searching(False)
        self.masks = [m.rle.decode() for m in self.found]
        self.kept = [True] * len(self.found)
        self.list.blockSignals(True)
        for i, m in enumerate(self.found):
            swatch = QPixmap(12, 12)
            swatch.fill(QColor(*color_for(i + 1)))  # the colour the picture shows it in
            item = QListWidgetItem(QIcon(swatch), f"#{i + 1}: {m.area} px, IoU {m.predicted_iou:.2f}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            self.list.addItem(item)
        self.list.blockSignals(False)
        self._refresh()

    # -- keep / drop -------------------------------------------------------------------------
    def area_threshold(self) -> int:
        largest = max((m.area for m in self.found), default=0)
        return int(round(largest * self.min_area.value() / AREA_STEPS))

    def shown(self) -> list[bool]:
        threshold = self.area_threshold()
        return [m.area >= threshold for m in self.found]

    def kept_masks(self) -> list[FoundMask]:
        """The candidates that will become objects: kept and not under the minimum area."""
        return [m for m, k, s in zip(self.found, self.kept, self.shown()) if k and s]

    def toggle(self, index: int) -> None:
        self.kept[index] = not self.kept[index]
        self._refresh()

    def _on_item(self, item: QListWidgetItem) -> None:
        index = self.list.row(item)
        checked = item.checkState() == Qt.CheckState.Checked
        if self.kept[index] != checked:
            self.toggle(index)

    def _keep_all(self) -> None:
        self.kept = [True] * len(self.found)
        self._refresh()

    def _drop_all(self) -> None:
        self.kept = [False] * len(self.found)
        self._refresh()

    def _refresh(self) -> None:
        shown = self.shown()
        self.list.blockSignals(True)
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if self.kept[i] else Qt.CheckState.Unchecked)
            item.setHidden(not shown[i])
        self.list.blockSignals(False)
        self.min_area_label.setText(f"Minimum area: {self.area_threshold()} px")
        self.view.show_candidates(self.image, self.masks, self.kept, shown)
        n, total = len(self.kept_masks()), sum(shown)
        self.status.setText(f"{len(self.found)} found on frame {self.frame + 1}; keeping {n} of {total} shown. "
                            "Click a mask to keep or drop it.")
        self._update_ok()

    def _update_ok(self) -> None:
        n = len(self.kept_masks())
        ok_button(self.buttons).setText(f"Add {n} object{'' if n == 1 else 's'}")
        ok_button(self.buttons).setEnabled(n > 0 and not self.finder.busy)

    def add(self) -> None:
        self.added = self.finder.add(self.frame, self.kept_masks())
        if self.added:
            self.accept()

    def done(self, result: int) -> None:  # noqa: D102 - every way the dialog closes
        self.finder.progress.disconnect(self._on_progress)
        self.finder.found.disconnect(self._on_found)
        super().done(result)

    def reject(self) -> None:
        self.finder.cancel()  # a search still running stops at its next point batch
        super().reject()
