"""Help > Keyboard shortcuts: every action's keys and every mouse gesture, read from ui.shortcuts."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QHeaderView, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget

from ui.shortcuts import MOUSE, sections


def key_text(keys: tuple[str, ...]) -> str:
    """Keys as this platform writes them (``Ctrl+Shift+Z, Ctrl+Y``; ``Cmd`` on macOS)."""
    return ", ".join(QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


def shortcut_rows() -> list[tuple[str, str, str]]:
    """(section, keys, what it does) for every shortcut and mouse gesture."""
    rows: list[tuple[str, str, str]] = []
    for section, specs in sections().items():
        for spec in specs:
            if spec.keys:
                rows.append((section, key_text(spec.keys), spec.text.replace("&", "")))
    rows += [("Mouse", gesture, what) for gesture, what in MOUSE]
    return rows


class ShortcutsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(620, 640)
        rows = shortcut_rows()
        self.table = QTableWidget(len(rows), 3)
        self.table.setHorizontalHeaderLabels(["Section", "Keys", "Action"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.resizeColumnsToContents()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
