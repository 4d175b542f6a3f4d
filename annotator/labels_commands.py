"""Undoable edits of the label schema and of objects' labels and attribute values (QUndoCommand).

A schema edit is one step with everything it implies: a renamed label renames the category of
every object that had it, a deleted label leaves its objects without one (category ``object``).
Objects' labels and attribute values change through ``EditObjectCommand`` (annotator.commands).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtGui import QUndoCommand

from annotator.document import AnnotationDocument, ObjectRecord
from annotator.labels import LabelSchema
from annotator.observed_document import ObservedDocument

UNLABELLED = "object"  # the category of an object whose label was deleted (the document's default)


def objects_with_label(doc: AnnotationDocument, name: str) -> list[int]:
    """Ids of the objects whose category is ``name`` (compared without case)."""
    key = name.casefold()
    return sorted(o for o, r in doc.objects.items() if r.category.casefold() == key)


def relabelled_objects(doc: AnnotationDocument, old: LabelSchema, new: LabelSchema) -> dict[int, ObjectRecord]:
    """The object records a change of schema from ``old`` to ``new`` implies: a label kept by name
    gives its objects the new spelling; a renamed label (same id, its name gone) renames its objects'
    category; a deleted label leaves its objects unlabelled."""
    changed: dict[int, ObjectRecord] = {}
    for label in old.labels:
        # the same name first (an imported file gives its own ids), then the same id (a rename)
        after = new.find(label.name) or new.by_id(label.label_id)
        target = UNLABELLED if after is None else after.name
        if target == label.name:
            continue
        for obj_id in objects_with_label(doc, label.name):
            changed[obj_id] = replace(doc.objects[obj_id], category=target)
    return changed


class LabelSchemaCommand(QUndoCommand):
    """Replace the schema (one dialog's worth of edits) and relabel the objects it implies."""

    def __init__(self, doc: ObservedDocument, schema: LabelSchema, text: str = "Edit labels",
                 relabel: dict[int, ObjectRecord] | None = None) -> None:
        """relabel: the objects' new records; by default those the edit implies by label id."""
        super().__init__(text)
        self.doc = doc
        self.old, self.new = doc.labels, schema
        after = relabelled_objects(doc.document, self.old, schema) if relabel is None else relabel
        self.records = {obj_id: (doc.object(obj_id), record) for obj_id, record in after.items()}

    def redo(self) -> None:
        self.doc.set_labels(self.new)
        for _, new in self.records.values():
            self.doc.put_object(new)

    def undo(self) -> None:
        self.doc.set_labels(self.old)
        for old, _ in self.records.values():
            self.doc.put_object(old)
