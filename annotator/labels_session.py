"""The session's label part: the project's label schema, objects' labels and attribute values.

QtCore/QtGui only. Every change is one undoable step on the session's stack: a schema edit
(annotator.labels_commands), an object's label, an object's or a frame's attribute value
(``EditObjectCommand``). A label typed that the schema lacks is added to it in the same step,
so the objects' categories and the label list never drift apart.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from annotator.commands import EditObjectCommand
from annotator.document import ObjectRecord
from annotator.labels import LabelError, LabelSchema, merged_import, read_labels, write_labels
from annotator.labels_commands import LabelSchemaCommand, objects_with_label

if TYPE_CHECKING:
    from annotator.session_controller import SessionController


class LabelEdits(QObject):
    def __init__(self, session: "SessionController") -> None:
        super().__init__(session)
        self.session = session

    @property
    def schema(self) -> LabelSchema:
        return self.session.doc.labels

    def in_use(self, name: str) -> list[int]:
        """Objects labelled ``name``."""
        return objects_with_label(self.session.doc.document, name)

    def set_schema(self, schema: LabelSchema, text: str = "Edit labels") -> None:
        """Replace the schema in one undoable step (renamed labels rename their objects)."""
        if schema != self.schema:
            self.session.undo_stack.push(LabelSchemaCommand(self.session.doc, schema, text))

    def import_file(self, path: str | Path) -> None:
        """Take the labels of a labels file (raises LabelError, one line). Labels in use that the
        file lacks are kept; objects take the file's spelling of their label."""
        doc = self.session.doc.document
        imported = read_labels(path)
        in_use = sorted({r.category for r in doc.objects.values() if r.category != "object" or self.schema.find("object")})
        schema = merged_import(self.schema, imported, in_use)
        relabel: dict[int, ObjectRecord] = {}
        for obj_id, record in doc.objects.items():
            label = schema.find(record.category)
            if label is not None and label.name != record.category:
                relabel[obj_id] = replace(record, category=label.name)
        self.session.undo_stack.push(
            LabelSchemaCommand(self.session.doc, schema, f"Import labels from {Path(path).name}", relabel))

    def export_file(self, path: str | Path) -> None:
        write_labels(self.schema, path)

    # -- one object ----------------------------------------------------------------------------
    def set_label(self, obj_id: int, text: str) -> bool:
        """Give an object a label, in the schema's spelling; a new name becomes a label too (same
        undo step). Attributes the label defines take their defaults where unset."""
        s = self.session
        text = text.strip()
        if not text or not s.doc.has_object(obj_id):
            return False
        record = s.doc.object(obj_id)
        label = self.schema.find(text)
        stack = s.undo_stack
        stack.beginMacro(f"Label {record.name} {text}")
        try:
            if label is None and self.schema:
                schema = self.schema.added(text)
                stack.push(LabelSchemaCommand(s.doc, schema, f"Add label {text}", relabel={}))
                label = schema.find(text)
            name = label.name if label is not None else text
            attributes = self.schema.object_values(name, record.attributes)
            changes = {k: v for k, v in (("category", name), ("attributes", attributes)) if getattr(record, k) != v}
            if changes:
                stack.push(EditObjectCommand(s.doc, obj_id, **changes))
        finally:
            stack.endMacro()
        return True

    def set_attribute(self, obj_id: int, name: str, value: object) -> None:
        """An object's value of its label's attribute ``name`` (raises LabelError for a bad value)."""
        record = self.session.doc.object(obj_id)
        spec = self._spec(record, name)
        value = spec.coerce(value)
        if record.attributes.get(name) != value:
            self.session.undo_stack.push(EditObjectCommand(self.session.doc, obj_id, attributes={**record.attributes, name: value}))

    def frame_value(self, obj_id: int, frame: int, name: str) -> object:
        """The value of a per-frame attribute on a frame (its default where never set)."""
        record = self.session.doc.object(obj_id)
        values = record.frame_attributes.get(frame, {})
        return values[name] if name in values else self._spec(record, name).initial()

    def set_frame_attribute(self, obj_id: int, frame: int, name: str, value: object) -> None:
        """An object's value of a per-frame attribute on one frame (raises LabelError for a bad value)."""
        record = self.session.doc.object(obj_id)
        value = self._spec(record, name).coerce(value)
        if self.frame_value(obj_id, frame, name) == value and name in record.frame_attributes.get(frame, {}):
            return
        frames = dict(record.frame_attributes)
        frames[frame] = {**frames.get(frame, {}), name: value}
        self.session.undo_stack.push(EditObjectCommand(self.session.doc, obj_id, frame_attributes=frames))

    def label_color(self, record: ObjectRecord) -> tuple[int, int, int]:
        """The colour of the object's label (its own colour when the label is not in the schema)."""
        label = self.schema.find(record.category)
        return label.color if label is not None else record.color

    def _spec(self, record: ObjectRecord, name: str):
        label = self.schema.find(record.category)
        spec = label.attribute(name) if label is not None else None
        if spec is None:
            raise LabelError(f"the label {record.category!r} has no attribute {name!r}")
        return spec
