"""The model worker's work, without Qt: one engine, its model and video, requests in, results out.

:class:`EngineService` handles one request at a time on whatever thread calls it (the worker
thread in the app, the caller's thread in the CLI and in tests) and reports through a
:class:`Listener`. The engine is only ever told anything through its :class:`EngineFollower`,
which first brings it in line with the document's log carried by the request.
"""

from __future__ import annotations

import threading
from contextlib import nullcontext
from typing import TYPE_CHECKING, Protocol

from core.types import FrameResult, FrameSource
from core.video.legs import frames_in
from annotator.model_loading import EngineFactory, FrameOpener, LoadedModel, ModelLoader
from annotator.requests import (
    CloseVideoRequest, FindObjectsRequest, FollowRequest, FoundObjects, LoadModelRequest, OpenVideoRequest, PrefetchRequest, PromptRequest, PropagateRequest,
    Request, RunEnd,
)

if TYPE_CHECKING:
    from core.video.follower import EngineFollower


class Listener(Protocol):
    """Where the service's results go (the worker turns each into a Qt signal)."""

    def on_model_ready(self, label: str) -> None: ...
    def on_model_failed(self, message: str) -> None: ...
    def on_video_ready(self, path: str) -> None: ...
    def on_prompt_done(self, request_id: int, result: FrameResult) -> None: ...
    def on_prefetched(self, frame: int) -> None: ...
    def on_frame_done(self, run_id: int, result: FrameResult) -> None: ...
    def on_progress(self, run_id: int, done: int, total: int) -> None: ...
    def on_run_finished(self, end: RunEnd) -> None: ...
    def on_failed(self, message: str) -> None: ...
    def on_activity(self, text: str) -> None: ...
    def on_find_progress(self, request_id: int, done: int, total: int) -> None: ...
    def on_objects_found(self, found: FoundObjects) -> None: ...


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


