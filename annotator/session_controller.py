"""The annotation session behind the window: video, document, undo history, model worker, runs.

Widgets turn user gestures into calls here (a click at image pixel x, y; a box; a stroke;
propagate forward) and listen to signals; nothing here waits on the model. QtCore/QtGui only.
"""

from __future__ import annotations

import os
from enum import Enum
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from annotator.commands import (
    AddObjectCommand, EditObjectCommand, LockCommand, MaskPatch, PropagationCommand, RemoveObjectCommand,
    SetFrameCommand, StrokeCommand,
)
from annotator.doc_model import DocumentModel
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef
from annotator.session_run import PropagationRun, RunProgress, legs_for
from annotator.worker import (
    CloseVideoRequest, LoadModelRequest, OpenVideoRequest, PrefetchRequest, PromptRequest,
    PropagateRequest, RemoveObjectRequest, WorkerHandle,
)
from core.models.runtime import ModelSelection
from core.types import Direction, FrameResult, FrameSource, Prompt

PROJECT_SUFFIX = ".masklet"


class VideoMissingError(Exception):
    """A project's video is not where it was saved; ``path`` is where it was."""

    def __init__(self, path: str) -> None:
        super().__init__(f"the video of this project is missing: {path}")
        self.path = path


class ModelState(str, Enum):
    NONE = "none"  # no checkpoint chosen or found
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


def _open_frames(path: str, cache_mb: int) -> FrameSource:
    from core.frames import open_frames

    return open_frames(path, cache_mb=cache_mb)


def _fingerprint(path: str) -> str:
    from core.frames import fingerprint

    return fingerprint(path)


def _close(frames: FrameSource | None) -> None:
    """Stop a frame source's decoder and read-ahead thread (sources without close() need nothing)."""
    close = getattr(frames, "close", None)
    if close is not None:
        close()


