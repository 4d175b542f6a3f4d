"""The label schema's JSON (annotator.labels): writing, reading with one-line errors, and the
checks every schema passes (unique names without case, unique positive ids, well-formed attributes)."""

from __future__ import annotations

from annotator.labels import AttributeKind, AttributeSpec, Label, LabelError, LabelSchema


def labels_to_json(schema: LabelSchema) -> list[dict]:
    return [{
        "id": label.label_id, "name": label.name, "color": list(label.color),
        "attributes": [{"name": a.name, "type": a.kind.value, "options": list(a.options), "default": a.default,
                        "per_frame": a.per_frame} for a in label.attributes],
    } for label in schema.labels]


def _attribute(data: object, where: str) -> AttributeSpec:
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise LabelError(f"{where}: each attribute needs a name")
    try:
        kind = AttributeKind(data.get("type", "text"))
    except ValueError:
        raise LabelError(f"{where}: attribute {data['name']!r} has an unknown type {data.get('type')!r} "
                         f"(text, number, checkbox or choice)") from None
    options = data.get("options") or []
    if not isinstance(options, list):
        raise LabelError(f"{where}: the options of {data['name']!r} are not a list")
    return AttributeSpec(data["name"].strip(), kind, tuple(str(o) for o in options), data.get("default"),
                         bool(data.get("per_frame", False)))


def labels_from_json(data: object) -> LabelSchema:
    """A schema from a JSON list of labels; raises LabelError (one line) for anything malformed."""
    if data is None:
        return LabelSchema()
    if not isinstance(data, list):
        raise LabelError("the labels are not a list")
    labels = []
    for i, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise LabelError(f"label {i} needs a name")
        where = f"label {item['name']!r}"
        label_id = item.get("id", i)
        if not isinstance(label_id, int) or isinstance(label_id, bool):
            raise LabelError(f"{where}: its id must be a whole number")
        color = item.get("color") or (128, 128, 128)
        if not isinstance(color, (list, tuple)) or len(color) != 3 or not all(
                isinstance(c, int) and 0 <= c <= 255 for c in color):
            raise LabelError(f"{where}: its colour must be three whole numbers 0..255")
        attributes = item.get("attributes") or []
        if not isinstance(attributes, list):
            raise LabelError(f"{where}: its attributes are not a list")
        labels.append(Label(label_id, item["name"].strip(), tuple(color),  # type: ignore[arg-type]
                            tuple(_attribute(a, where) for a in attributes)))
    return LabelSchema(tuple(labels), max((label.label_id for label in labels), default=0))


def check_labels(labels: tuple[Label, ...]) -> None:
    """Raise LabelError unless names and ids are unique and every attribute is well-formed."""
    names: set[str] = set()
    ids: set[int] = set()
    for label in labels:
        if not label.name.strip():
            raise LabelError("a label needs a name")
        key = label.name.casefold()
        if key in names:
            raise LabelError(f"the label {label.name!r} is listed twice (names are compared without case)")
        if label.label_id <= 0 or label.label_id in ids:
            raise LabelError(f"label {label.name!r}: its id {label.label_id} is not positive or is used twice")
        names.add(key)
        ids.add(label.label_id)
        seen: set[str] = set()
        for spec in label.attributes:
            if not spec.name:
                raise LabelError(f"label {label.name!r}: an attribute needs a name")
            if spec.name in seen:
                raise LabelError(f"label {label.name!r}: the attribute {spec.name!r} is listed twice")
            seen.add(spec.name)
            if spec.kind is AttributeKind.CHOICE and not spec.options:
                raise LabelError(f"label {label.name!r}: the attribute {spec.name!r} is a choice without options")
            if spec.default is not None:
                spec.coerce(spec.default)
