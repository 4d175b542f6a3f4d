"""Help > About: the version, the model and the device it runs on, and where Masklet keeps its
settings and its downloaded checkpoints (what a bug report needs)."""

from __future__ import annotations

import platform
import sys

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from core import __version__
from core.checkpoints.paths import cache_root, checkpoints_dir


def about_rows(model: str, settings_file: str) -> list[tuple[str, str]]:
    """(label, value) rows of the About box; ``model``: the model's state as the status bar says it."""
    return [
        ("Version", f"Masklet {__version__}"),
        ("Model", model),
        ("Settings file", settings_file),
        ("Checkpoints", str(checkpoints_dir())),
        ("Cache folder", str(cache_root())),
        ("Python", f"{platform.python_version()} ({sys.platform}), PySide6 {pyside_version}"),
    ]


class AboutDialog(QDialog):
    def __init__(self, rows: list[tuple[str, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About Masklet")
        title = QLabel("<b>Masklet</b>: annotate object masks in videos with SAM 2.")
        form = QFormLayout()
        for label, value in rows:
            text = QLabel(value)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)  # paths to copy
            text.setObjectName(f"about_{label.lower().replace(' ', '_')}")
            form.addRow(label, text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addLayout(form)
        layout.addWidget(buttons)
