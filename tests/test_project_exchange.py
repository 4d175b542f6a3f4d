"""The document through every format and back, and SA-V's official file through a whole project."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, save_project
from annotator.project_exchange import dataset_to_document, document_to_dataset, export_document, import_document
from core.formats import FORMATS, FormatError
from core.masks import encode


def test_sav_through_a_project_and_back_is_identical(shared_data: Path, tmp_path: Path) -> None:
    """Import sav_000001_manual.json, save and reopen the project, export SA-V: the same file."""
    source = shared_data / "sav" / "sav_000001_manual.json"
    doc = import_document(source, "sav")
    assert doc.video == VideoRef("", 480, 848, 483, 24.0, "")
    assert all(e.source is MaskSource.IMPORTED for _, _, e in doc.iter_masks())
    save_project(doc, tmp_path / "p.masklet")
    reopened, missing = load_project(tmp_path / "p.masklet")
    assert missing  # no video yet: the window asks for it
    export_document(reopened, "sav", tmp_path / "again.json", stride=4)
    original, again = json.loads(source.read_text()), json.loads((tmp_path / "again.json").read_text())
    stats = [k for k in original if k.startswith("masklet_") and k != "masklet"]
    assert {k: again[k] for k in stats} == {k: original[k] for k in stats}
    for row_a, row_b in zip(original["masklet"], again["masklet"]):
        for a, b in zip(row_a, row_b):
            assert a == b  # the same RLE, hence the same pixels
    assert (tmp_path / "again.json").read_bytes() == source.read_bytes()


def test_edits_count_as_edited_frames(shared_data: Path, tmp_path: Path) -> None:
    doc = import_document(shared_data / "sav" / "sav_000001_manual.json", "sav")
    entry = doc.mask(2, 8)
    assert entry is not None
    doc.set_mask(2, 8, MaskEntry(entry.rle, MaskSource.EDITED))
    doc.set_mask(2, 9, MaskEntry(entry.rle, MaskSource.PROMPTED))  # not on the stride: not exported
    export_document(doc, "sav", tmp_path / "s.json", stride=4)
    data = json.loads((tmp_path / "s.json").read_text())
    assert data["masklet_edited_frame_count"] == [41, 12, 22, 4, 115]


def make_doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("/v/walk.mp4", 30, 20, 9, 15.0, "sha256:x"))
    for name, category, x in (("left", "person", 2), ("right", "person", 14)):
        obj = doc.add_object(name, category)
        for frame in range(0, 9, 2):
            m = np.zeros((20, 30), bool)
            m[3:15, x + frame // 2: x + frame // 2 + 8] = True
            doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROPAGATED, frame == 0, 2.0, 0.9))
    return doc


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"yolo"}))  # YOLO keeps no object identity
def test_every_format_round_trips_the_document(tmp_path: Path, fmt: str) -> None:
    doc = make_doc()
    out = tmp_path / (fmt if FORMATS[fmt].is_folder else f"{fmt}.json")
    export_document(doc, fmt, out, stride=2)
    back = import_document(out, fmt)
    assert back.video is not None and (back.video.width, back.video.height) == (30, 20)
    assert back.video.path == "" and back.video.fingerprint == ""
    assert sorted(back.objects) == [1, 2]
    for obj_id in (1, 2):
        for frame in range(0, 9, 2):
            got = back.mask(obj_id, frame)
            assert got is not None and got.source is MaskSource.IMPORTED
            assert np.array_equal(got.rle.decode(), doc.masks[obj_id][frame].rle.decode())
    if fmt in ("coco", "ytvis"):
        assert [(o.name, o.category) for o in back.objects.values()] == [("left", "person"), ("right", "person")]
    # a PNG folder's name is its video's name (SA-V and DAVIS keep one folder per video); MOTS txt has no room
    assert back.metadata["name"] == (out.name if FORMATS[fmt].is_folder else out.stem if fmt == "mots_txt" else "walk")


def test_import_with_a_video_links_it(tmp_path: Path, shared_data: Path) -> None:
    video = shared_data / "videos" / "bedroom.mp4"
    doc = AnnotationDocument(VideoRef(str(video), 960, 540, 200, 30.0))
    doc.add_object("bed")
    m = np.zeros((540, 960), bool)
    m[100:300, 200:700] = True
    doc.set_mask(1, 10, MaskEntry(encode(m), MaskSource.EDITED))
    export_document(doc, "coco", tmp_path / "c.json")
    linked = import_document(tmp_path / "c.json", "coco", video=video)
    assert linked.video is not None and linked.video.path == str(video) and linked.video.fingerprint.startswith("sha256:")
    assert linked.video.frame_count == 200 and linked.video.fps == 30.0
    with pytest.raises(ProjectError, match="is 960x540 but the masks are 480x848"):
        import_document(shared_data / "sav" / "sav_000001_manual.json", "sav", video=video)


def test_documents_and_datasets_convert_both_ways() -> None:
    doc = make_doc()
    doc.metadata = {"name": "walk-01", "sav.video_split": "val"}
    doc.update_object(1, attributes={"sav.type": "auto"})
    dataset = document_to_dataset(doc)
    assert dataset.name == "walk-01" and dataset.attributes == {"sav.video_split": "val"}
    assert dataset.tracks[0].attributes == {"sav.type": "auto"} and dataset.tracks[0].edited_frames == frozenset()
    back = dataset_to_document(dataset)
    assert back.metadata == doc.metadata and back.objects[1].attributes == {"sav.type": "auto"}
    assert {k: {f: e.rle for f, e in v.items()} for k, v in back.masks.items()} == \
        {k: {f: e.rle for f, e in v.items()} for k, v in doc.masks.items()}
    with pytest.raises(FormatError, match="no video size"):
        document_to_dataset(AnnotationDocument())


def test_snapshot_keeps_what_an_export_needs(shared_data: Path, tmp_path: Path) -> None:
    doc = import_document(shared_data / "sav" / "sav_000001_manual.json", "sav")
    copy = doc.snapshot()
    doc.set_mask(1, 0, None)
    doc.metadata["name"] = "changed"
    assert copy.mask(1, 0) is not None and copy.metadata["name"] == "sav_000001"
    export_document(copy, "sav", tmp_path / "s.json", stride=4)
    assert (tmp_path / "s.json").read_bytes() == (shared_data / "sav" / "sav_000001_manual.json").read_bytes()
