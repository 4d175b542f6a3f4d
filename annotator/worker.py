"""The one long-lived model worker: a QThread that owns the SAM 2 engine (through EngineService).

The session sends typed, immutable requests through a queued signal and gets results back the
same way; it never waits on the model. Cancelling a propagation is a plain thread-safe flag
checked by the engine between frames: a queued "cancel" slot would never run while this thread
is busy. :class:`InlineWorker` offers the same interface on the caller's thread (the CLI, tests).
QtCore only: no widgets.
"""

from __future__ import annotations

import sys
from typing import Callable, cast

from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from annotator.engine_service import CancelFlags, EngineService, Listener
from annotator.model_loading import (
    EngineFactory, FrameOpener, ModelLoader, load_model, make_engine, open_frames, preload_frame_decoding,
)
from annotator.requests import PrefetchRequest, Request
from core.allocator import one_heap

GIL_SWITCH_S = 0.001


class ModelWorker(QObject):
    """The engine service's results as signals; ``handle`` runs each request where this object lives.

    Signals: modelReady(description: str); modelFailed(message: str); videoReady(path: str);
    promptDone(request_id: int, FrameResult); prefetched(frame: int) for every PrefetchRequest,
    computed or skipped as stale; frameDone(run_id: int, FrameResult);
    progress(run_id: int, done: int, total: int); runFinished(RunEnd);
    failed(message: str) for any other request that went wrong (one line);
    activity(text: str): what the engine is doing now ("encoding frame 57…"), "" when done.
    """

    modelReady = Signal(str)
    modelFailed = Signal(str)
    videoReady = Signal(str)
    promptDone = Signal(int, object)
    prefetched = Signal(int)
    frameDone = Signal(int, object)
    progress = Signal(int, int, int)
    runFinished = Signal(object)
    failed = Signal(str)
    activity = Signal(str)
    findProgress = Signal(int, int, int)  # request_id, points done, points in all (FindObjectsRequest)
    objectsFound = Signal(object)  # FoundObjects

    def __init__(self, flags: CancelFlags, loader: ModelLoader, factory: EngineFactory, opener: FrameOpener) -> None:
        super().__init__()
        self.service = EngineService(cast(Listener, _SignalListener(self)), flags, loader, factory, opener)

    @Slot(object)
    def handle(self, request: Request) -> None:
        self.service.handle(request)


class _SignalListener:
    """The engine service's Listener (annotator.engine_service) for a ModelWorker: each
    ``on_<name>`` call emits the worker's signal of that name in camelCase (``on_frame_done``
    emits ``frameDone``), so every result leaves the worker thread as a queued signal."""

    def __init__(self, worker: "ModelWorker") -> None:
        self._worker = worker

    def __getattr__(self, name: str) -> Callable[..., None]:
        head, *rest = name.removeprefix("on_").split("_")
        return getattr(self._worker, head + "".join(word.title() for word in rest)).emit


class WorkerHandle(QObject):
    """The GUI thread's side: starts the thread, sends requests, cancels, shuts down cleanly.

    Connect to ``handle.worker.<signal>`` (Qt queues them onto the receiver's thread).
    """

    _submit = Signal(object)

    def __init__(
        self, loader: ModelLoader = load_model, factory: EngineFactory = make_engine,
        opener: FrameOpener = open_frames, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        # The worker's Python code holds the GIL between torch calls; hand it back to the GUI
        # thread sooner than the default 5 ms so event handling never queues behind it.
        sys.setswitchinterval(min(sys.getswitchinterval(), GIL_SWITCH_S))
        one_heap()  # the worker thread's allocations from the main heap (core/allocator.py)
        self.flags = CancelFlags()
        self.thread = QThread()
        self.thread.setObjectName("masklet-model-worker")
        self.worker = ModelWorker(self.flags, loader, factory, opener)
        self.worker.moveToThread(self.thread)
        self._submit.connect(self.worker.handle, Qt.ConnectionType.QueuedConnection)
        self.thread.started.connect(preload_frame_decoding, Qt.ConnectionType.DirectConnection)
        self.thread.start()

    def submit(self, request: Request) -> None:
        if isinstance(request, PrefetchRequest):
            self.worker.service.latest_prefetch = request.frame
        self._submit.emit(request)

    def cancel(self, run_id: int) -> None:
        self.flags.cancel(run_id)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel whatever runs, stop the thread and wait for it; True when it stopped in time."""
        if not self.thread.isRunning():
            return True
        self.flags.cancel_all()
        self.worker.service.latest_prefetch = -2  # drop queued prefetches
        self.thread.quit()
        stopped = bool(self.thread.wait(timeout_ms))
        if stopped:
            self.worker.service.release()  # the thread is gone: closing its video here is safe
        return stopped


class InlineWorker(QObject):
    """The worker's interface, carried out at once on the caller's thread (the CLI, tests).

    Requests submitted while one is being handled (from a signal it emitted) wait their turn,
    in order, as on the worker thread.
    """

    def __init__(self, loader: ModelLoader = load_model, factory: EngineFactory = make_engine,
                 opener: FrameOpener = open_frames, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.flags = CancelFlags()
        self.worker = ModelWorker(self.flags, loader, factory, opener)
        self._queue: list[Request] = []
        self._busy = False

    def submit(self, request: Request) -> None:
        if isinstance(request, PrefetchRequest):
            self.worker.service.latest_prefetch = request.frame
        self._queue.append(request)
        if self._busy:
            return
        self._busy = True
        try:
            while self._queue:
                self.worker.handle(self._queue.pop(0))
        finally:
            self._busy = False

    def cancel(self, run_id: int) -> None:
        self.flags.cancel(run_id)

    def shutdown(self, timeout_ms: int = 0) -> bool:
        self.flags.cancel_all()
        self.worker.service.release()
        return True