class SessionController(QObject):
    """Signals: videoChanged(); frameChanged(frame: int); modelStateChanged(state: str, message: str);
    message(text: str) for the status bar; runStarted(run_id: int); runProgress(RunProgress);
    runFinished(cancelled: bool, frames: int); pendingChanged() when clicks await their mask;
    modelBusyChanged(busy: bool) (see ``model_busy``);
    projectPathChanged(path: str); currentObjectChanged(obj_id: int, 0 for none)."""

    videoChanged = Signal()
    frameChanged = Signal(int)
    modelStateChanged = Signal(str, str)
    message = Signal(str)
    runStarted = Signal(int)
    runProgress = Signal(object)
    runFinished = Signal(bool, int)
    pendingChanged = Signal()
    modelBusyChanged = Signal(bool)
    projectPathChanged = Signal(str)
    currentObjectChanged = Signal(int)

    def __init__(
        self, worker: WorkerHandle | None = None, frame_opener: Callable[[str, int], FrameSource] = _open_frames,
        fingerprinter: Callable[[str], str] = _fingerprint, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = DocumentModel(parent=self)
        self.undo_stack = QUndoStack(self)
        self.worker = worker or WorkerHandle(parent=self)
        self._open, self._fingerprint = frame_opener, fingerprinter
        self.frames: FrameSource | None = None
        self.frame = 0
        self.current_obj: int | None = None
        self.project_path: str | None = None
        self.cache_mb = 512
        self.feature_cache_frames = 16
        self.model_state, self.model_message = ModelState.NONE, "no model"
        self.run: PropagationRun | None = None
        self._next_id = 1
        self._pending: dict[int, Prompt] = {}  # request id -> prompt awaiting its mask
        self._prefetches = 0  # PrefetchRequests not answered yet
        self._busy = False
        self.pendingChanged.connect(self._update_busy)
        w = self.worker.worker
        w.modelReady.connect(self._on_model_ready)
        w.modelFailed.connect(self._on_model_failed)
        w.promptDone.connect(self._on_prompt_done)
        w.prefetched.connect(self._on_prefetched)
        w.frameDone.connect(self._on_frame_done)
        w.progress.connect(self._on_progress)
        w.runFinished.connect(self._on_run_finished)
        w.failed.connect(self._on_failed)

    # -- model -----------------------------------------------------------------------------
    def load_model(self, selection: ModelSelection) -> None:
        """Load a checkpoint on the worker thread; the window stays usable meanwhile."""
        self._set_model_state(ModelState.LOADING, f"loading {os.path.basename(str(selection.path))}…")
        self.worker.submit(LoadModelRequest(selection))

    def report_no_model(self, why: str) -> None:
        self._set_model_state(ModelState.NONE, why)

    def _set_model_state(self, state: ModelState, message: str) -> None:
        self.model_state, self.model_message = state, message
        self.modelStateChanged.emit(state.value, message)

    def _on_model_ready(self, description: str) -> None:
        self._set_model_state(ModelState.READY, f"model ready ({description})")
        if self.frames is not None:
            self._prefetch()

    def _on_model_failed(self, message: str) -> None:
        self._set_model_state(ModelState.FAILED, f"model failed to load: {message}")

    def _prefetch(self, frame: int | None = None) -> None:
        self._prefetches += 1
        self.worker.submit(PrefetchRequest(self.frame if frame is None else frame))
        self._update_busy()

    def _on_prefetched(self, frame: int) -> None:
        self._prefetches = max(0, self._prefetches - 1)
        self._update_busy()

    @property
    def model_busy(self) -> bool:
        """The worker computes something the annotator is waiting for: a click's mask, or the
        features of the frame on screen (background decoding holds back meanwhile)."""
        return bool(self._pending) or self._prefetches > 0

    def _update_busy(self) -> None:
        if self.model_busy != self._busy:
            self._busy = self.model_busy
            self.modelBusyChanged.emit(self._busy)

    def _on_failed(self, message: str) -> None:
        self._pending.clear()
        self.pendingChanged.emit()
        self.message.emit(f"Error: {message}")

    # -- video and project -----------------------------------------------------------------
    @property
    def video(self) -> VideoRef | None:
        return self.model.document.video

    def open_video(self, path: str) -> None:
        """Start a new document on a video file or a folder of frames (raises with a clear message).

        The worker opens the video and encodes frame 0 while this thread opens its own copy:
        the first click on a new video waits for that encoding. Should this thread's open
        fail, the worker goes back to the video still on screen (its engine state comes from
        the document, so only cached features are lost).
        """
        path = os.path.abspath(path)
        early = self.run is None
        if early:
            self._open_in_worker(path)
            if self.model_state is ModelState.READY:
                self._prefetch(0)
        try:
            frames = self._open(path, self.cache_mb)
            info = frames.info
            ref = VideoRef(path, info.width, info.height, info.frame_count, info.fps, self._fingerprint(path))
        except BaseException:
            if early:
                self._restore_worker_video()
            raise
        self._set_video(frames, AnnotationDocument(ref), None, worker_opened=early)

    def _open_in_worker(self, path: str) -> None:
        self.worker.submit(CloseVideoRequest())
        self.worker.submit(OpenVideoRequest(path, self.cache_mb, self.feature_cache_frames))

    def _restore_worker_video(self) -> None:
        if self.video is None:
            self.worker.submit(CloseVideoRequest())
            return
        self._open_in_worker(self.video.path)
        if self.model_state is ModelState.READY:
            self._prefetch()

    def open_project(self, path: str, video_path: str | None = None, recover: bool = False) -> None:
        """Open a saved project (or, with ``recover``, its newer autosave).

        video_path: where its video is now, after it moved (checked by fingerprint).
        Raises VideoMissingError when the video is not found (ask the user, then call again),
        ProjectError / FrameSourceError with one clear line otherwise.
        """
        from annotator.autosave import recover as recover_autosave
        from annotator.project import load_project, relink_video

        loaded = recover_autosave(path) if recover else load_project(path)
        doc = loaded.document
        if video_path is not None:
            relink_video(doc, video_path)
        elif loaded.video_missing:
            raise VideoMissingError(doc.video.path if doc.video is not None else "")
        frames = self._open(doc.video.path, self.cache_mb)
        self._set_video(frames, doc, os.path.abspath(path))
        if recover or video_path is not None:
            self.undo_stack.resetClean()  # the recovered or relinked state is not on disk yet

    def _set_video(self, frames: FrameSource, doc: AnnotationDocument, project: str | None,
                   worker_opened: bool = False) -> None:
        self.cancel_run()
        _close(self.frames)
        self.frames = frames
        self.model.set_document(doc)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self._pending.clear()
        self.select_object(min(doc.objects, default=None))
        self.project_path = project
        self.projectPathChanged.emit(project or "")
        if not worker_opened:
            self._open_in_worker(doc.video.path)
        self.frame = 0
        self.videoChanged.emit()
        self.set_frame(0)

    def save(self, path: str | None = None) -> str:
        from annotator.project import save_project

        target = path or self.project_path
        if target is None:
            raise ValueError("choose where to save the project")
        save_project(self.model.document, target)
        self.project_path = os.path.abspath(target)
        self.undo_stack.setClean()
        self.projectPathChanged.emit(self.project_path)
        return self.project_path

    @property
    def dirty(self) -> bool:
        return not self.undo_stack.isClean()

    # -- navigation ------------------------------------------------------------------------
    def frame_count(self) -> int:
        return len(self.frames) if self.frames is not None else 0

    def set_frame(self, frame: int) -> None:
        if self.frames is None:
            return
        self.frame = int(np.clip(frame, 0, self.frame_count() - 1))
        self.frameChanged.emit(self.frame)
        if self.model_state is ModelState.READY and self.run is None:
            self._prefetch()

    def image(self, frame: int | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB of a frame (the current one by default)."""
        assert self.frames is not None
        return self.frames.get(self.frame if frame is None else frame)

    # -- objects ---------------------------------------------------------------------------
    def add_object(self, name: str | None = None, category: str = "object") -> int:
        doc = self.model.document
        obj_id = doc.next_object_id()
        from annotator.document import PALETTE

        record = ObjectRecord(obj_id, name or f"object {obj_id}", category, PALETTE[(obj_id - 1) % len(PALETTE)])
        self.undo_stack.push(AddObjectCommand(self.model, record))
        self.select_object(obj_id)
        return obj_id

    def select_object(self, obj_id: int | None) -> None:
        """Make ``obj_id`` the object clicks, boxes and strokes go to."""
        self.current_obj = obj_id if obj_id is not None and self.model.has_object(obj_id) else None
        self.currentObjectChanged.emit(self.current_obj or 0)

    def edit_object(self, obj_id: int, **changes: Any) -> None:
        record = self.model.object(obj_id)
        if any(getattr(record, k) != v for k, v in changes.items()):
            self.undo_stack.push(EditObjectCommand(self.model, obj_id, **changes))

    def remove_object(self, obj_id: int) -> None:
        if self._refuse_while_running():
            return
        self.undo_stack.push(RemoveObjectCommand(self.model, obj_id))
        self.worker.submit(RemoveObjectRequest(obj_id))
        if self.current_obj == obj_id:
            self.select_object(min(self.model.document.objects, default=None))

    def set_locked(self, obj_id: int, frames: list[int], locked: bool) -> None:
        self.undo_stack.push(LockCommand(self.model, obj_id, frames, locked))

    # -- prompts and strokes ---------------------------------------------------------------
    def shown_prompt(self, obj_id: int, frame: int) -> Prompt | None:
        """The newest prompt of (obj_id, frame), counting clicks still waiting for their mask."""
        pending = [p for p in self._pending.values() if p.obj_id == obj_id and p.frame == frame]
        return pending[-1] if pending else self.model.prompt(obj_id, frame)

    def click(self, x: float, y: float, positive: bool) -> bool:
        """A positive or negative click at image pixel (x, y) for the current object."""
        base = self._prompt_base()
        if base is None:
            return False
        points = np.concatenate([base.points, np.array([[x, y]], np.float32)]).astype(np.float32)
        labels = np.concatenate([base.labels, np.array([1 if positive else 0], np.int32)]).astype(np.int32)
        return self._send(Prompt(self.frame, base.obj_id, points, labels, base.box))

    def box(self, x0: float, y0: float, x1: float, y1: float) -> bool:
        """A box (image pixels, any two corners) for the current object; keeps the frame's clicks."""
        base = self._prompt_base()
        if base is None:
            return False
        box = np.array([min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)], np.float32)
        return self._send(Prompt(self.frame, base.obj_id, base.points, base.labels, box))

    def _prompt_base(self) -> Prompt | None:
        if self.frames is None or self._refuse_while_running():
            return None
        if self.model_state is not ModelState.READY:
            self.message.emit(f"Clicks need a SAM 2 model ({self.model_message}); the brush works without one.")
            return None
        if self.current_obj is None or not self.model.has_object(self.current_obj):
            self.add_object()
        obj_id = self.current_obj
        entry = self.model.mask(obj_id, self.frame)
        if entry is not None and entry.locked:
            self.message.emit("This mask is locked; unlock it to change it.")
            return None
        return self.shown_prompt(obj_id, self.frame) or Prompt(self.frame, obj_id)

    def _send(self, prompt: Prompt) -> bool:
        request_id = self._next_id
        self._next_id += 1
        self._pending[request_id] = prompt
        self.pendingChanged.emit()
        self.worker.submit(PromptRequest(request_id, prompt))
        return True

    def _on_prompt_done(self, request_id: int, result: FrameResult) -> None:
        prompt = self._pending.pop(request_id, None)
        if prompt is None or not self.model.has_object(prompt.obj_id):
            self.pendingChanged.emit()
            return
        mask = result.objects.get(prompt.obj_id)
        entry = None if mask is None else MaskEntry(mask.rle, MaskSource.PROMPTED, False, float(mask.object_score), float(mask.iou))
        text = "Box" if prompt.box is not None and len(prompt.points) == 0 else "Click"
        self.undo_stack.push(SetFrameCommand(self.model, prompt.obj_id, prompt.frame, prompt, entry, text))
        self.pendingChanged.emit()

    def clear_frame(self, obj_id: int, frame: int) -> None:
        """Forget one object's prompt and mask on a frame."""
        if self.model.prompt(obj_id, frame) is None and self.model.mask(obj_id, frame) is None:
            return
        self.undo_stack.push(SetFrameCommand(self.model, obj_id, frame, None, None, "Clear frame"))

    def stroke(self, obj_id: int, frame: int, before: np.ndarray, after: np.ndarray, erase: bool) -> bool:
        """A finished brush/eraser stroke: ``before``/``after`` are the (H, W) bool masks around it."""
        if self._refuse_while_running():
            return False
        entry = self.model.mask(obj_id, frame)
        if entry is not None and entry.locked:
            self.message.emit("This mask is locked; unlock it to change it.")
            return False
        patch = MaskPatch.between(before, after)
        if patch is None:
            return False
        h, w = before.shape
        self.undo_stack.push(StrokeCommand(self.model, obj_id, frame, patch, h, w, erase))
        return True

    # -- propagation -----------------------------------------------------------------------
    def _refuse_while_running(self) -> bool:
        if self.run is not None:
            self.message.emit("A propagation is running; cancel it (Esc) to edit.")
            return True
        return False

    def propagate(self, direction: Direction, obj_ids: list[int] | None = None,
                  frame_range: tuple[int, int] | None = None) -> int | None:
        """Track ``obj_ids`` (all objects when None) from the current frame, or over an inclusive range."""
        if self.frames is None or self._refuse_while_running():
            return None
        if self.model_state is not ModelState.READY:
            self.message.emit(f"Propagation needs a SAM 2 model ({self.model_message}).")
            return None
        ids = sorted(self.model.document.objects) if obj_ids is None else [o for o in obj_ids if self.model.has_object(o)]
        conditioning = {o: self.model.conditioning_inputs(o) for o in ids}
        ids = [o for o in ids if conditioning[o]]
        if not ids:
            self.message.emit("Nothing to propagate: click or box an object first.")
            return None
        legs = legs_for(direction, frame_range, self.frame)
        locked = frozenset((o, f) for o in ids for f in self.model.document.locked_frames(o))
        run_id = self._next_id
        self._next_id += 1
        self.run = PropagationRun(run_id, tuple(ids))
        self.worker.submit(PropagateRequest(run_id, legs, tuple(ids), {o: conditioning[o] for o in ids}, locked))
        self.runStarted.emit(run_id)
        return run_id

    def cancel_run(self) -> None:
        if self.run is not None:
            self.worker.cancel(self.run.run_id)

    def _on_frame_done(self, run_id: int, result: FrameResult) -> None:
        if self.run is None or run_id != self.run.run_id:
            return
        writes = self.run.accept(self.model.document, result)
        self.model.set_masks(writes)

    def _on_progress(self, run_id: int, done: int, total: int) -> None:
        if self.run is not None and run_id == self.run.run_id:
            self.runProgress.emit(self.run.progress(done, total))

    def _on_run_finished(self, run_id: int, cancelled: bool, frames: int) -> None:
        if self.run is None or run_id != self.run.run_id:
            return
        run, self.run = self.run, None
        if run.changes:
            label = "Propagate (cancelled)" if cancelled else "Propagate"
            self.undo_stack.push(PropagationCommand(self.model, run.changes, f"{label} {run.frames_done} frames"))
        state = "cancelled, kept" if cancelled else "done:"
        self.message.emit(f"Propagation {state} {run.frames_done} frame(s).")
        self.runFinished.emit(cancelled, run.frames_done)

    def shutdown(self) -> bool:
        """Stop the worker thread (cancelling any run); True when it stopped."""
        self.cancel_run()
        stopped = self.worker.shutdown()
        _close(self.frames)
        self.frames = None
        return stopped


__all__ = ["SessionController", "ModelState", "RunProgress", "PROJECT_SUFFIX", "VideoMissingError"]
