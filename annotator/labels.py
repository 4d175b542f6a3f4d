"""A project's label schema: the labels objects may have, their colours and typed attributes.

Plain Python (no Qt). A :class:`LabelSchema` is immutable; every edit returns a new schema, so an
undo command keeps the one before and the one after. Each label has an id that stays with it
through renames: exports use it as the category id, so ids are stable from one export to the next.
Names are unique without regard to case ("Person" and "person" are one label).

JSON (a labels file, and the ``labels`` list of a project)::

    {"format": "masklet-labels", "version": 1,
     "labels": [{"id": 1, "name": "person", "color": [r, g, b],
                 "attributes": [{"name": "pose", "type": "choice", "options": ["standing", "sitting"],
                                 "default": "standing", "per_frame": false}]}]}

Attribute types: ``text`` (str), ``number`` (float), ``checkbox`` (bool), ``choice`` (one of
``options``). ``per_frame``: the value is given per frame (occluded, truncated, ...), else per object.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from annotator.document import AnnotationDocument

LABELS_FORMAT = "masklet-labels"
LABELS_VERSION = 1


class LabelError(ValueError):
    """A label schema (or a value for it) that is not valid; the message is one line for the user."""


class AttributeKind(str, Enum):
    TEXT = "text"
    NUMBER = "number"
    CHECKBOX = "checkbox"
    CHOICE = "choice"


@dataclass(frozen=True)
class AttributeSpec:
    """One typed attribute of a label. options: the choices of a ``choice`` attribute, in order.

    default: the value an object (or frame) has until it is set; None takes the type's own
    ("" / 0.0 / False / the first option).
    """

    name: str
    kind: AttributeKind = AttributeKind.TEXT
    options: tuple[str, ...] = ()
    default: object = None
    per_frame: bool = False

    def initial(self) -> object:
        """The value before anyone set one."""
        if self.default is not None:
            return self.default
        return {AttributeKind.TEXT: "", AttributeKind.NUMBER: 0.0, AttributeKind.CHECKBOX: False,
                AttributeKind.CHOICE: self.options[0] if self.options else ""}[self.kind]

    def coerce(self, value: object) -> object:
        """``value`` as this attribute's type; raises LabelError when it cannot be one."""
        kind = self.kind
        if kind is AttributeKind.TEXT:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise LabelError(f"attribute {self.name!r} takes text, got {value!r}")
            return str(value)
        if kind is AttributeKind.NUMBER:
            if isinstance(value, bool):
                raise LabelError(f"attribute {self.name!r} takes a number, got {value!r}")
            try:
                number = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                raise LabelError(f"attribute {self.name!r} takes a number, got {value!r}") from None
            if not math.isfinite(number):
                raise LabelError(f"attribute {self.name!r} takes a finite number, got {value!r}")
            return number
        if kind is AttributeKind.CHECKBOX:
            if isinstance(value, bool):
                return value
            if value in (0, 1):
                return bool(value)
            raise LabelError(f"attribute {self.name!r} is a checkbox (true or false), got {value!r}")
        if str(value) not in self.options:
            raise LabelError(f"attribute {self.name!r} is one of {', '.join(self.options)}; got {value!r}")
        return str(value)


@dataclass(frozen=True)
class Label:
    """One label. label_id: its category id in exports (positive, kept through renames);
    color: RGB 0..255."""

    label_id: int
    name: str
    color: tuple[int, int, int] = (230, 25, 75)
    attributes: tuple[AttributeSpec, ...] = ()

    def attribute(self, name: str) -> AttributeSpec | None:
        return next((a for a in self.attributes if a.name == name), None)

    def object_attributes(self) -> tuple[AttributeSpec, ...]:
        return tuple(a for a in self.attributes if not a.per_frame)

    def frame_attributes(self) -> tuple[AttributeSpec, ...]:
        return tuple(a for a in self.attributes if a.per_frame)


