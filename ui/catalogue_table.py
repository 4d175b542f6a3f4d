"""The table of official SAM 2 checkpoints in the Model dialog: size, speed, accuracy, download, use."""

from __future__ import annotations

from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from core.checkpoints.catalogue import CATALOGUE, DEFAULT_NAME
from core.checkpoints.progress import format_bytes

COLUMNS = ("Model", "Speed (fps)", "Accuracy (J&F)", "Download", "Best for", "Status")
STATUS_COLUMN = COLUMNS.index("Status")


def catalogue_table() -> QTableWidget:
    """One read-only row per catalogue entry, whole rows selected; the Status column is left empty."""
    table = QTableWidget(len(CATALOGUE), len(COLUMNS))
    table.setHorizontalHeaderLabels(list(COLUMNS))
    for column, tip in ((1, "Official figure: frames per second on an NVIDIA A100"),
                        (2, "Official figure: J&F on the SA-V test set")):
        table.horizontalHeaderItem(column).setToolTip(tip)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().setVisible(False)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setSectionResizeMode(COLUMNS.index("Best for"), QHeaderView.ResizeMode.Stretch)
    for row, entry in enumerate(CATALOGUE):
        title = entry.title + (" (recommended)" if entry.name == DEFAULT_NAME else "")
        cells = (title, f"{entry.speed_fps:.1f}", f"{entry.sav_jf:.1f}", format_bytes(entry.size_bytes), entry.purpose, "")
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setToolTip(entry.file_name if column == 0 else text)
            table.setItem(row, column, item)
    return table
