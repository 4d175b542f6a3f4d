"""The export dialog's note on what a format loses (annotator.project_exchange.export_report):
per object, the pixels a one-label-per-pixel format (DAVIS, MOTS PNG) drops where objects overlap,
or what YOLO's polygons get wrong, with a button to switch to the per-object PNG layout.

The report reads every exported mask, so it runs on a Python thread; a newer request cancels
the older one, and only the latest answer is shown.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from annotator.document import AnnotationDocument
from annotator.project_exchange import export_report
from core.formats.options import ExportOptions
from core.formats.overlap import KEEPS_OVERLAPS, SINGLE_LABEL_FORMATS

REPORTED = SINGLE_LABEL_FORMATS | {"yolo"}


class _ReportJob(QObject):
    """One report on a Python thread. Signal: done(request number, lines)."""

    done = Signal(int, list)

    def __init__(self, number: int, doc: AnnotationDocument, fmt: str, options: ExportOptions) -> None:
        super().__init__()
        self.number, self.doc, self.fmt, self.options = number, doc, fmt, options
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="masklet-export-report", daemon=True)

    def _run(self) -> None:
        try:
            lines = export_report(self.doc, self.fmt, self.options, self.cancelled.is_set)
        except (OSError, ValueError) as exc:
            lines = [f"Cannot tell what this format loses: {exc}"]
        if not self.cancelled.is_set():
            self.done.emit(self.number, lines)


class ExportReport(QWidget):
    """The note under the export form. ``use_png`` is emitted when the user takes the per-object PNGs."""

    use_png = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel("")
        self.text.setObjectName("exportReport")
        self.text.setWordWrap(True)
        self.switch = QPushButton("Use per-object PNGs (keeps overlaps)")
        self.switch.setObjectName("usePerObjectPngs")
        self.switch.clicked.connect(self.use_png.emit)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.switch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(row)
        self._job: _ReportJob | None = None
        self._number = 0
        self.lines: list[str] = []
        self._show([], "")

    def request(self, doc: AnnotationDocument, fmt: str, options: ExportOptions) -> None:
        """Work out the report for ``fmt`` (nothing to say for formats that keep every pixel)."""
        self.cancel()
        self._number += 1
        if fmt not in REPORTED:
            self._show([], fmt)
            return
        self.text.setText("Checking what this format keeps…")
        self.text.setVisible(True)
        self.switch.setVisible(False)
        self._job = _ReportJob(self._number, doc, fmt, options)
        self._job.done.connect(self._done)
        self._fmt = fmt
        self._job.thread.start()

    def cancel(self) -> None:
        if self._job is not None:
            self._job.cancelled.set()
            self._job = None

    def wait(self, timeout: float = 10.0) -> None:
        """Block until the running report is done (tests, and closing the dialog)."""
        if self._job is not None:
            self._job.thread.join(timeout)

    def _done(self, number: int, lines: list) -> None:
        if number != self._number:
            return  # an older request's answer
        self._job = None
        self._show(lines, self._fmt)

    def _show(self, lines: list[str], fmt: str) -> None:
        self.lines = list(lines)
        self.text.setText("\n".join(lines))
        self.text.setVisible(bool(lines))
        self.switch.setVisible(bool(lines) and fmt in SINGLE_LABEL_FORMATS and fmt != KEEPS_OVERLAPS)
