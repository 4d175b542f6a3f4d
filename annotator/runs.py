"""Propagation runs: start one, stream its frames into the document, cancel it, end it as one undo step.

QtCore only. A run goes to the model worker with the document's engine log; its finished
frames stream into the document as they come (protected masks are never replaced), and when
it ends the whole run, or its finished part after a cancel, becomes one undoable step holding
the run as it went, so the engine forgets it on undo.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from annotator.commands import PropagationCommand
from annotator.document import MaskSource
from annotator.requests import PropagateRequest, RunEnd
from annotator.results import protected_frames
from annotator.session_run import PropagationRun
from core.types import Direction, FrameResult
from core.video.inputs import TrackInput
from core.video.legs import legs_for

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class Runs(QObject):
    """Signals: started(run_id: int); progress(RunProgress); frameDone(frame: int) for each
    finished frame of the current run; finished(cancelled: bool, frames: int)."""

    started = Signal(int)
    progress = Signal(object)
    frameDone = Signal(int)
    finished = Signal(bool, int)

    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session
        self.current: PropagationRun | None = None
        w = session.worker.worker
        w.frameDone.connect(self._on_frame)
        w.progress.connect(self._on_progress)
        w.runFinished.connect(self._on_end)

    def propagate(self, direction: Direction, obj_ids: list[int] | None = None,
                  frame_range: tuple[int, int] | None = None) -> int | None:
        """Track ``obj_ids`` (all objects when None) from the current frame, or over an inclusive range."""
        s = self.session
        if s.frames is None or s.refuse_edit() or s.refuse_without_model("Propagation needs a SAM 2 model"):
            return None
        doc = s.doc.document
        ids = sorted(doc.objects) if obj_ids is None else [o for o in obj_ids if o in doc.objects]
        ids = [o for o in ids if doc.prompts.get(o) or any(e.source is MaskSource.EDITED for e in doc.masks.get(o, {}).values())]
        if not ids:
            s.message.emit("Nothing to propagate: click or box an object first.")
            return None
        memory = tuple((o, doc.objects[o].memory) for o in ids if doc.objects[o].memory != "sam2")
        run = TrackInput(legs_for(direction, frame_range, s.frame), tuple(ids), protected_frames(doc, ids), memory=memory)
        run_id = s.next_id()
        self.current = PropagationRun(run_id, tuple(ids))
        s.worker.submit(PropagateRequest(run_id, s.prompts.log(), run))
        self.started.emit(run_id)
        return run_id

    def cancel(self) -> None:
        """Stop the run before its next frame; the frames finished so far are kept."""
        if self.current is not None and not self.current.cancelling:
            self.current.cancelling = True
            self.session.worker.cancel(self.current.run_id)
            self.session.message.emit("Cancelling… (the frame in progress finishes first)")

    def _is_current(self, run_id: int) -> bool:
        return self.current is not None and self.current.run_id == run_id

    def _on_frame(self, run_id: int, result: FrameResult) -> None:
        if self._is_current(run_id):
            assert self.current is not None
            self.session.doc.set_masks(self.current.accept(self.session.doc.document, result))
            self.frameDone.emit(result.frame)

    def _on_progress(self, run_id: int, done: int, total: int) -> None:
        if self._is_current(run_id):
            assert self.current is not None
            self.progress.emit(self.current.progress(done, total))

    def _on_end(self, end: RunEnd) -> None:
        if not self._is_current(end.run_id):
            return
        assert self.current is not None
        run, self.current = self.current, None
        s = self.session
        if end.run is None:  # it failed: the engine is back before the run, so is the document
            s.doc.set_masks({key: old for key, (old, _) in run.changes.items()})
            s.message.emit(f"Propagation failed: {end.error}")
            self.finished.emit(True, 0)
            return
        if run.changes:
            label = "Propagate (cancelled)" if end.cancelled else "Propagate"
            s.undo_stack.push(PropagationCommand(s.doc, run.changes, f"{label} {run.frames_done} frames", end.run))
        frames = f"{run.frames_done} frame{'' if run.frames_done == 1 else 's'}"
        s.message.emit(f"Cancelled: kept {frames}." if end.cancelled else f"Propagation done: {frames}.")
        self.finished.emit(end.cancelled, run.frames_done)

