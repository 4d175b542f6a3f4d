"""Track fixes in the window: merge, split and swap as undoable steps (annotator.track_ops does the work).

A :class:`TrackEditCommand` applies a :class:`TrackEdit` through the observed document (so every
view repaints) and adds its engine inputs to the document's log on redo, taking them back on
undo: the engine, which follows that log, then holds what the document holds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtGui import QUndoCommand

from annotator.observed_document import ObservedDocument
from annotator.track_ops import TrackEdit, TrackOpError, merge, split, swap

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class TrackEditCommand(QUndoCommand):
    def __init__(self, doc: ObservedDocument, edit: TrackEdit) -> None:
        super().__init__(edit.text)
        self.doc, self.edit = doc, edit

    def _apply(self, forward: bool) -> None:
        pick = 1 if forward else 0
        doc, edit = self.doc, self.edit
        for pair in edit.records.values():
            if pair[pick] is not None:
                doc.put_object(pair[pick])
        doc.set_masks({key: pair[pick] for key, pair in edit.masks.items()})
        for (obj_id, frame), pair in edit.prompts.items():
            if doc.has_object(obj_id):
                doc.set_prompt(obj_id, frame, pair[pick])
        for obj_id, pair in edit.records.items():
            if pair[pick] is None and doc.has_object(obj_id):
                doc.remove_object(obj_id)

    def redo(self) -> None:
        self._apply(True)
        for item in self.edit.inputs:
            self.doc.push_input(item)

    def undo(self) -> None:
        for item in reversed(self.edit.inputs):
            self.doc.pop_input(item)
        self._apply(False)


class TrackFixes(QObject):
    """The session's track fixes; each refuses (with a message) while SAM 2 has work on its way."""

    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session

    def _do(self, make) -> bool:
        s = self.session
        if s.refuse_edit():
            return False
        try:
            edit = make(s.doc.document)
        except TrackOpError as exc:
            s.message.emit(str(exc))
            return False
        s.undo_stack.push(TrackEditCommand(s.doc, edit))
        return True

    def merge(self, keep: int, other: int, prefer: int | None = None) -> bool:
        """Merge ``other`` into ``keep``; where both have a mask, ``prefer``'s stays (``keep``'s by default)."""
        if not self._do(lambda doc: merge(doc, keep, other, prefer)):
            return False
        self.session.select_object(keep)
        return True

    def split(self, obj_id: int, frame: int) -> int | None:
        """Split ``obj_id`` at ``frame``; returns the new object's id (selected)."""
        new_id = self.session.doc.document.next_object_id()
        if not self._do(lambda doc: split(doc, obj_id, frame, new_id)):
            return None
        self.session.select_object(new_id)
        return new_id

    def swap(self, a: int, b: int, frame: int) -> bool:
        """Exchange the tracks of ``a`` and ``b`` from ``frame`` on."""
        return self._do(lambda doc: swap(doc, a, b, frame))
