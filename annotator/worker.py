"""The one long-lived model worker: a QThread that owns the SAM 2 engine (a VideoSession).

The window sends typed, immutable requests through a queued signal and gets results back the
same way; it never waits on the model. Cancelling a propagation is a plain thread-safe flag
checked by the engine between frames: a queued "cancel" slot would never run while this
thread is busy. Prefetch requests superseded by a newer frame are dropped unseen.
QtCore only: no widgets.
"""

from __future__ import annotations

import os
import sys
import threading
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol

import numpy as np
from PySide6.QtCore import QObject, QThread, Qt, Signal, Slot

from core.allocator import one_heap
from core.masks import Rle
from core.models.runtime import ModelSelection
from core.types import Direction, FrameResult, FrameSource, Prompt


GIL_SWITCH_S = 0.001
MODEL_NICE = 5  # the model thread's niceness above the window's (Linux)


def lower_priority(steps: int) -> bool:
    """Make the calling thread ``steps`` nicer than the process's main thread, where the system
    allows (threads it starts from then on inherit it); True when so. Idempotent."""
    if not sys.platform.startswith("linux"):
        return False  # only Linux keeps a niceness per thread; elsewhere the window would pay too
    try:
        target = os.getpriority(os.PRIO_PROCESS, os.getpid()) + steps
        if os.getpriority(os.PRIO_PROCESS, 0) < target:
            os.setpriority(os.PRIO_PROCESS, 0, target)
    except (AttributeError, OSError):  # Windows has no setpriority; a sandbox may refuse it
        return False
    return True


@dataclass(frozen=True)
class LoadedModel:
    """A model ready for the engine. label: what it runs on, for the status bar (``cpu · fp32``);
    context: makes the context every engine call runs in (autocast for bfloat16); warm_up: run
    once on the worker right after loading, before the model is announced ready."""

    model: Any
    label: str
    context: Callable[[], AbstractContextManager[object]] = nullcontext
    warm_up: Callable[[], None] | None = None


@dataclass(frozen=True)
class LoadModelRequest:
    selection: ModelSelection


@dataclass(frozen=True)
class OpenVideoRequest:
    """Open the video for the engine (the worker reads its own copy of the frames). cache_mb: frame cache."""

    path: str
    cache_mb: int = 256
    feature_cache_frames: int = 16


@dataclass(frozen=True)
class CloseVideoRequest:
    pass


@dataclass(frozen=True)
class PromptRequest:
    """Clicks and/or a box for one object on one frame; replaces that frame's earlier prompt."""

    request_id: int
    prompt: Prompt


@dataclass(frozen=True)
class PrefetchRequest:
    """Compute the image features of a frame the annotator is looking at."""

    frame: int


@dataclass(frozen=True)
class RemoveObjectRequest:
    obj_id: int


@dataclass(frozen=True)
class Leg:
    """One stretch of a propagation: from start_frame in direction, to end_frame (inclusive) or the video's end."""

    start_frame: int
    direction: Direction
    end_frame: int | None = None


@dataclass(frozen=True)
class PropagateRequest:
    """Track objects through the video, one leg after the other (a range tracked both ways is two legs).

    conditioning: obj_id -> frame -> Prompt, or the hand-edited mask (Rle) SAM 2 gets as a mask
    prompt; the worker brings the engine in line with it before tracking.
    locked: (obj_id, frame) pairs the engine must not overwrite.
    """

    run_id: int
    legs: tuple[Leg, ...]
    obj_ids: tuple[int, ...]
    conditioning: dict[int, dict[int, Prompt | Rle]]
    locked: frozenset[tuple[int, int]] = frozenset()


Request = LoadModelRequest | OpenVideoRequest | CloseVideoRequest | PromptRequest | PrefetchRequest | RemoveObjectRequest | PropagateRequest


class Engine(Protocol):
    """What the worker uses of core.video.VideoSession."""

    def add_prompt(self, prompt: Prompt, clear_old: bool = True) -> FrameResult: ...
    def add_mask(self, frame: int, obj_id: int, mask: np.ndarray) -> FrameResult: ...
    def clear_prompts(self, frame: int, obj_id: int | None = None) -> None: ...
    def remove_object(self, obj_id: int) -> None: ...
    def prefetch_features(self, frame: int) -> None: ...
    def propagate(self, start_frame: int | None = None, direction: Direction = Direction.BOTH, **kwargs: Any) -> Iterator[FrameResult]: ...


ModelLoader = Callable[[ModelSelection], LoadedModel]
EngineFactory = Callable[[Any, FrameSource, int], Engine]
FrameOpener = Callable[[str, int], FrameSource]


