"""Starting the desktop app: ``run_app(path_or_None) -> exit code`` (called by ``masklet [PATH]``)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from core import __version__
from resources import resource_path


def make_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication, named so QSettings has a home (reused when one exists, as in tests)."""
    QCoreApplication.setOrganizationName("Masklet")
    QCoreApplication.setApplicationName("Masklet")
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setWindowIcon(QIcon(str(resource_path("masklet.svg"))))
    app.setStyleSheet(resource_path("masklet.qss").read_text(encoding="utf-8"))
    return app  # type: ignore[return-value]


def run_app(path: str | None = None) -> int:
    """Show the main window (opening ``path``, a video, frame folder or project, when given) and run."""
    app = make_application()
    from ui.main_window import MainWindow

    window = MainWindow()
    window.show()
    if path is not None:
        window.open_path(path)
    return int(app.exec())
