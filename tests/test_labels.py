"""The label schema without Qt: typed attributes, unique names without case, stable ids, JSON and files."""

from __future__ import annotations

import json

import pytest

from annotator.document import AnnotationDocument, ObjectRecord, VideoRef
from annotator.labels import (
    AttributeKind, AttributeSpec, Label, LabelError, LabelSchema, canonical_category, merged_import, read_labels,
    write_labels,
)
from annotator.labels_commands import UNLABELLED, relabelled_objects
from annotator.project_schema import document_from_json, document_to_json

OCCLUDED = AttributeSpec("occluded", AttributeKind.CHECKBOX, per_frame=True)
POSE = AttributeSpec("pose", AttributeKind.CHOICE, ("standing", "sitting"))


def _schema() -> LabelSchema:
    return LabelSchema((Label(1, "person", (255, 0, 0), (POSE, OCCLUDED)), Label(2, "car", (0, 0, 255))))


def test_names_are_unique_without_case_and_found_in_any_case() -> None:
    schema = _schema()
    assert schema.find(" PERSON ").label_id == 1
    assert canonical_category(schema, "Car") == "car"
    with pytest.raises(LabelError, match="listed twice"):
        schema.added("Person")
    with pytest.raises(LabelError, match="not a label"):
        canonical_category(schema, "dog")
    assert canonical_category(LabelSchema(), "anything") == "anything"


def test_ids_stay_with_labels_through_renames_and_deletions() -> None:
    schema = _schema().renamed(1, "pedestrian").without(2).added("bike")
    assert schema.category_ids() == {"pedestrian": 1, "bike": 3}


def test_attribute_values_are_typed() -> None:
    number = AttributeSpec("speed", AttributeKind.NUMBER)
    assert number.coerce("2.5") == 2.5 and number.initial() == 0.0
    with pytest.raises(LabelError, match="number"):
        number.coerce("fast")
    assert OCCLUDED.coerce(1) is True and OCCLUDED.initial() is False
    with pytest.raises(LabelError, match="checkbox"):
        OCCLUDED.coerce("yes")
    assert POSE.initial() == "standing"
    with pytest.raises(LabelError, match="one of standing, sitting"):
        POSE.coerce("lying")
    with pytest.raises(LabelError, match="without options"):
        LabelSchema((Label(1, "x", attributes=(AttributeSpec("c", AttributeKind.CHOICE),)),))
    values = _schema().object_values("Person", {"note": "kept"})
    assert values == {"note": "kept", "pose": "standing"}  # per-frame ones are not object values


def test_json_round_trip_and_files(tmp_path) -> None:
    schema = _schema()
    assert LabelSchema.from_json(json.loads(json.dumps(schema.to_json()))) == schema
    path = tmp_path / "labels.json"
    write_labels(schema, path)
    assert read_labels(path) == schema
    path.write_text('{"labels": [{"name": "a", "attributes": [{"name": "x", "type": "colour"}]}]}')
    with pytest.raises(LabelError, match="labels.json is not valid: .*unknown type 'colour'"):
        read_labels(path)
    path.write_text("{")
    with pytest.raises(LabelError, match="cannot read the labels file labels.json"):
        read_labels(path)
    with pytest.raises(LabelError, match="no labels file"):
        read_labels(tmp_path / "missing.json")


def test_renaming_a_label_relabels_its_objects_and_deleting_unlabels_them() -> None:
    doc = AnnotationDocument()
    doc.put_object(ObjectRecord(1, "a", "Person"))
    doc.put_object(ObjectRecord(2, "b", "car"))
    doc.put_object(ObjectRecord(3, "c", "dog"))
    old = _schema()
    new = old.renamed(1, "pedestrian").without(2)
    changed = relabelled_objects(doc, old, new)
    assert {o: r.category for o, r in changed.items()} == {1: "pedestrian", 2: UNLABELLED}


def test_import_keeps_labels_in_use_that_the_file_lacks() -> None:
    current = _schema()
    imported = LabelSchema((Label(7, "car", (1, 2, 3)),))
    merged = merged_import(current, imported, ["person", "Car"])
    assert merged.category_ids() == {"car": 7, "person": 8}
    assert merged.find("person").attributes == (POSE, OCCLUDED)


def test_the_project_file_keeps_labels_and_frame_attributes_and_reads_older_files() -> None:
    doc = AnnotationDocument(VideoRef("v.mp4", 8, 6, 10, 10.0))
    doc.labels = _schema()
    doc.put_object(ObjectRecord(1, "a", "person", attributes={"pose": "sitting"},
                                frame_attributes={3: {"occluded": True}}))
    data = json.loads(json.dumps(document_to_json(doc)))
    back, _ = document_from_json(data)
    assert back.labels == doc.labels
    assert back.objects[1].frame_attributes == {3: {"occluded": True}}
    del data["labels"], data["objects"][0]["frame_attributes"]
    older, _ = document_from_json(data)
    assert not older.labels and older.objects[1].frame_attributes == {}
