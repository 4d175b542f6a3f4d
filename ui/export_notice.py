"""What the export dialog says around an export: whether it may write where the user chose (a
refusal that explains, or a confirmation naming what will be replaced: the rule itself is
core.formats.target's), and once written, a message that outlives the dialog: the main window's
status bar and a non-modal notice with "Open folder"."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QStatusBar, QWidget

from core.formats import ExportTarget

NOTICE_NAME = "exportNotice"
LABEL_NAME = "lastExport"
Buttons = QMessageBox.StandardButton


def consent(parent: QWidget, target: ExportTarget, suggestion: Path | None = None) -> bool | None:
    """Ask what the target needs: None (do not export), False (write; nothing is replaced) or True
    (write, replacing what the target names: the user said yes to a question naming the path).

    suggestion: a place the export could go instead, offered when the target is refused.
    """
    if target.refused:
        instead = f", for example {suggestion}" if suggestion is not None else ""  # "...: choose another folder"
        QMessageBox.warning(parent, "Cannot export here", f"{target.message}{instead}.\n\nNothing was written.")
        return None
    if not target.needs_consent:
        return False
    kept = f"\n\nThese files are not the export's and stay: {', '.join(target.kept)}." if target.kept else ""
    answer = QMessageBox.question(parent, "Replace the previous export?",
                                  f"{target.message}.\n\nReplace {target.path}?{kept}",
                                  Buttons.Yes | Buttons.Cancel, Buttons.Cancel)
    return True if answer == Buttons.Yes else None


def open_folder(path: Path) -> None:
    """Show ``path`` (a folder export) or the folder holding it (a file) in the desktop's file manager."""
    folder = path if path.is_dir() else path.parent
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def _lasting_label(bar: QStatusBar) -> QLabel:
    """The status bar's label of the last export. A temporary message (another message, a menu's
    status tip passing over) covers it for a while and clears itself; the label shows again."""
    label = bar.findChild(QLabel, LABEL_NAME)
    if label is None:
        label = QLabel()
        label.setObjectName(LABEL_NAME)
        bar.addWidget(label, 1)
    return label


def show_exported(parent: QWidget | None, path: Path, what: str) -> QMessageBox:
    """``Exported <what> to <path>`` in the main window's status bar, in a line that stays until the
    next export (not a temporary message, which times out or goes when a menu passes over it), and in
    a non-modal notice with "Open folder" that stays until closed (owned by the main window, or kept
    by the caller when there is none)."""
    text = f"Exported {what} to {path}"
    window = parent
    while window is not None and not isinstance(window, QMainWindow):
        window = window.parentWidget()  # the dialog is a window of its own: the main window owns it
    if window is not None:
        _lasting_label(window.statusBar()).setText(text)
        window.statusBar().clearMessage()  # a temporary message would cover the line until it times out
        old = window.findChild(QMessageBox, NOTICE_NAME)
        if old is not None:  # one notice, the latest export's
            old.setObjectName("")
            old.close()
    box = QMessageBox(QMessageBox.Icon.Information, "Export finished", text, Buttons.Close, window)
    box.setObjectName(NOTICE_NAME)
    box.addButton("Open folder", QMessageBox.ButtonRole.ActionRole).clicked.connect(lambda: open_folder(path))
    box.setWindowModality(Qt.WindowModality.NonModal)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return box
