"""File > Export dataset: pick a format, a place and a stride; the export runs on a background thread
(annotator.project_exchange.export_document on a snapshot of the document) with progress and cancel."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from ui.dialog_buttons import action_buttons, ok_button

from annotator.document import AnnotationDocument
from annotator.project_exchange import export_document
from core.formats import FORMATS, ExportCancelled


def snapshot(doc: AnnotationDocument) -> AnnotationDocument:
    """A copy the export can read while the annotator keeps editing (entries are immutable)."""
    copy_ = AnnotationDocument(doc.video)
    copy_.objects = dict(doc.objects)
    copy_.masks = {k: dict(v) for k, v in doc.masks.items()}
    copy_.prompts = {k: dict(v) for k, v in doc.prompts.items()}
    return copy_


class ExportJob(QObject):
    """Runs one export on a Python thread. Signals: progress(done, total); finished(error: str, "" on success)."""

    progress = Signal(int, int)
    finished = Signal(str)

    def __init__(self, doc: AnnotationDocument, fmt: str, out: Path, stride: int) -> None:
        super().__init__()
        self.doc, self.fmt, self.out, self.stride = snapshot(doc), fmt, out, stride
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="masklet-export", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            export_document(self.doc, self.fmt, self.out, self.stride, overwrite=True,
                            progress=lambda done, total, message="": self.progress.emit(done, total),
                            cancel=self.cancelled.is_set)
        except ExportCancelled:
            self.finished.emit("cancelled")
        except (OSError, ValueError) as exc:
            self.finished.emit(str(exc).splitlines()[0] or type(exc).__name__)
        else:
            self.finished.emit("")


class ExportDialog(QDialog):
    def __init__(self, doc: AnnotationDocument, default_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export dataset")
        self.doc = doc
        self.job: ExportJob | None = None
        self.format = QComboBox()
        for fmt in FORMATS.values():
            self.format.addItem(fmt.label, fmt.name)
        self.path = QLineEdit(str(Path(default_dir) / "export.json") if default_dir else "")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.stride = QSpinBox()
        self.stride.setRange(1, 1000)
        self.stride.setToolTip("Export every Nth frame (SA-V's own data uses 4)")
        self.bar = QProgressBar()
        self.status = QLabel("")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save to", row)
        form.addRow("Every Nth frame", self.stride)
        self.buttons = action_buttons(self, "Export", self.start)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)

    def set_format(self, name: str) -> None:
        self.format.setCurrentIndex(self.format.findData(name))

    def _format_changed(self) -> None:
        current = Path(self.path.text()) if self.path.text() else None
        if current is not None:
            folder = FORMATS[self.format.currentData()].is_folder
            self.path.setText(str(current.with_suffix("") if folder else current.with_suffix(".json")))

    def _browse(self) -> None:
        fmt = FORMATS[self.format.currentData()]
        if fmt.is_folder:
            path = QFileDialog.getExistingDirectory(self, "Export into folder")
        else:
            path, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text(), "JSON (*.json)")
        if path:
            self.path.setText(path)

    def start(self) -> None:
        if self.job is not None:
            return
        if not self.path.text().strip():
            self.status.setText("Choose where to export.")
            return
        self.job = ExportJob(self.doc, self.format.currentData(), Path(self.path.text().strip()), self.stride.value())
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        ok_button(self.buttons).setEnabled(False)
        self.status.setText("Exporting…")
        self.job.start()

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)

    def _finished(self, error: str) -> None:
        self.job = None
        ok_button(self.buttons).setEnabled(True)
        if error:
            self.status.setText(f"Export failed: {error}" if error != "cancelled" else "Export cancelled.")
            return
        self.status.setText(f"Exported to {self.path.text()}")
        self.accept()

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancelled.set()
            self.job.thread.join(timeout=10)
        super().reject()
