"""The undoable review step: accept (or un-accept) masks, many objects and frames in one step.

A reviewer's note is an object field (``ObjectRecord.notes``), changed through the ordinary
EditObjectCommand; accepting changes mask entries, held here as (old, new) pairs like a
propagation run. Neither touches what SAM 2 was told, so neither adds an engine input.
"""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from annotator.document import MaskEntry
from annotator.observed_document import ObservedDocument
from annotator.review import Key


class ReviewCommand(QUndoCommand):
    """changes: (obj_id, frame) -> (old entry, new entry), from annotator.review.accept_changes."""

    def __init__(self, doc: ObservedDocument, changes: dict[Key, tuple[MaskEntry, MaskEntry]], text: str) -> None:
        super().__init__(text)
        self.doc = doc
        self.changes = dict(changes)

    def redo(self) -> None:
        self.doc.set_masks({key: new for key, (_, new) in self.changes.items()})

    def undo(self) -> None:
        self.doc.set_masks({key: old for key, (old, _) in self.changes.items()})
