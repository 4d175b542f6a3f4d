"""The SAM 2 model as the annotator sees it: none, loading, ready or failed, and busy or not.

QtCore only. Loading runs on the worker thread; this object tracks its state, asks the worker
for the image features of the frame on screen, and reports whether the worker is computing
something the annotator waits for (a click's mask, the frame on screen).
"""

from __future__ import annotations

import os
from enum import Enum

from PySide6.QtCore import QObject, Signal

from annotator.requests import LoadModelRequest, PrefetchRequest
from annotator.worker import InlineWorker, WorkerHandle
from core.checkpoints.runtime import ModelSelection


class ModelState(str, Enum):
    NONE = "none"  # no checkpoint chosen or found
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class ModelStatus(QObject):
    """Signals: stateChanged(state: str, message: str); busyChanged(busy: bool); ready() once
    a model is loaded and warm; activityChanged(text: str): what the worker does now, in the
    annotator's words ("encoding frame 57…", "3 clicks queued"), "" when nothing is waited for."""

    stateChanged = Signal(str, str)
    busyChanged = Signal(bool)
    ready = Signal()
    activityChanged = Signal(str)

    def __init__(self, worker: WorkerHandle | InlineWorker, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.state, self.message = ModelState.NONE, "no model"
        self._prefetches = 0  # PrefetchRequests not answered yet
        self._waiting = 0  # clicks awaiting their mask (told by the prompts)
        self._busy = False
        self._doing = ""  # the worker's own report
        self._queued = 0  # clicks held back until the one before them is done
        self.activity = ""
        w = worker.worker
        w.activity.connect(self._on_activity)
        w.modelReady.connect(self._on_ready)
        # bound methods, never lambdas: a method of this object runs on its (the GUI) thread,
        # queued; a lambda would run on the worker thread that emits the signal
        w.modelFailed.connect(self._on_failed)
        w.prefetched.connect(self._on_prefetched)

    @property
    def is_ready(self) -> bool:
        return self.state is ModelState.READY

    def load(self, selection: ModelSelection) -> None:
        """Load a checkpoint on the worker thread; the window stays usable meanwhile."""
        self._set(ModelState.LOADING, f"loading {os.path.basename(str(selection.path))}…")
        self.worker.submit(LoadModelRequest(selection))

    def report_none(self, why: str) -> None:
        self._set(ModelState.NONE, why)

    def prefetch(self, frame: int) -> None:
        """Have the worker compute the image features of ``frame`` (skipped once another is asked for)."""
        self._prefetches += 1
        self.worker.submit(PrefetchRequest(frame))
        self._update_busy()

    def set_waiting(self, clicks: int, queued: int = 0) -> None:
        """``clicks`` sent to the worker and awaiting their mask, ``queued`` more held back."""
        self._waiting, self._queued = clicks + queued, queued
        self._update_busy()
        self._update_activity()

    @property
    def busy(self) -> bool:
        """The worker computes something the annotator is waiting for: a click's mask, or the
        features of the frame on screen (background decoding holds back meanwhile)."""
        return self._waiting > 0 or self._prefetches > 0

    def _set(self, state: ModelState, message: str) -> None:
        self.state, self.message = state, message
        self.stateChanged.emit(state.value, message)

    def _on_failed(self, message: str) -> None:
        self._set(ModelState.FAILED, f"the model could not be loaded: {message}")

    def _on_ready(self, description: str) -> None:
        self._set(ModelState.READY, f"model ready ({description})")
        self.ready.emit()

    def _on_prefetched(self, frame: int) -> None:
        self._prefetches = max(0, self._prefetches - 1)
        self._update_busy()

    def _on_activity(self, text: str) -> None:
        self._doing = text
        self._update_activity()

    def _update_activity(self) -> None:
        parts = [self._doing] if self._doing else []
        if self._queued:
            parts.append(f"{self._queued} click{'s' if self._queued > 1 else ''} queued")
        elif self._waiting and not self._doing:
            parts.append("computing the mask…")
        text = ", ".join(parts)
        if text != self.activity:
            self.activity = text
            self.activityChanged.emit(text)

    def _update_busy(self) -> None:
        if self.busy != self._busy:
            self._busy = self.busy
            self.busyChanged.emit(self._busy)