def one_line(exc: BaseException) -> str:
    """The error in the annotator's words: our errors (and the system's file errors) carry their
    own message; anything else is a fault, named as one."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, (ValueError, OSError, RuntimeError, LookupError)) and text:
        return text
    return f"unexpected error in SAM 2 ({type(exc).__name__}{': ' + text if text else ''})"


class EngineService:
    """Owns the loaded model, the worker's copy of the video and the engine (behind its follower).

    latest_prefetch: the frame the annotator looks at now; older PrefetchRequests are skipped
    (written by another thread; a plain int store is atomic).
    """

    def __init__(self, listener: Listener, flags: CancelFlags, loader: ModelLoader, factory: EngineFactory,
                 opener: FrameOpener) -> None:
        self.listener, self.flags = listener, flags
        self._loader, self._factory, self._opener = loader, factory, opener
        self._model: LoadedModel | None = None
        self._frames: FrameSource | None = None
        self._feature_cache = 16
        self.follower: EngineFollower | None = None
        self.latest_prefetch = -1

    def handle(self, request: Request) -> None:
        """Carry out one request; any failure becomes one line to the listener, never an exception."""
        try:
            context = self._model.context() if self._model is not None else nullcontext()
            with context:
                self._dispatch(request)
        except Exception as exc:
            self.listener.on_activity("")  # one clear line for the status bar, never a dead thread
            if isinstance(request, LoadModelRequest):
                self.listener.on_model_failed(one_line(exc))
            elif isinstance(request, PropagateRequest):
                self.listener.on_run_finished(RunEnd(request.run_id, True, 0, None, one_line(exc)))
            elif isinstance(request, FindObjectsRequest):
                self.listener.on_objects_found(FoundObjects(request.request_id, request.frame, (), False, one_line(exc)))
            else:
                self.listener.on_failed(one_line(exc))

    def _dispatch(self, request: Request) -> None:
        if isinstance(request, LoadModelRequest):
            self._model, self.follower = None, None
            self._model = self._loader(request.selection)
            self._rebuild_engine()
            if self._model.warm_up is not None:
                # Announced once warm, so that "ready" means a click gets its usual speed.
                with self._model.context():  # the context every later call runs in
                    self._model.warm_up()
            self.listener.on_model_ready(self._model.label)
        elif isinstance(request, OpenVideoRequest):
            self.release()
            self._frames = self._opener(request.path, request.cache_mb)
            self._feature_cache = request.feature_cache_frames
            self._rebuild_engine()
            self.listener.on_video_ready(request.path)
        elif isinstance(request, CloseVideoRequest):
            self.release()
        elif isinstance(request, PrefetchRequest):
            try:
                if self.follower is not None and request.frame == self.latest_prefetch:
                    self._say_encoding(request.frame)
                    self.follower.engine.prefetch_features(request.frame)
            finally:  # every request answered, so the GUI can count what is still queued
                self.listener.on_activity("")
                self.listener.on_prefetched(request.frame)
        elif isinstance(request, PromptRequest):
            follower = self._need_follower()
            self._say_catching_up(request.log)
            self._say_encoding(request.item.frame, "computing the mask…")
            result = follower.prompt(request.log, request.item)
            self.listener.on_activity("")
            self.listener.on_prompt_done(request.request_id, result)
        elif isinstance(request, FollowRequest):
            if self.follower is not None:
                self._say_catching_up(request.log)
                self.follower.follow(request.log)
                self.listener.on_activity("")
        elif isinstance(request, PropagateRequest):
            self._propagate(request)
        elif isinstance(request, FindObjectsRequest):
            if self._model is None or self._frames is None:
                raise RuntimeError("no model loaded" if self._model is None else "no video open")
            from annotator.auto_objects_service import find_objects  # torch: on the worker thread

            self.listener.on_activity(f"finding objects on frame {request.frame}…")
            found = find_objects(self._model.model, self._frames.get(request.frame), request, self.flags, self.listener)
            self.listener.on_activity("")
            self.listener.on_objects_found(found)

    def _say_encoding(self, frame: int, otherwise: str = "") -> None:
        """Tell the annotator what the next step waits for: the image encoder, or only the heads."""
        assert self.follower is not None
        cached = self.follower.engine.has_features(frame)
        text = otherwise if cached else f"encoding frame {frame}…"
        if text:
            self.listener.on_activity(text)

    def _say_catching_up(self, log: tuple) -> None:
        assert self.follower is not None
        behind = self.follower.behind(log)
        if behind > 1:
            self.listener.on_activity(f"replaying {behind} earlier inputs…")

    def release(self) -> None:
        """Drop the engine and close the video (on this thread, or after the thread stopped)."""
        self.follower = None
        frames, self._frames = self._frames, None
        close = getattr(frames, "close", None)
        if close is not None:
            close()

    def _rebuild_engine(self) -> None:
        self.follower = None
        if self._model is not None and self._frames is not None:
            from core.video.follower import EngineFollower  # torch: on the worker thread, once a model loads

            self.follower = EngineFollower(self._factory(self._model.model, self._frames, self._feature_cache))

    def _need_follower(self) -> EngineFollower:
        if self.follower is None:
            raise RuntimeError("no model loaded" if self._model is None else "no video open")
        return self.follower

    def _propagate(self, request: PropagateRequest) -> None:
        follower = self._need_follower()
        run_id = request.run_id
        total = frames_in(request.run.legs, len(self._frames) if self._frames is not None else 0)
        done = 0

        def on_frame(result: FrameResult) -> None:
            nonlocal done
            done += 1
            self.listener.on_frame_done(run_id, result)
            self.listener.on_progress(run_id, done, total)

        self.listener.on_progress(run_id, 0, total)
        run = follower.track(request.log, request.run, lambda: self.flags.is_cancelled(run_id), on_frame)
        self.listener.on_run_finished(RunEnd(run_id, done < total, done, run))