@dataclass(frozen=True)
class LabelSchema:
    """The labels of a project, in the order the annotator sees them.

    last_id: the highest id ever given in this schema, so a deleted label's id is never given to
    another one (an older export's category ids keep their meaning).
    """

    labels: tuple[Label, ...] = field(default_factory=tuple)
    last_id: int = 0

    def __post_init__(self) -> None:
        from annotator.labels_json import check_labels

        check_labels(self.labels)
        object.__setattr__(self, "last_id", max([self.last_id, *(label.label_id for label in self.labels)]))

    def __bool__(self) -> bool:
        return bool(self.labels)

    # -- queries -----------------------------------------------------------------------------
    def names(self) -> list[str]:
        return [label.name for label in self.labels]

    def find(self, name: str) -> Label | None:
        """The label called ``name``, whatever its case (surrounding spaces ignored)."""
        key = name.strip().casefold()
        return next((label for label in self.labels if label.name.casefold() == key), None)

    def by_id(self, label_id: int) -> Label | None:
        return next((label for label in self.labels if label.label_id == label_id), None)

    def next_id(self) -> int:
        return max([self.last_id, *(label.label_id for label in self.labels)]) + 1

    def _with(self, labels: tuple[Label, ...]) -> "LabelSchema":
        return LabelSchema(labels, max([self.last_id, *(label.label_id for label in self.labels + labels)]))

    def category_ids(self) -> dict[str, int]:
        """Label name -> its category id in exports."""
        return {label.name: label.label_id for label in self.labels}

    # -- edits (each returns a new schema) --------------------------------------------------------
    def added(self, name: str, color: tuple[int, int, int] | None = None,
              attributes: tuple[AttributeSpec, ...] = ()) -> "LabelSchema":
        from annotator.document import color_for

        label_id = self.next_id()
        label = Label(label_id, name.strip(), tuple(color) if color else color_for(label_id), tuple(attributes))
        return self._with(self.labels + (label,))

    def replaced(self, label: Label) -> "LabelSchema":
        """The label with ``label.label_id`` replaced (a rename, a colour, its attributes)."""
        if self.by_id(label.label_id) is None:
            raise LabelError(f"no label with id {label.label_id}")
        return self._with(tuple(label if old.label_id == label.label_id else old for old in self.labels))

    def renamed(self, label_id: int, name: str) -> "LabelSchema":
        label = self.by_id(label_id)
        if label is None:
            raise LabelError(f"no label with id {label_id}")
        return self.replaced(replace(label, name=name.strip()))

    def without(self, label_id: int) -> "LabelSchema":
        return self._with(tuple(label for label in self.labels if label.label_id != label_id))

    # -- values ------------------------------------------------------------------------------------
    def object_values(self, category: str, values: dict[str, object]) -> dict[str, object]:
        """The per-object attribute values of ``category``'s label: each set value coerced, the
        others at their default; values of names the label does not define are kept as they are."""
        label = self.find(category)
        out = dict(values)
        if label is None:
            return out
        for spec in label.object_attributes():
            out[spec.name] = spec.coerce(values[spec.name]) if spec.name in values else spec.initial()
        return out

    # -- JSON --------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        from annotator.labels_json import labels_to_json

        return {"format": LABELS_FORMAT, "version": LABELS_VERSION, "last_id": self.last_id, "labels": labels_to_json(self)}

    @staticmethod
    def from_json(data: object) -> "LabelSchema":
        """A schema from a parsed labels file (the whole file, or just its ``labels`` list)."""
        from annotator.labels_json import labels_from_json

        if isinstance(data, dict):
            if data.get("format") not in (None, LABELS_FORMAT):
                raise LabelError("it is not a Masklet labels file")
            version = data.get("version", LABELS_VERSION)
            if not isinstance(version, int) or version > LABELS_VERSION:
                raise LabelError(f"its version {version!r} is newer than this Masklet reads ({LABELS_VERSION})")
            last_id = data.get("last_id", 0)
            schema = labels_from_json(data.get("labels"))
            if isinstance(last_id, int) and last_id > schema.last_id:
                schema = LabelSchema(schema.labels, last_id)
            return schema
        return labels_from_json(data)


def canonical_category(schema: LabelSchema, category: str) -> str:
    """The schema's spelling of ``category`` ("person" -> "Person"); any text when the schema is
    empty; raises LabelError for a category the schema does not list."""
    if not schema:
        return category
    label = schema.find(category)
    if label is None:
        raise LabelError(f"the category {category!r} is not a label ({', '.join(schema.names())})")
    return label.name


def with_labels(doc: "AnnotationDocument", schema: LabelSchema) -> None:
    """Give a document the schema, and each labelled object its label's per-object attribute defaults."""
    doc.labels = schema
    for obj_id, record in list(doc.objects.items()):
        values = schema.object_values(record.category, record.attributes)
        if values != record.attributes:
            doc.objects[obj_id] = replace(record, attributes=values)


def merged_import(current: LabelSchema, imported: LabelSchema, in_use: list[str]) -> LabelSchema:
    """The schema after importing a labels file: the file's labels with the file's ids (so
    projects sharing a file export the same category ids), then the current labels still in
    use that the file lacks, with new ids after the file's."""
    labels = list(imported.labels)
    for name in in_use:
        if imported.find(name) is None and not any(l.name.casefold() == name.casefold() for l in labels):
            old = current.find(name)
            next_id = max((l.label_id for l in labels), default=0) + 1
            labels.append(replace(old, label_id=next_id) if old is not None else Label(next_id, name))
    return LabelSchema(tuple(labels))


def read_labels(path: str | Path) -> LabelSchema:
    """A labels file; raises LabelError (one line, naming the file) if it cannot be read."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelError(f"no labels file at {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LabelError(f"cannot read the labels file {path.name}: {exc}") from None
    try:
        return LabelSchema.from_json(data)
    except LabelError as exc:
        raise LabelError(f"the labels file {path.name} is not valid: {exc}") from None


def write_labels(schema: LabelSchema, path: str | Path) -> None:
    """Write ``schema`` as a labels file (atomically: the old file stays whole until the new one is)."""
    from core.formats.atomic import write_file_atomic

    payload = (json.dumps(schema.to_json(), indent=2) + "\n").encode("utf-8")
    try:
        write_file_atomic(Path(path), lambda handle: handle.write(payload))
    except OSError as exc:
        raise LabelError(f"cannot write the labels file {Path(path).name}: {exc.strerror or exc}") from None
