"""Project files: a full round trip, atomic saves under a crash or a full disk, migration, malformed files."""

from __future__ import annotations

import errno
import re
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

import annotator.project as project
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, read_project, save_project
from annotator.project_schema import SCHEMA_VERSION, document_to_json
from core.masks import encode
from core.types import Prompt

W, H = 32, 24


def mask(x: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[4:12, x:x + 6] = True
    return m


def make_doc(video_path: str = "/nowhere/clip.mp4") -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef(video_path, W, H, 50, 25.0, "sha256:abc"))
    doc.metadata = {"name": "clip", "sav.video_split": "train"}
    dog = doc.add_object("dog", "animal", attributes={"occluded": True, "notes": ["a", 1]})
    ball = doc.add_object("ball", color=(1, 2, 3))
    doc.set_mask(dog.obj_id, 0, MaskEntry(encode(mask(2)), MaskSource.PROMPTED, True, 4.5, 0.875))
    doc.set_mask(dog.obj_id, 1, MaskEntry(encode(mask(3)), MaskSource.PROPAGATED, False, -1.25, 0.5))
    doc.set_mask(ball.obj_id, 7, MaskEntry(encode(mask(20)), MaskSource.EDITED))
    doc.set_prompt(dog.obj_id, 0, Prompt(0, dog.obj_id, np.array([[5.5, 6.25], [9, 9]], np.float32),
                                         np.array([1, 0], np.int32), np.array([1, 2, 30, 20], np.float32)))
    doc.set_prompt(ball.obj_id, 7, Prompt(7, ball.obj_id, box=np.array([18, 3, 27, 13], np.float32)))
    return doc


def assert_same(a: AnnotationDocument, b: AnnotationDocument) -> None:
    assert a.video == b.video and a.objects == b.objects and a.metadata == b.metadata
    assert a.masks == b.masks
    assert a.prompts.keys() == b.prompts.keys()
    for obj_id, frames in a.prompts.items():
        assert frames.keys() == b.prompts[obj_id].keys()
        for frame, p in frames.items():
            q = b.prompts[obj_id][frame]
            assert (p.frame, p.obj_id) == (q.frame, q.obj_id)
            assert np.array_equal(p.points, q.points) and q.points.dtype == np.float32
            assert np.array_equal(p.labels, q.labels) and q.labels.dtype == np.int32
            assert (p.box is None and q.box is None) or np.array_equal(p.box, q.box)


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    doc = make_doc()
    path = tmp_path / "a.masklet"
    save_project(doc, path)
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    data = json.loads(gzip.decompress(path.read_bytes()))
    assert data["schema_version"] == SCHEMA_VERSION and data["format"] == "masklet-project"
    loaded = load_project(path)
    assert loaded.video_missing
    doc_back, missing = loaded  # unpacks as (document, video_missing)
    assert missing is True
    assert_same(doc, doc_back)
    save_project(doc_back, tmp_path / "b.masklet")
    assert (tmp_path / "b.masklet").read_bytes() == path.read_bytes()  # deterministic bytes


def test_plain_json_is_read_too(tmp_path: Path) -> None:
    path = tmp_path / "hand.masklet"
    path.write_text(json.dumps(document_to_json(make_doc())))
    assert_same(make_doc(), load_project(path).document)


