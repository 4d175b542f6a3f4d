"""Finding objects on a frame with the automatic mask generator, for the window and the CLI.

QtCore only. ``find`` sends a FindObjectsRequest to the model worker; its progress and result
come back as signals (bound methods here, so queued to this object's thread); ``add`` makes the
masks the annotator kept into objects in one undoable step; they are then tracked like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from PySide6.QtCore import QObject, Signal

from annotator.auto_objects import FoundMask, new_objects
from annotator.auto_objects_command import AddFoundObjectsCommand
from annotator.requests import FindObjectsRequest, FoundObjects
from core.sam2.auto_params import AutoMaskParams

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class ObjectFinder(QObject):
    """Signals: progress(done: int, total: int) grid points; found(FoundObjects) when a search
    ends (found, cancelled or failed: see its fields)."""

    progress = Signal(int, int)
    found = Signal(object)

    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session
        self.request_id: int | None = None
        session.worker.worker.findProgress.connect(self._on_progress)
        session.worker.worker.objectsFound.connect(self._on_found)

    @property
    def busy(self) -> bool:
        return self.request_id is not None

    def find(self, frame: int | None = None, params: AutoMaskParams | None = None) -> int | None:
        """Start a search on ``frame`` (the current one by default); None when refused (says why)."""
        s = self.session
        if s.frames is None:
            s.message.emit("Open a video first.")
            return None
        if self.busy or s.refuse_while_running() or s.refuse_without_model("Finding objects needs a SAM 2 model"):
            return None
        frame = s.frame if frame is None else frame
        request_id = self.request_id = s.next_id()
        # an inline worker (CLI, tests) has answered when submit returns
        s.worker.submit(FindObjectsRequest(request_id, frame, params if params is not None else AutoMaskParams()))
        return request_id

    def cancel(self) -> None:
        """Stop the search before its next point batch."""
        if self.request_id is not None:
            self.session.worker.cancel(self.request_id)

    def add(self, frame: int, masks: Sequence[FoundMask]) -> list[int]:
        """Make ``masks`` (found on ``frame``) objects, one undo step; -> their ids ([] if refused)."""
        s = self.session
        if not masks or s.refuse_edit():
            return []
        objects = new_objects(s.doc.document, frame, masks)
        s.undo_stack.push(AddFoundObjectsCommand(s.doc, objects))
        return [o.record.obj_id for o in objects]

    def _on_progress(self, request_id: int, done: int, total: int) -> None:
        if request_id == self.request_id:
            self.progress.emit(done, total)

    def _on_found(self, result: FoundObjects) -> None:
        if result.request_id != self.request_id:
            return
        self.request_id = None
        if result.error:
            self.session.message.emit(f"Finding objects failed: {result.error}")
        self.found.emit(result)