def load_model(selection: ModelSelection) -> LoadedModel:
    """The real loader: our SAM 2 from an official-format checkpoint, on the device the machine offers.

    Runs on the worker thread; torch is imported here, on first use, not when the window starts.
    """
    import torch

    from core.models import accelerate
    from core.sam2 import checkpoint

    runtime = accelerate.resolve_here(selection)
    if runtime.device == "cpu":
        # torch's threads on every core (leaving one to the window halved clicks and tracking
        # on a 2-core machine), this thread and the compute threads it starts below the window's
        # priority instead, so that the GUI thread gets a core the moment it has work.
        lower_priority(MODEL_NICE)
    from core.video import warm_up

    model = checkpoint.load_model(str(selection.path), runtime.device)
    accelerate.compile_modules(model, runtime)
    # Two encoder runs bring the process to the steady state of clicks (core/video/features.py),
    # so that the first click on the next video is as fast as any other.
    return LoadedModel(model, runtime.label, lambda: accelerate.autocast(runtime), lambda: warm_up(model, runs=2))


def make_engine(model: Any, frames: FrameSource, feature_cache_frames: int) -> Engine:
    """The real engine, core.video.VideoSession.

    A click on an already tracked frame becomes a conditioning frame, so a correction carries
    forward through every later propagation (the official default re-tracks such a frame
    without its clicks, which silently undoes the correction).
    """
    from core.video import VideoSession

    return VideoSession(model, frames, feature_cache_frames=feature_cache_frames, corrections_as_conditioning=True)


def preload_frame_decoding() -> None:
    """Import the video decoders (PyAV, OpenCV: about 0.15 s) on the worker thread as it starts.

    Otherwise the first video opened pays for it on both threads, just when the annotator
    waits for frame 0 and its first click.
    """
    import core.frames  # noqa: F401


def open_frames(path: str, cache_mb: int) -> FrameSource:
    from core.frames import open_frames as open_

    return open_(path, cache_mb=cache_mb)


