"""A QObject around :class:`annotator.document.AnnotationDocument` that tells views what changed.

Every mutation the window makes goes through here (mostly from undo commands), so the
canvas, the timeline and the objects panel repaint exactly what changed. Plain QtCore:
no widgets.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QObject, Signal

from annotator.document import AnnotationDocument, MaskEntry, ObjectRecord
from annotator.labels import LabelSchema
from core.types import Prompt
from core.video.inputs import EngineInput


class ObservedDocument(QObject):
    """The window's one annotation document, with change signals.

    Signals: objectsChanged() after an object is added, removed or edited;
    masksChanged(obj_id: int, frames: frozenset[int]); promptsChanged(obj_id: int, frame: int);
    documentReset() after a whole new document was set.
    """

    objectsChanged = Signal()
    masksChanged = Signal(int, object)
    promptsChanged = Signal(int, int)
    documentReset = Signal()
    labelsChanged = Signal()  # the label schema was replaced (annotator.labels)

    def __init__(self, document: AnnotationDocument | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._doc = document or AnnotationDocument()

    @property
    def document(self) -> AnnotationDocument:
        return self._doc

    def set_document(self, document: AnnotationDocument) -> None:
        self._doc = document
        self.documentReset.emit()

    # -- objects ---------------------------------------------------------------------------
    def objects(self) -> list[ObjectRecord]:
        """Objects in id order."""
        return [self._doc.objects[k] for k in sorted(self._doc.objects)]

    def object(self, obj_id: int) -> ObjectRecord:
        return self._doc.object(obj_id)

    def has_object(self, obj_id: int) -> bool:
        return obj_id in self._doc.objects

    def put_object(self, record: ObjectRecord) -> None:
        self._doc.put_object(record)
        self.objectsChanged.emit()

    def update_object(self, obj_id: int, **changes: object) -> ObjectRecord:
        record = self._doc.update_object(obj_id, **changes)
        self.objectsChanged.emit()
        if "color" in changes:
            self.masksChanged.emit(obj_id, frozenset(self._doc.masks.get(obj_id, {})))
        return record

    def remove_object(self, obj_id: int) -> tuple[ObjectRecord, dict[int, MaskEntry], dict[int, Prompt]]:
        removed = self._doc.remove_object(obj_id)
        self.objectsChanged.emit()
        self.masksChanged.emit(obj_id, frozenset(removed[1]))
        return removed

    def restore_object(self, record: ObjectRecord, masks: dict[int, MaskEntry], prompts: dict[int, Prompt]) -> None:
        """Put back an object removed by :meth:`remove_object` (undo)."""
        self._doc.put_object(record)
        self._doc.masks[record.obj_id] = dict(masks)
        self._doc.prompts[record.obj_id] = dict(prompts)
        self.objectsChanged.emit()
        self.masksChanged.emit(record.obj_id, frozenset(masks))

    # -- labels ----------------------------------------------------------------------------
    @property
    def labels(self) -> LabelSchema:
        return self._doc.labels

    def set_labels(self, schema: LabelSchema) -> None:
        self._doc.labels = schema
        self.labelsChanged.emit()

    # -- masks -----------------------------------------------------------------------------
    def mask(self, obj_id: int, frame: int) -> MaskEntry | None:
        return self._doc.mask(obj_id, frame)

    def mask_array(self, obj_id: int, frame: int) -> np.ndarray | None:
        """The decoded mask, (H, W) bool, or None when the object has no mask there."""
        entry = self._doc.mask(obj_id, frame)
        return None if entry is None else entry.rle.decode()

    def set_mask(self, obj_id: int, frame: int, entry: MaskEntry | None) -> MaskEntry | None:
        old = self._doc.set_mask(obj_id, frame, entry)
        self.masksChanged.emit(obj_id, frozenset((frame,)))
        return old

    def set_masks(self, changes: dict[tuple[int, int], MaskEntry | None]) -> None:
        """Apply many (obj_id, frame) -> entry changes with one signal per object."""
        touched: dict[int, set[int]] = {}
        for (obj_id, frame), entry in changes.items():
            if not self.has_object(obj_id):
                continue  # the object was deleted while its results were on the way
            self._doc.set_mask(obj_id, frame, entry)
            touched.setdefault(obj_id, set()).add(frame)
        for obj_id, frames in touched.items():
            self.masksChanged.emit(obj_id, frozenset(frames))

    def set_locked(self, obj_id: int, frames: Iterable[int], locked: bool) -> None:
        frames = [f for f in frames if self._doc.mask(obj_id, f) is not None]
        for frame in frames:
            self._doc.set_locked(obj_id, frame, locked)
        self.masksChanged.emit(obj_id, frozenset(frames))

    # -- prompts ---------------------------------------------------------------------------
    def prompt(self, obj_id: int, frame: int) -> Prompt | None:
        return self._doc.prompt(obj_id, frame)

    def set_prompt(self, obj_id: int, frame: int, prompt: Prompt | None) -> Prompt | None:
        old = self._doc.set_prompt(obj_id, frame, prompt)
        self.promptsChanged.emit(obj_id, frame)
        return old

    # -- engine inputs ----------------------------------------------------------------------
    def push_input(self, item: EngineInput) -> None:
        """Append to the document's engine log (a command's redo)."""
        self._doc.inputs.append(item)

    def pop_input(self, item: EngineInput) -> None:
        """Take back the last input of the log (a command's undo: the undo stack is last in, first out)."""
        if not self._doc.inputs or self._doc.inputs[-1] is not item:
            raise RuntimeError("undo out of order: the input to take back is not the last one given")
        self._doc.inputs.pop()
