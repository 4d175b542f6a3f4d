"""The annotation session behind the window: the video, the document and its undo history, composed
with the model's status (``model``), prompts and strokes (``prompts``) and propagation runs (``runs``).

Widgets turn user gestures into calls on these parts and listen to their signals; nothing here
waits on the model. The document (``doc``) is the one truth: the engine on the worker thread
follows its log of inputs (core.video.follower). QtCore/QtGui only.
"""

from __future__ import annotations

import os
from typing import Any, Callable

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from annotator.commands import AddObjectCommand, EditObjectCommand, LockCommand, RemoveObjectCommand
from annotator.observed_document import ObservedDocument
from annotator.document import AnnotationDocument, ObjectRecord, VideoRef, color_for, inputs_from_content
from annotator.model_status import ModelState, ModelStatus
from annotator.project import VideoMissingError
from annotator.prompting import Prompting
from annotator.requests import CloseVideoRequest, FollowRequest, OpenVideoRequest
from annotator.runs import Runs
from annotator.labels_session import LabelEdits
from annotator.track_commands import TrackFixes
from annotator.alternatives import Alternatives
from annotator.worker import InlineWorker, WorkerHandle
from core.types import FrameSource


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
    """Signals: videoChanged(); frameChanged(frame: int); message(text: str) for the status bar;
    projectPathChanged(path: str); currentObjectChanged(obj_id: int, 0 for none)."""

    videoChanged = Signal()
    frameChanged = Signal(int)
    message = Signal(str)
    projectPathChanged = Signal(str)
    currentObjectChanged = Signal(int)

    def __init__(
        self, worker: WorkerHandle | InlineWorker | None = None,
        frame_opener: Callable[[str, int], FrameSource] = _open_frames,
        fingerprinter: Callable[[str], str] = _fingerprint, parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.doc = ObservedDocument(parent=self)
        self.undo_stack = QUndoStack(self)
        self.worker = worker or WorkerHandle(parent=self)
        self._open, self._fingerprint = frame_opener, fingerprinter
        self.frames: FrameSource | None = None
        self.frame = 0
        self.current_obj: int | None = None
        self.project_path: str | None = None
        self.cache_mb = 512
        self.feature_cache_frames = 16
        self._next_id = 1
        self.model_status = ModelStatus(self.worker, self)
        self.prompts = Prompting(self)
        self.runs = Runs(self)
        self.labels = LabelEdits(self)  # the label schema, objects' labels and attributes (issue 17)
        self.tracks = TrackFixes(self)  # merge, split, swap (issue 17)
        self.alternatives = Alternatives(self)  # SAM 2's three masks of the last click (issue 17)
        # first of its listeners: views never see a selected object that is gone (an undo, a merge)
        self.doc.objectsChanged.connect(self._keep_selection)
        self.model_status.ready.connect(self._on_model_ready)
        self.worker.worker.failed.connect(self._on_worker_failed)  # a bound method: queued to this thread

    def _on_worker_failed(self, text: str) -> None:
        self.message.emit(f"Error: {text}")

    def next_id(self) -> int:
        """A fresh id for a request or a run."""
        self._next_id += 1
        return self._next_id - 1

    # -- guards ----------------------------------------------------------------------------
    def refuse_while_running(self) -> bool:
        if self.runs.current is not None:
            self.message.emit("A propagation is running; cancel it (Esc) to edit.")
            return True
        return False

    def refuse_edit(self) -> bool:
        """True (and says why) while an edit would cut in front of work on the model's side."""
        if self.refuse_while_running():
            return True
        if self.prompts.pending:
            self.message.emit("SAM 2 is still computing the last click; try again once its mask shows.")
            return True
        return False

    def refuse_without_model(self, need: str, tail: str = ".") -> bool:
        """True (and says ``need`` with the model's state) while no model is ready."""
        if self.model_status.is_ready:
            return False
        self.message.emit(f"{need} ({self.model_status.message}){tail}")
        return True

    def refuse_locked(self, obj_id: int, frame: int) -> bool:
        entry = self.doc.mask(obj_id, frame)
        if entry is not None and entry.locked:
            self.message.emit("This mask is locked; unlock it to change it.")
            return True
        return False

    def undo(self) -> None:
        if not self.refuse_edit():
            self.undo_stack.undo()

    def redo(self) -> None:
        if not self.refuse_edit():
            self.undo_stack.redo()

    # -- video and project -----------------------------------------------------------------
    @property
    def video(self) -> VideoRef | None:
        return self.doc.document.video

    def open_video(self, path: str) -> None:
        """Start a new document on a video file or a folder of frames (raises with a clear message).

        The worker opens the video and encodes frame 0 while this thread opens its own copy:
        the first click on a new video waits for that encoding. Should this thread's open
        fail, the worker goes back to the video still on screen (its engine state comes from
        the document, so only cached features are lost).
        """
        path = os.path.abspath(path)
        early = self.runs.current is None
        if early:
            self._open_in_worker(path)
            if self.model_status.is_ready:
                self.model_status.prefetch(0)
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
        if self.model_status.is_ready:
            self.model_status.prefetch(self.frame)

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
        self.runs.cancel()
        _close(self.frames)
        self.frames = frames
        if not doc.inputs:
            doc.inputs = inputs_from_content(doc)  # a document without history: what it holds
        self.doc.set_document(doc)
        self.undo_stack.clear()
        self.undo_stack.setClean()
        self.prompts.forget_pending()
        self.select_object(min(doc.objects, default=None))
        self.project_path = project
        self.projectPathChanged.emit(project or "")
        if not worker_opened:
            self._open_in_worker(doc.video.path)
        self.frame = 0
        self.videoChanged.emit()
        self.set_frame(0)
        self._follow_document()

    def _on_model_ready(self) -> None:
        if self.frames is not None:
            self.model_status.prefetch(self.frame)
            self._follow_document()

    def _follow_document(self) -> None:
        """Replay the document's inputs now (a project just opened, a model just loaded), so the
        first click does not wait for them."""
        if self.doc.document.inputs and self.model_status.is_ready:
            self.worker.submit(FollowRequest(self.prompts.log()))

    def save(self, path: str | None = None) -> str:
        from annotator.project import save_project

        target = path or self.project_path
        if target is None:
            raise ValueError("choose where to save the project")
        save_project(self.doc.document, target)
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
        if self.model_status.is_ready and self.runs.current is None:
            self.model_status.prefetch(self.frame)

    def image(self, frame: int | None = None) -> np.ndarray:
        """(H, W, 3) uint8 RGB of a frame (the current one by default)."""
        assert self.frames is not None
        return self.frames.get(self.frame if frame is None else frame)

    # -- objects ---------------------------------------------------------------------------
    def add_object(self, name: str | None = None, category: str = "object", obj_id: int | None = None) -> int | None:
        """A new object (the next free id unless given), selected; None without a video (an
        object belongs to a video)."""
        if self.video is None:
            self.message.emit("Open a video first: objects belong to a video.")
            return None
        obj_id = self.doc.document.next_object_id() if obj_id is None else obj_id
        record = ObjectRecord(obj_id, name or f"object {obj_id}", category, color_for(obj_id))
        self.undo_stack.push(AddObjectCommand(self.doc, record))
        self.select_object(obj_id)
        return obj_id

    def select_object(self, obj_id: int | None) -> None:
        """Make ``obj_id`` the object clicks, boxes and strokes go to."""
        self.current_obj = obj_id if obj_id is not None and self.doc.has_object(obj_id) else None
        self.currentObjectChanged.emit(self.current_obj or 0)

    def _keep_selection(self) -> None:
        if self.current_obj is not None and not self.doc.has_object(self.current_obj):
            self.select_object(min(self.doc.document.objects, default=None))

    def edit_object(self, obj_id: int, **changes: Any) -> None:
        record = self.doc.object(obj_id)
        if any(getattr(record, k) != v for k, v in changes.items()):
            self.undo_stack.push(EditObjectCommand(self.doc, obj_id, **changes))

    def remove_object(self, obj_id: int) -> None:
        if self.refuse_edit():
            return
        self.undo_stack.push(RemoveObjectCommand(self.doc, obj_id))
        if self.current_obj == obj_id:
            self.select_object(min(self.doc.document.objects, default=None))

    def set_locked(self, obj_id: int, frames: list[int], locked: bool) -> None:
        if not self.refuse_edit():  # a click's mask on its way must not land on a just-locked frame
            self.undo_stack.push(LockCommand(self.doc, obj_id, frames, locked))

    def shutdown(self) -> bool:
        """Stop the worker thread (cancelling any run); True when it stopped."""
        self.runs.cancel()
        stopped = self.worker.shutdown()
        _close(self.frames)
        self.frames = None
        return stopped


__all__ = ["SessionController", "ModelState", "VideoMissingError"]
