"""File > Export dataset: pick a format, a place and a stride; the export runs on a background thread
(annotator.project_exchange.export_document on a snapshot of the document) with progress and cancel.

The place starts as the format's own name for the video (``bedroom.coco.json``, ``bedroom_davis``)
in the project's or video's folder and follows the format until the user types a path of their own.
Before writing, the dialog asks core.formats.target what the place holds: it refuses a folder
that is not a previous export of the format, and asks before replacing anything (ui.export_notice).
For COCO and YouTube-VIS it can also write the video's frames where the file names point (YOLO:
into its images/train).
Only annotated frames are written unless "All frames" is ticked; frame names can follow CVAT's
(video or image task); formats that lose pixels say per object how many (ui.export_report).
"""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QLineEdit, QMessageBox, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from ui.dialog_buttons import action_buttons, ok_button
from ui.export_notice import consent, show_exported
from ui.export_report import ExportReport

from annotator.document import AnnotationDocument
from annotator.project_exchange import FrameImages, default_export_path, export_document, frames_to_write
from core.formats import FORMATS, ExportCancelled, ExportTarget, FormatError, inspect_target
from core.formats.frame_images import DEFAULT_QUALITY, FORMATS_WITH_FRAMES
from core.formats.options import CVAT_IMAGE, CVAT_VIDEO, MASKLET, ExportOptions

NAMED_FRAMES = ("coco", "ytvis", "datumaro")  # formats whose files name the frames
FRAME_NAME_CHOICES = (("As imported (else NAME/00004.jpg)", None), ("NAME/00004.jpg (Masklet, SA-V)", MASKLET),
                      ("frame_000004.jpg (CVAT video task)", CVAT_VIDEO), ("00004.jpg (CVAT image task)", CVAT_IMAGE))


def snapshot(doc: AnnotationDocument) -> AnnotationDocument:
    """A copy the export can read while the annotator keeps editing (entries are immutable)."""
    copy_ = AnnotationDocument(doc.video)
    copy_.objects = dict(doc.objects)
    copy_.masks = {k: dict(v) for k, v in doc.masks.items()}
    copy_.prompts = {k: dict(v) for k, v in doc.prompts.items()}
    copy_.metadata = dict(doc.metadata)  # imported ids, names and categories go back out
    return copy_