def test_a_crash_mid_write_leaves_the_last_good_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.masklet"
    save_project(make_doc(), path)
    good = path.read_bytes()
    changed = make_doc()
    for frame in range(2, 50):  # a bigger document: several chunks to write
        changed.set_mask(1, frame, MaskEntry(encode(np.random.default_rng(frame).random((H, W)) > 0.5), MaskSource.EDITED))
    monkeypatch.setattr(project, "_CHUNK", 1024)
    real_write = project._write_chunks

    def crash_half_way(handle, payload: bytes) -> None:
        real_write(handle, payload[: len(payload) // 2])
        raise KeyboardInterrupt  # the process is being killed while writing

    monkeypatch.setattr(project, "_write_chunks", crash_half_way)
    with pytest.raises(KeyboardInterrupt):
        save_project(changed, path)
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.masklet"]


def test_a_full_disk_gives_one_error_and_keeps_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.masklet"
    save_project(make_doc(), path)
    good = path.read_bytes()
    monkeypatch.setattr(project, "_CHUNK", 256)
    written = []

    class FullDisk:
        def __init__(self, handle) -> None:
            self.handle = handle

        def write(self, data: bytes) -> int:
            if len(written) >= 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(len(data))
            return self.handle.write(data)

    real_write = project._write_chunks
    monkeypatch.setattr(project, "_write_chunks", lambda handle, payload: real_write(FullDisk(handle), payload))
    doc = make_doc()
    doc.set_mask(2, 9, MaskEntry(encode(np.random.default_rng(1).random((H, W)) > 0.5), MaskSource.EDITED))
    with pytest.raises(ProjectError, match="No space left on device; the previous file is unchanged") as info:
        save_project(doc, path)
    assert "\n" not in str(info.value) and len(written) == 2
    assert path.read_bytes() == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.masklet"]


def test_fsync_failure_keeps_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "a.masklet"
    save_project(make_doc(), path)
    good = path.read_bytes()

    def fail(fd: int) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr("core.formats.atomic.os.fsync", fail)
    with pytest.raises(ProjectError, match="Input/output error"):
        save_project(AnnotationDocument(), path)
    assert path.read_bytes() == good and sorted(p.name for p in tmp_path.iterdir()) == ["a.masklet"]


def test_unsaveable_documents(tmp_path: Path) -> None:
    doc = make_doc()
    doc.update_object(1, attributes={"when": object()})
    with pytest.raises(ProjectError, match="not JSON"):
        save_project(doc, tmp_path / "x.masklet")
    with pytest.raises(ProjectError, match="does not exist"):
        save_project(make_doc(), tmp_path / "no" / "x.masklet")
    assert list(tmp_path.iterdir()) == []


V1 = {
    "format": "masklet-project",
    "schema_version": 1,
    "video": {"path": "/videos/dog.mp4", "width": 4, "height": 3, "frame_count": 10, "fps": 30.0},
    "objects": [{"id": 2, "name": "dog", "category": "animal", "color": [10, 20, 30]}],
    "masks": {"2": {"5": {"size": [3, 4], "counts": "318"}, "0": {"size": [3, 4], "counts": "<"}}},
}


def test_a_schema_1_file_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "old.masklet"
    path.write_text(json.dumps(V1))
    before = path.read_bytes()
    doc = load_project(path).document
    assert path.read_bytes() == before  # reading never rewrites
    assert doc.video == VideoRef("/videos/dog.mp4", 4, 3, 10, 30.0, "")
    assert doc.objects[2].name == "dog" and doc.objects[2].color == (10, 20, 30) and doc.objects[2].attributes == {}
    assert sorted(doc.masks[2]) == [0, 5]
    entry = doc.masks[2][5]
    assert entry.source is MaskSource.IMPORTED and not entry.locked and entry.object_score is None
    expected = np.zeros((3, 4), bool)
    expected[0, 1] = True  # column-major runs 3, 1, 8: pixel 3 is row 0 of column 1
    assert np.array_equal(entry.rle.decode(), expected)
    assert doc.masks[2][0].rle.area == 0 and doc.prompts[2] == {}
    # and saving writes the current schema
    save_project(doc, tmp_path / "new.masklet")
    assert json.loads(gzip.decompress((tmp_path / "new.masklet").read_bytes()))["schema_version"] == SCHEMA_VERSION


def _current(tmp_path: Path) -> dict:
    return document_to_json(make_doc())


MALFORMED = {
    "empty file": lambda d: b"",
    "not json": lambda d: b"hello world",
    "truncated gzip": lambda d: gzip.compress(json.dumps(d).encode())[:-20],
    "damaged gzip": lambda d: (lambda b: b[:30] + bytes([b[30] ^ 0xFF]) + b[31:])(gzip.compress(json.dumps(d).encode())),
    "truncated json": lambda d: json.dumps(d).encode()[:-40],
    "a list": lambda d: b"[1, 2, 3]",
    "another app's json": lambda d: b'{"schema_version": 2, "objects": []}',
    "future version": lambda d: json.dumps(dict(d, schema_version=SCHEMA_VERSION + 1)).encode(),
    "version zero": lambda d: json.dumps(dict(d, schema_version=0)).encode(),
    "version as text": lambda d: json.dumps(dict(d, schema_version="2")).encode(),
    "no objects": lambda d: json.dumps({k: v for k, v in d.items() if k != "objects"}).encode(),
    "object without name": lambda d: json.dumps(dict(d, objects=[{k: v for k, v in d["objects"][0].items() if k != "name"}])).encode(),
    "bad source": lambda d: json.dumps(_edit(d, lambda o: o["masks"][0].update(source="dreamed"))).encode(),
    "bad rle": lambda d: json.dumps(_edit(d, lambda o: o["masks"][0].update(counts=o["masks"][0]["counts"][:-2]))).encode(),
    "mask of another size": lambda d: json.dumps(_edit(d, lambda o: o["masks"][0].update(size=[H, W + 1]))).encode(),
    "frame outside the video": lambda d: json.dumps(_edit(d, lambda o: o["masks"][0].update(frame=500))).encode(),
    "video as text": lambda d: json.dumps(dict(d, video="clip.mp4")).encode(),
    "two colours": lambda d: json.dumps(_edit(d, lambda o: o.update(color=[1, 2]))).encode(),
    "repeated object": lambda d: json.dumps(dict(d, objects=d["objects"] + d["objects"][:1])).encode(),
    "points without labels": lambda d: json.dumps(_edit(d, lambda o: o["prompts"][0].update(labels=[]))).encode(),
    "non-ascii counts": lambda d: json.dumps(_edit(d, lambda o: o["masks"][0].update(counts="é"))).encode(),
}


def _edit(d: dict, change) -> dict:
    change(d["objects"][0])
    return d


@pytest.mark.parametrize("kind", sorted(MALFORMED))
def test_malformed_files_give_one_error_and_change_nothing(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "bad.masklet"
    path.write_bytes(MALFORMED[kind](_current(tmp_path)))
    (tmp_path / "bad.masklet.autosave").write_bytes(b"left alone")
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    with pytest.raises(ProjectError) as info:
        load_project(path)
    message = str(info.value)
    assert message.startswith(f"cannot open {path}: ") and "\n" not in message
    assert {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before


def test_messages_say_what_is_wrong(tmp_path: Path) -> None:
    path = tmp_path / "p.masklet"
    cases = {
        "future version": f"saved by a newer Masklet (schema {SCHEMA_VERSION + 1}; this version reads up to {SCHEMA_VERSION})",
        "truncated gzip": "truncated or damaged",
        "another app's json": "not a Masklet project",
        "bad rle": "object 1 frame 0 has a malformed mask",
        "no objects": "objects: must be a list, not NoneType",
        "mask of another size": "objects[0] (id 1).masks[0].size: 24x33, but the video is 24x32",
        "repeated object": "objects: id 1 appears 2 times; each may appear once",
    }
    for kind, words in cases.items():
        path.write_bytes(MALFORMED[kind](_current(tmp_path)))
        with pytest.raises(ProjectError, match=re.escape(words)):
            read_project(path)
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path / "absent.masklet")
    with pytest.raises(ProjectError, match="no such file"):
        load_project(tmp_path)


def test_scores_that_are_not_numbers_are_saved_as_unknown(tmp_path: Path) -> None:
    doc = make_doc()
    doc.set_mask(1, 5, MaskEntry(encode(mask(1)), MaskSource.PROPAGATED, False, float("nan"), float("-inf")))
    save_project(doc, tmp_path / "n.masklet")
    entry = load_project(tmp_path / "n.masklet").document.masks[1][5]
    assert entry.object_score is None and entry.iou is None
