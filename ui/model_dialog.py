"""The Model dialog: pick an official checkpoint (downloading it if needed) or a local file, a device and a precision.

Usage: ``dialog = ModelDialog(parent, settings); if dialog.exec(): worker.load(dialog.selection)``.
Downloads and file checks run on background jobs (annotator.checkpoint_settings); the dialog only
shows their progress and their one-line errors. No torch here.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout,
    QWidget,
)

from annotator.checkpoint_settings import BackgroundJob, CheckpointSettings, download_job, inspect_job
from core.checkpoints.catalogue import CATALOGUE, DEFAULT_NAME, CheckpointEntry
from core.checkpoints.progress import DownloadProgress, format_bytes
from core.checkpoints.paths import checkpoint_path, partial_bytes
from core.checkpoints.runtime import DEVICE_LABELS, PRECISION_LABELS, DeviceChoice, ModelSelection, PrecisionChoice
from ui.catalogue_table import STATUS_COLUMN, catalogue_table
from ui.dialog_buttons import action_buttons, ok_button

_ERROR_STYLE = "color: #c0392b;"


class ModelDialog(QDialog):
    """Catalogue, downloads with progress and cancel, a local file, device and precision.

    settings: a CheckpointSettings, or the application's QSettings (default: QSettings()).
    After ``exec()`` returns Accepted, ``selection`` holds the choice (also saved in ``settings``).
    """

    def __init__(self, parent: QWidget | None = None, settings: CheckpointSettings | QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model")
        self.resize(900, 560)
        self.settings = settings if isinstance(settings, CheckpointSettings) else CheckpointSettings(settings)
        self.selection: ModelSelection | None = None
        self._download: BackgroundJob | None = None
        self._downloading: CheckpointEntry | None = None
        self._inspect: BackgroundJob | None = None
        self._local: Path | None = None  # a checked local file, when that is the choice
        self._build()
        self._restore(self.settings.selection())
        self._refresh()

    # ----- layout
    def _build(self) -> None:
        intro = QLabel(
            "SAM 2 comes in four sizes: smaller is faster, larger is more accurate. "
            "SAM 2.1 tiny is a good start; files are downloaded once into your cache folder."
        )
        intro.setWordWrap(True)
        self.table = catalogue_table()
        self.table.itemSelectionChanged.connect(self._row_selected)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._double_clicked(row))

        self.download_button = QPushButton("Download")
        self.download_button.clicked.connect(self.start_download)
        self.cancel_button = QPushButton("Cancel download")
        self.cancel_button.clicked.connect(self.cancel_download)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        self.progress_label = QLabel("")
        downloads = QHBoxLayout()
        downloads.addWidget(self.download_button)
        downloads.addWidget(self.cancel_button)
        downloads.addWidget(self.progress, 1)
        downloads.addWidget(self.progress_label)

        self.local_button = QPushButton("Use a local file…")
        self.local_button.clicked.connect(self._browse)
        self.local_label = QLabel("")
        self.local_label.setWordWrap(True)
        local = QHBoxLayout()
        local.addWidget(self.local_button)
        local.addWidget(self.local_label, 1)

        self.error_label = QLabel("")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(_ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.device_combo = QComboBox()
        for choice, label in DEVICE_LABELS.items():
            self.device_combo.addItem(label, choice.value)
        self.precision_combo = QComboBox()
        for precision, label in PRECISION_LABELS.items():
            self.precision_combo.addItem(label, precision.value)
        self.compile_box = QCheckBox("Compile the model with torch.compile (CUDA only; slow first frames, faster after)")
        form = QFormLayout()
        form.addRow("Device", self.device_combo)
        form.addRow("Precision", self.precision_combo)
        form.addRow("", self.compile_box)

        self.choice_label = QLabel("")
        self.choice_label.setWordWrap(True)
        self.buttons = action_buttons(self, "Use this model", self.accept)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(downloads)
        layout.addLayout(local)
        layout.addWidget(self.error_label)
        layout.addLayout(form)
        layout.addWidget(self.choice_label)
        layout.addWidget(self.buttons)

    def _restore(self, saved: ModelSelection | None) -> None:
        """Show the saved choice: its row (or local file), device and precision."""
        row = next((i for i, e in enumerate(CATALOGUE) if e.name == DEFAULT_NAME), 0)
        if saved is not None:
            self.device_combo.setCurrentIndex(max(0, self.device_combo.findData(saved.device.value)))
            self.precision_combo.setCurrentIndex(max(0, self.precision_combo.findData(saved.precision.value)))
            self.compile_box.setChecked(saved.compile)
            cached = [i for i, e in enumerate(CATALOGUE) if checkpoint_path(e) == saved.path]
            if cached:
                row = cached[0]
            else:
                self.table.selectRow(row)
                self.use_local_file(saved.path)
                return
        self.table.selectRow(row)

    # ----- state
    @property
    def is_busy(self) -> bool:
        """A download or a file check is running."""
        return self._download is not None or self._inspect is not None

    def selected_entry(self) -> CheckpointEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return CATALOGUE[rows[0].row()] if rows else None

    def chosen_path(self) -> Path | None:
        """The checkpoint "Use this model" would pick: the checked local file, else the selected downloaded row."""
        if self._local is not None:
            return self._local
        entry = self.selected_entry()
        if entry is not None and checkpoint_path(entry).is_file():
            return checkpoint_path(entry)
        return None

    def _refresh(self) -> None:
        for row, entry in enumerate(CATALOGUE):
            target, partial = checkpoint_path(entry), partial_bytes(entry)
            if self._downloading is entry:
                status = "Downloading…"
            elif target.is_file():
                status = "Downloaded"
            else:
                status = "Not downloaded" if partial is None else f"Partial ({format_bytes(partial)}), resumes"
            item = self.table.item(row, STATUS_COLUMN)
            item.setText(status)
            item.setToolTip(str(target) if target.is_file() else status)
        entry = self.selected_entry()
        busy = self._download is not None
        self.download_button.setEnabled(not busy and entry is not None and not checkpoint_path(entry).is_file())
        self.cancel_button.setEnabled(busy)
        self.progress.setVisible(busy)
        self.local_button.setEnabled(self._inspect is None)
        chosen = self.chosen_path()
        ok_button(self.buttons).setEnabled(chosen is not None and self._inspect is None)
        if chosen is not None:
            self.choice_label.setText(f"Will use: {chosen}")
        elif entry is not None:
            self.choice_label.setText(f"{entry.title} is not downloaded yet: press Download, or use a local file.")
        else:
            self.choice_label.setText("Choose a model.")

    def _row_selected(self) -> None:
        if self.table.selectionModel().selectedRows():
            self._local = None
            self.local_label.setText("")
        self._refresh()

    def _double_clicked(self, row: int) -> None:
        entry = CATALOGUE[row]
        if checkpoint_path(entry).is_file():
            self.accept()
        elif self._download is None:
            self.start_download()

    # ----- downloads
    def start_download(self) -> None:
        """Download the selected model in the background (resuming a partial file)."""
        entry = self.selected_entry()
        if entry is None or self._download is not None or checkpoint_path(entry).is_file():
            return
        self.error_label.setText("")
        self.progress.setValue(0)
        self.progress_label.setText("Connecting…")
        job = download_job(entry, parent=self)
        job.progress.connect(self._on_progress)
        job.succeeded.connect(lambda path: self._download_ended(f"{entry.title} downloaded and checked."))
        job.failed.connect(lambda message: self._download_ended("", error=message))
        job.cancelled.connect(lambda: self._download_ended("Cancelled; the next download resumes where this one stopped."))
        self._download, self._downloading = job, entry
        self._refresh()
        job.start()

    def cancel_download(self) -> None:
        if self._download is not None:
            self._download.cancel()
            self.progress_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)

    def _on_progress(self, report: DownloadProgress) -> None:
        if report.fraction is not None:
            self.progress.setValue(int(round(1000 * report.fraction)))
        self.progress_label.setText(report.message)

    def _download_ended(self, message: str, error: str = "") -> None:
        job, self._download, self._downloading = self._download, None, None
        if job is not None:
            job.wait()
            job.deleteLater()
        self.progress_label.setText(message)
        if error:
            self.error_label.setText(f"{error}\nYou can also use a checkpoint file you already have (Use a local file…).")
        self._refresh()

    # ----- local file
    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Choose a SAM 2 checkpoint", "", "PyTorch checkpoints (*.pt *.pth);;All files (*)")
        if path:
            self.use_local_file(Path(path))

    def use_local_file(self, path: Path) -> None:
        """Check ``path`` in the background; once recognised it becomes the choice."""
        if self._inspect is not None:
            return
        self.error_label.setText("")
        self.local_label.setText(f"Checking {Path(path).name}…")
        job = inspect_job(Path(path), parent=self)
        job.succeeded.connect(lambda facts: self._inspected(Path(path), facts.description, ""))
        job.failed.connect(lambda message: self._inspected(Path(path), "", message))
        self._inspect = job
        self._refresh()
        job.start()

    def _inspected(self, path: Path, description: str, error: str) -> None:
        job, self._inspect = self._inspect, None
        if job is not None:
            job.wait()
            job.deleteLater()
        if error:
            self.local_label.setText("")
            self.error_label.setText(error)
        else:
            self.table.clearSelection()
            self._local = path
            self.local_label.setText(f"{path.name}: {description}")
        self._refresh()

    # ----- closing
    def accept(self) -> None:
        path = self.chosen_path()
        if path is None or self._inspect is not None:
            return
        self.selection = ModelSelection(
            path=path,
            device=DeviceChoice(self.device_combo.currentData()),
            precision=PrecisionChoice(self.precision_combo.currentData()),
            compile=self.compile_box.isChecked(),
        )
        self.settings.save(self.selection)
        self._stop_jobs()
        super().accept()

    def reject(self) -> None:
        self._stop_jobs()
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt's name
        self._stop_jobs()
        super().closeEvent(event)

    def _stop_jobs(self) -> None:
        """Cancel a running download (its part file stays for resuming) and wait for the jobs to end."""
        for job in (self._download, self._inspect):
            if job is not None:
                job.cancel()
                job.wait()
