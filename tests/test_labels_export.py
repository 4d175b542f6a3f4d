"""Exports take category ids and names from the project's label schema (stable across exports and
renames) and write the label attributes per annotation (COCO ``attributes``)."""

from __future__ import annotations

import numpy as np

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, ObjectRecord, VideoRef
from annotator.labels import AttributeKind, AttributeSpec, Label, LabelSchema
from annotator.project_exchange import document_to_dataset
from core.formats.coco import to_coco
from core.masks import encode

H, W = 12, 16


def _doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("v.mp4", W, H, 4, 10.0))
    doc.labels = LabelSchema((
        Label(7, "zebra", (1, 2, 3), (AttributeSpec("occluded", AttributeKind.CHECKBOX, per_frame=True),
                                      AttributeSpec("age", AttributeKind.NUMBER, default=3.0))),
        Label(3, "ant", (4, 5, 6)),
    ))
    doc.put_object(ObjectRecord(1, "z", "zebra", frame_attributes={2: {"occluded": True}}))
    doc.put_object(ObjectRecord(2, "a", "ant"))
    doc.put_object(ObjectRecord(3, "o", "object"))
    m = np.zeros((H, W), bool)
    m[2:5, 2:5] = True
    for obj_id in (1, 2, 3):
        for f in (1, 2):
            doc.set_mask(obj_id, f, MaskEntry(encode(m), MaskSource.PROPAGATED))
    return doc


def test_category_ids_come_from_the_schema_and_survive_renames() -> None:
    doc = _doc()
    coco = to_coco(document_to_dataset(doc))
    assert [(c["id"], c["name"]) for c in coco["categories"]] == [(3, "ant"), (7, "zebra"), (8, "object")]
    by_track = {t["id"]: t["category_id"] for t in coco["tracks"]}
    assert by_track == {1: 7, 2: 3, 3: 8}
    doc.labels = doc.labels.renamed(7, "horse")
    doc.put_object(ObjectRecord(1, "z", "horse", frame_attributes={2: {"occluded": True}}))
    again = to_coco(document_to_dataset(doc))
    assert {t["id"]: t["category_id"] for t in again["tracks"]} == by_track
    assert (7, "horse") in [(c["id"], c["name"]) for c in again["categories"]]


def test_coco_annotations_carry_the_label_attributes_per_frame() -> None:
    coco = to_coco(document_to_dataset(_doc()))
    frame_of = {img["id"]: img["frame_index"] for img in coco["images"]}
    zebra = {frame_of[a["image_id"]]: a["attributes"] for a in coco["annotations"] if a["track_id"] == 1}
    assert zebra[1]["occluded"] is False and zebra[2]["occluded"] is True
    assert zebra[1]["age"] == 3.0 and zebra[1]["track_id"] == 1
    ant = [a["attributes"] for a in coco["annotations"] if a["track_id"] == 2]
    assert all(set(a) == {"track_id", "keyframe", "occluded"} for a in ant)