class CancelFlags:
    """Thread-safe cancel flags per propagation run, plus one that cancels everything (closing)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: set[int] = set()
        self._all = threading.Event()

    def cancel(self, run_id: int) -> None:
        with self._lock:
            self._runs.add(run_id)

    def cancel_all(self) -> None:
        self._all.set()

    def is_cancelled(self, run_id: int) -> bool:
        if self._all.is_set():
            return True
        with self._lock:
            return run_id in self._runs


def _same_input(a: Prompt | Rle | None, b: Prompt | Rle | None) -> bool:
    if isinstance(a, Rle) or isinstance(b, Rle) or a is None or b is None:
        return a == b
    same_box = (a.box is None and b.box is None) or (
        a.box is not None and b.box is not None and np.array_equal(a.box, b.box))
    return same_box and np.array_equal(a.points, b.points) and np.array_equal(a.labels, b.labels)


class ModelWorker(QObject):
    """Lives on the worker thread; every slot runs there.

    Signals: modelReady(description: str); modelFailed(message: str); videoReady(path: str);
    promptDone(request_id: int, FrameResult); prefetched(frame: int) for every PrefetchRequest,
    computed or skipped as stale; frameDone(run_id: int, FrameResult);
    progress(run_id: int, done: int, total: int); runFinished(run_id: int, cancelled: bool, frames: int);
    failed(message: str) for any other request that went wrong (one line).
    """

    modelReady = Signal(str)
    modelFailed = Signal(str)
    videoReady = Signal(str)
    promptDone = Signal(int, object)
    prefetched = Signal(int)
    frameDone = Signal(int, object)
    progress = Signal(int, int, int)
    runFinished = Signal(int, bool, int)
    failed = Signal(str)

    def __init__(self, flags: CancelFlags, loader: ModelLoader, factory: EngineFactory, opener: FrameOpener) -> None:
        super().__init__()
        self.flags = flags
        self._loader, self._factory, self._opener = loader, factory, opener
        self._model: LoadedModel | None = None
        self._frames: FrameSource | None = None
        self._feature_cache = 16
        self._engine: Engine | None = None
        # What the engine has been given: (obj_id, frame) -> Prompt | Rle.
        self._given: dict[tuple[int, int], Prompt | Rle] = {}
        self.latest_prefetch = -1  # written by the GUI thread; a plain int store is atomic

    @Slot(object)
    def handle(self, request: Request) -> None:
        try:
            context = self._model.context() if self._model is not None else nullcontext()
            with context:
                self._dispatch(request)
        except Exception as exc:  # one clear line for the status bar, never a dead thread
            message = f"{type(exc).__name__}: {exc}".splitlines()[0]
            if isinstance(request, LoadModelRequest):
                self.modelFailed.emit(message)
            else:
                self.failed.emit(message)
            if isinstance(request, PropagateRequest):
                self.runFinished.emit(request.run_id, True, 0)

    def _dispatch(self, request: Request) -> None:
        if isinstance(request, LoadModelRequest):
            self._model, self._engine = None, None
            self._model = self._loader(request.selection)
            self._rebuild_engine()
            if self._model.warm_up is not None:
                # Announced once warm, so that "ready" means a click gets its usual speed.
                with self._model.context():  # the context every later call runs in
                    self._model.warm_up()
            self.modelReady.emit(self._model.label)
        elif isinstance(request, OpenVideoRequest):
            self.release()
            self._frames = self._opener(request.path, request.cache_mb)
            self._feature_cache = request.feature_cache_frames
            self._rebuild_engine()
            self.videoReady.emit(request.path)
        elif isinstance(request, CloseVideoRequest):
            self.release()
        elif isinstance(request, PrefetchRequest):
            try:
                if self._engine is not None and request.frame == self.latest_prefetch:
                    self._engine.prefetch_features(request.frame)
            finally:  # every request answered, so the GUI can count what is still queued
                self.prefetched.emit(request.frame)
        elif isinstance(request, PromptRequest):
            engine = self._need_engine()
            result = engine.add_prompt(request.prompt, clear_old=True)
            self._given[(request.prompt.obj_id, request.prompt.frame)] = request.prompt
            self.promptDone.emit(request.request_id, result)
        elif isinstance(request, RemoveObjectRequest):
            if self._engine is not None:
                self._engine.remove_object(request.obj_id)
            self._given = {k: v for k, v in self._given.items() if k[0] != request.obj_id}
        elif isinstance(request, PropagateRequest):
            self._propagate(request)

    def release(self) -> None:
        """Drop the engine and close the video (on this thread, or after the thread stopped)."""
        self._engine = None
        self._given.clear()
        close = getattr(self._frames, "close", None)
        self._frames = None
        if close is not None:
            close()

    def _rebuild_engine(self) -> None:
        self._given.clear()
        if self._model is not None and self._frames is not None:
            self._engine = self._factory(self._model.model, self._frames, self._feature_cache)

    def _need_engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("no model loaded" if self._model is None else "no video open")
        return self._engine

    def _sync(self, engine: Engine, conditioning: dict[int, dict[int, Prompt | Rle]]) -> None:
        """Give the engine exactly the prompts and edited masks of the document."""
        for obj_id, wanted in conditioning.items():
            given = {f: v for (o, f), v in self._given.items() if o == obj_id}
            if any(f not in wanted for f in given):
                # An input was taken back (undo, cleared frame): start this object afresh.
                engine.remove_object(obj_id)
                self._given = {k: v for k, v in self._given.items() if k[0] != obj_id}
                given = {}
            for frame in sorted(wanted):
                value = wanted[frame]
                if _same_input(given.get(frame), value):
                    continue
                if isinstance(value, Rle):
                    engine.add_mask(frame, obj_id, value.decode())
                else:
                    engine.add_prompt(value, clear_old=True)
                self._given[(obj_id, frame)] = value

    def _propagate(self, request: PropagateRequest) -> None:
        engine = self._need_engine()
        run_id, locked = request.run_id, request.locked
        self._sync(engine, request.conditioning)
        total = sum(self._leg_length(leg) for leg in request.legs)
        self.progress.emit(run_id, 0, total)
        done = 0
        for leg in request.legs:
            if self.flags.is_cancelled(run_id):
                break
            results = engine.propagate(
                leg.start_frame, leg.direction, end_frame=leg.end_frame, obj_ids=list(request.obj_ids),
                locked=lambda obj_id, frame: (obj_id, frame) in locked,
                cancel=lambda: self.flags.is_cancelled(run_id),
            )
            for result in results:
                done += 1
                self.frameDone.emit(run_id, result)
                self.progress.emit(run_id, done, max(total, done))
                if self.flags.is_cancelled(run_id):
                    break  # the engine checks too; this also covers an engine between yields
        self.runFinished.emit(run_id, self.flags.is_cancelled(run_id), done)

    def _leg_length(self, leg: Leg) -> int:
        """Frames a leg will yield (the start frame is yielded by each direction of BOTH)."""
        n = len(self._frames) if self._frames is not None else 0
        start = leg.start_frame
        forward_end = n - 1 if leg.end_frame is None else leg.end_frame
        backward_end = 0 if leg.end_frame is None else leg.end_frame
        if leg.direction is Direction.FORWARD:
            return max(0, forward_end - start + 1)
        if leg.direction is Direction.BACKWARD:
            return max(0, start - backward_end + 1)
        return (n - start) + (start + 1)


class WorkerHandle(QObject):
    """The GUI thread's side: starts the thread, sends requests, cancels, shuts down cleanly.

    The worker's signals are re-exposed as ``handle.worker.<signal>``; connect to them directly
    (Qt queues them onto the receiver's thread).
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
            self.worker.latest_prefetch = request.frame
        self._submit.emit(request)

    def cancel(self, run_id: int) -> None:
        self.flags.cancel(run_id)

    def shutdown(self, timeout_ms: int = 30000) -> bool:
        """Cancel whatever runs, stop the thread and wait for it; True when it stopped in time."""
        if not self.thread.isRunning():
            return True
        self.flags.cancel_all()
        self.worker.latest_prefetch = -2  # drop queued prefetches
        self.thread.quit()
        stopped = bool(self.thread.wait(timeout_ms))
        if stopped:
            self.worker.release()  # the thread is gone: closing its video here is safe
        return stopped
