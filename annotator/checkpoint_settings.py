"""The chosen model in the settings, and the Model dialog's background jobs (download, file check).

QtCore only. The jobs run on their own QThread and report through queued signals, so the
window never waits on the network or on torch; cancelling is a plain thread-safe flag that
the download checks between blocks.

The load check needs torch; ``core.checkpoints.verify`` is imported inside the functions that
need it, so opening the dialog does not load torch on the GUI thread.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QSettings, QThread, Signal

from core.checkpoints.catalogue import CheckpointEntry, default_entry
from core.checkpoints.download import DownloadCancelled, download_entry
from core.checkpoints.paths import checkpoint_path
from core.checkpoints.progress import DownloadProgress
from core.checkpoints.runtime import ModelSelection, selection_from_strings

Inspector = Callable[[Path], object]
"""Returns a ``core.checkpoints.verify.CheckpointFacts`` (or raises) for the file at the path."""

_GROUP = "model"


class CheckpointSettings:
    """The model choice in QSettings (group ``model``): checkpoint path, device, precision, compile."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.settings = settings if settings is not None else QSettings()

    def selection(self) -> ModelSelection | None:
        """The saved choice; else the default checkpoint when it is downloaded; else None.

        A saved checkpoint whose file has gone since is not returned (None, or the default).
        """
        s = self.settings
        s.beginGroup(_GROUP)
        try:
            path = str(s.value("checkpoint", "") or "")
            device = str(s.value("device", "auto") or "auto")
            precision = str(s.value("precision", "auto") or "auto")
            compile_ = str(s.value("compile", "false")).lower() in ("true", "1")
        finally:
            s.endGroup()
        if not path or not Path(path).is_file():
            fallback = checkpoint_path(default_entry())
            if not fallback.is_file():
                return None
            path = str(fallback)
        return selection_from_strings(path, device, precision, compile_)

    def save(self, selection: ModelSelection) -> None:
        s = self.settings
        s.beginGroup(_GROUP)
        try:
            s.setValue("checkpoint", str(selection.path))
            s.setValue("device", selection.device.value)
            s.setValue("precision", selection.precision.value)
            s.setValue("compile", "true" if selection.compile else "false")
        finally:
            s.endGroup()
        s.sync()


def default_inspector() -> Inspector:
    """``core.checkpoints.verify.inspect_file``, imported when needed (see the module docstring)."""
    from core.checkpoints.verify import inspect_file

    return inspect_file


def entry_verifier(entry: CheckpointEntry) -> Inspector:
    """``core.checkpoints.verify.verifier_for(entry)``, imported when needed."""
    from core.checkpoints.verify import verifier_for

    return verifier_for(entry)


Work = Callable[[Callable[[], bool], Callable[[DownloadProgress], None]], object]


class BackgroundJob(QThread):
    """One piece of work on its own thread.

    Signals (delivered on the thread that created the job): progress(DownloadProgress),
    succeeded(result), failed(one-line message), cancelled(); ``done`` after any of the last three.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    done = Signal()

    def __init__(self, work: Work, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._cancel = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop at its next check; safe from any thread."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def run(self) -> None:
        try:
            result = self._work(self._cancel.is_set, self.progress.emit)
        except DownloadCancelled:
            self.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - the dialog shows one line, never a traceback
            text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            self.failed.emit(text)
        else:
            if self._cancel.is_set():
                self.cancelled.emit()
            else:
                self.succeeded.emit(result)
        self.done.emit()


def download_job(
    entry: CheckpointEntry,
    *,
    directory: Path | None = None,
    url: str | None = None,
    verifier: Inspector | None = None,
    parent: QObject | None = None,
) -> BackgroundJob:
    """A job downloading ``entry`` (not started); succeeded(Path) once verified and in place."""

    def work(cancel: Callable[[], bool], report: Callable[[DownloadProgress], None]) -> Path:
        verify = verifier if verifier is not None else entry_verifier(entry)
        return download_entry(entry, verify, directory=directory, url=url, on_progress=report, cancel=cancel)

    return BackgroundJob(work, parent)


def inspect_job(path: Path, *, inspector: Inspector | None = None, parent: QObject | None = None) -> BackgroundJob:
    """A job recognising the checkpoint at ``path`` (not started); succeeded(CheckpointFacts)."""

    def work(cancel: Callable[[], bool], report: Callable[[DownloadProgress], None]) -> object:
        inspect = inspector if inspector is not None else default_inspector()
        return inspect(Path(path))

    return BackgroundJob(work, parent)