class ExportJob(QObject):
    """Runs one export on a Python thread. Signals: progress(done, total); finished(error: str, "" on success)."""

    progress = Signal(int, int)
    finished = Signal(str)

    def __init__(self, doc: AnnotationDocument, fmt: str, out: Path, stride: ExportOptions | int,
                 overwrite: bool = False, frames: FrameImages | None = None) -> None:
        """overwrite: the user agreed to replace what is at ``out`` (see core.formats.target);
        frames: also write the video's frames beside a COCO / YouTube-VIS file."""
        super().__init__()
        self.doc, self.fmt, self.out, self.stride, self.overwrite = snapshot(doc), fmt, out, stride, overwrite
        self.frames = frames
        self.cancelled = threading.Event()
        self.thread = threading.Thread(target=self._run, name="masklet-export", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            export_document(self.doc, self.fmt, self.out, self.stride, overwrite=self.overwrite,
                            progress=lambda done, total, message="": self.progress.emit(done, total),
                            cancel=self.cancelled.is_set, frames=self.frames)
        except ExportCancelled:
            self.finished.emit("cancelled")
        except (OSError, ValueError) as exc:
            self.finished.emit(str(exc).splitlines()[0] or type(exc).__name__)
        else:
            self.finished.emit("")


class ExportDialog(QDialog):
    """default_dir: the folder default names go in (the project's or the video's); notice: the last
    success notice (kept so that it outlives the dialog)."""

    def __init__(self, doc: AnnotationDocument, default_dir: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export dataset")
        self.doc = doc
        self.default_dir = default_dir
        self.job: ExportJob | None = None
        self.notice: QMessageBox | None = None
        self.format = QComboBox()
        for fmt in FORMATS.values():
            self.format.addItem(fmt.label, fmt.name)
        self.path = QLineEdit()
        self.path.setObjectName("exportPath")
        self._auto_path = ""  # the path the dialog filled in itself; any other text is the user's
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.stride = QSpinBox()
        self.stride.setRange(1, 1000)
        self.stride.setToolTip("Export every Nth frame (SA-V's own data uses 4)")
        self.with_frames = QCheckBox("Also write the video's frames as JPEGs")
        self.with_frames.setToolTip("COCO, YouTube-VIS: where the file names point (NAME/00004.jpg); "
                                    "YOLO: into images/train")
        self.quality = QSpinBox()
        self.quality.setRange(1, 95)
        self.quality.setValue(DEFAULT_QUALITY)
        self.quality.setToolTip("JPEG quality of the frames: 1 smallest files, 95 best pictures")
        frames_row = QHBoxLayout()
        frames_row.addWidget(self.with_frames, 1)
        frames_row.addWidget(QLabel("Quality"))
        frames_row.addWidget(self.quality)
        self.with_frames.toggled.connect(self.quality.setEnabled)
        self.quality.setEnabled(False)
        self.all_frames = QCheckBox("Also write frames nobody annotated (as frames with no object)")
        self.all_frames.setObjectName("exportAllFrames")
        self.frame_names = QComboBox()
        self.frame_names.setObjectName("exportFrameNames")
        for label, style in FRAME_NAME_CHOICES:
            self.frame_names.addItem(label, style)
        self.report = ExportReport()
        self.report.use_png.connect(self._use_png)
        self.bar = QProgressBar()
        self.status = QLabel("")
        form = QFormLayout()
        form.addRow("Format", self.format)
        form.addRow("Save to", row)
        form.addRow("Every Nth frame", self.stride)
        form.addRow("", self.all_frames)
        form.addRow("Frame names", self.frame_names)
        form.addRow("Frames", frames_row)
        self.buttons = action_buttons(self, "Export", self.start)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.report)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.stride.valueChanged.connect(self._options_changed)
        self.all_frames.toggled.connect(self._options_changed)
        self._format_changed()
        self.setMinimumWidth(560)  # room for a whole path

    def set_format(self, name: str) -> None:
        self.format.setCurrentIndex(self.format.findData(name))

    def default_path(self, fmt: str | None = None) -> Path | None:
        """The format's default output for this video in ``default_dir`` (None without a folder)."""
        if not self.default_dir or self.doc.video is None:
            return None
        return default_export_path(self.doc, fmt or self.format.currentData(), self.default_dir)

    def options(self) -> ExportOptions:
        """The export's options as the form says them."""
        return ExportOptions(self.stride.value(), self.all_frames.isChecked(), self.frame_names.currentData())

    def _options_changed(self) -> None:
        self.report.request(snapshot(self.doc), self.format.currentData(), self.options())

    def _use_png(self) -> None:
        self.set_format("png")

    def _format_changed(self) -> None:
        self._options_changed()
        self.frame_names.setEnabled(self.format.currentData() in NAMED_FRAMES)
        named = self.format.currentData() in FORMATS_WITH_FRAMES  # the other formats name no frame files
        self.with_frames.setEnabled(named)
        self.quality.setEnabled(named and self.with_frames.isChecked())
        if self.path.text().strip() not in ("", self._auto_path):
            return  # a path the user typed or browsed to stays theirs
        default = self.default_path()
        self._auto_path = str(default) if default is not None else ""
        self.path.setText(self._auto_path)

    def _browse(self) -> None:
        fmt = FORMATS[self.format.currentData()]
        start = self.path.text().strip() or self.default_dir
        if fmt.is_folder:  # a new or empty folder, or a previous export of this format
            folder = start if Path(start).is_dir() else str(Path(start).parent)
            path = QFileDialog.getExistingDirectory(self, "Export into folder", folder)
        else:
            kind = {".xml": "XML (*.xml)", ".txt": "Text (*.txt)"}.get(fmt.suffix, "JSON (*.json)")
            path, _ = QFileDialog.getSaveFileName(self, "Export to", start, kind)
        if path:
            self.path.setText(path)

    def start(self) -> None:
        if self.job is not None:
            return
        if not self.path.text().strip():
            self.status.setText("Choose where to export.")
            return
        fmt, out = self.format.currentData(), Path(self.path.text().strip()).expanduser()
        overwrite = self._consent(out, fmt)
        frames = None
        if overwrite is not None and fmt in FORMATS_WITH_FRAMES and self.with_frames.isChecked():
            folder = frames_to_write(self.doc, fmt, out, self.options())
            # a folder the export itself makes (YOLO's images/train in a new folder) holds nothing to replace
            new = folder is None or not folder.parent.exists()
            replace_frames = False if new else self._consent(folder, "frames")
            frames = FrameImages(self.quality.value(), replace_frames) if replace_frames is not None else None
            overwrite = overwrite if frames is not None else None
        if overwrite is None:
            self.status.setText("Nothing exported.")
            return
        self.job = ExportJob(self.doc, fmt, out, self.options(), overwrite, frames)
        self.job.progress.connect(self._progress)
        self.job.finished.connect(self._finished)
        ok_button(self.buttons).setEnabled(False)
        self.status.setText("Exporting…")
        self.job.start()

    def _progress(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)

    def _finished(self, error: str) -> None:
        job, self.job = self.job, None
        ok_button(self.buttons).setEnabled(True)
        if error or job is None:
            self.status.setText(f"Export failed: {error}" if error != "cancelled" else "Export cancelled.")
            return
        self.status.setText(f"Exported to {job.out}")
        what = FORMATS[job.fmt].title + (" and the video's frames" if job.frames is not None else "")
        self.notice = show_exported(self, job.out, what)
        self.accept()

    def _consent(self, out: Path, fmt: str) -> bool | None:
        """Whether to write ``out`` (``fmt``, or "frames"), replacing what is there: see ui.export_notice.consent."""
        try:
            target = inspect_target(out, fmt)
        except (OSError, FormatError) as exc:  # a folder we may not read
            QMessageBox.warning(self, "Cannot export here", f"Cannot read {out}: {exc}.\n\nNothing was written.")
            return None
        return consent(self, target, self._instead(target))

    def _instead(self, target: ExportTarget) -> Path | None:
        """For a refused folder: the format's own name inside it (a new file or folder there)."""
        default = self.default_path(target.fmt) if target.fmt in FORMATS else None
        return target.path / default.name if default is not None and target.path.is_dir() else None

    def done(self, result: int) -> None:
        self.report.cancel()  # a report still running is of no use once the dialog closes
        super().done(result)

    def reject(self) -> None:
        if self.job is not None:
            self.job.cancelled.set()
            self.job.thread.join(timeout=10)
        super().reject()
