"""Adding found objects as one undoable step (the window's "Find objects on this frame", the CLI's
``--auto``): each object, its mask on the frame and that mask as SAM 2's mask prompt."""

from __future__ import annotations

from PySide6.QtGui import QUndoCommand

from annotator.auto_objects import NewObject
from annotator.observed_document import ObservedDocument
from core.video.inputs import MaskInput


class AddFoundObjectsCommand(QUndoCommand):
    """Redo: put every object, set its mask, give the engine its mask prompt (MaskInput).
    Undo: the same backwards (the engine forgets the prompts: they leave the document's log)."""

    def __init__(self, doc: ObservedDocument, objects: list[NewObject]) -> None:
        n = len(objects)
        super().__init__(f"Add {n} found object{'' if n == 1 else 's'}")
        self.doc = doc
        self.objects = list(objects)
        self.inputs = [MaskInput(o.record.obj_id, o.frame, o.entry.rle) for o in objects]

    def redo(self) -> None:
        for obj, item in zip(self.objects, self.inputs):
            self.doc.put_object(obj.record)
            self.doc.set_mask(obj.record.obj_id, obj.frame, obj.entry)
            self.doc.push_input(item)

    def undo(self) -> None:
        for obj, item in reversed(list(zip(self.objects, self.inputs))):
            self.doc.pop_input(item)
            self.doc.remove_object(obj.record.obj_id)
