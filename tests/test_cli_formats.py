"""``masklet export`` / ``masklet import`` for issue 16: the overlap report printed, annotated frames
only unless --all-frames, CVAT frame names, --video-id on export, several YouTube-VIS videos."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import main
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import load_project, save_project
from core.formats.ytvis import to_ytvis
from core.formats import import_dataset
from core.masks import encode


@pytest.fixture
def overlapping(tmp_path: Path) -> Path:
    """Two objects on frames 0, 4, 8 of 12 (sparse); object 2 lies half under object 1."""
    doc = AnnotationDocument(VideoRef("/v/clip.mp4", 40, 20, 12, 24.0, "sha256:1"))
    for name, x in (("front", 4), ("behind", 10)):
        obj = doc.add_object(name)
        for frame in (0, 4, 8):
            m = np.zeros((20, 40), bool)
            m[2:14, x:x + 12] = True
            doc.set_mask(obj.obj_id, frame, MaskEntry(encode(m), MaskSource.PROPAGATED))
    path = tmp_path / "p.masklet"
    save_project(doc, path)
    return path


def test_davis_export_prints_what_each_object_loses(overlapping: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert main.main(["export", str(overlapping), "--format", "davis", "--out", str(tmp_path / "d")]) == 0
    err = capsys.readouterr().err
    # object 2 covers 12x12 pixels a frame, 6 columns of them under object 1: 72 of 144, on 3 frames
    assert 'object 2 "behind": loses 216 of 432 pixels (50.0 %)' in err
    assert 'object 1 "front"' not in err  # the lower id keeps every pixel
    assert "--format png" in err
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["00000.png", "00004.png", "00008.png"]
    assert main.main(["export", str(overlapping), "--format", "png", "--out", str(tmp_path / "p")]) == 0
    assert "loses" not in capsys.readouterr().err


def test_all_frames_and_cvat_names(overlapping: Path, tmp_path: Path) -> None:
    out = tmp_path / "c.json"
    assert main.main(["export", str(overlapping), "--format", "coco", "--out", str(out),
                      "--frame-names", "cvat-video", "--video-id", "4"]) == 0
    data = json.loads(out.read_text())
    assert [i["file_name"] for i in data["images"]] == ["frame_000000.jpg", "frame_000004.jpg", "frame_000008.jpg"]
    assert {i["video_id"] for i in data["images"]} == {4}
    assert main.main(["export", str(overlapping), "--format", "coco", "--out", str(out), "--all-frames",
                      "--force"]) == 0
    assert len(json.loads(out.read_text())["images"]) == 12


def test_several_ytvis_videos_give_one_project_each_or_the_one_asked_for(overlapping: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "v.json"
    assert main.main(["export", str(overlapping), "--format", "ytvis", "--out", str(out), "--video-id", "3"]) == 0
    one = json.loads(out.read_text())
    other = to_ytvis(import_dataset(out, "ytvis"), 1)
    other["videos"][0]["id"] = 9
    for ann in other["annotations"]:
        ann["video_id"] = 9
        ann["id"] += 10
    merged = dict(one, videos=one["videos"] + other["videos"], annotations=one["annotations"] + other["annotations"])
    (tmp_path / "two.json").write_text(json.dumps(merged))
    assert main.main(["import", str(tmp_path / "two.json"), "--format", "ytvis", "--out", str(tmp_path / "p.masklet")]) == 0
    assert sorted(load_project(tmp_path / "p.v3.masklet").document.objects) == [1, 2]
    assert sorted(load_project(tmp_path / "p.v9.masklet").document.objects) == [11, 12]
    capsys.readouterr()
    assert main.main(["import", str(tmp_path / "two.json"), "--format", "ytvis", "--video-id", "9",
                      "--out", str(tmp_path / "nine.masklet")]) == 0
    assert sorted(load_project(tmp_path / "nine.masklet").document.objects) == [11, 12]
    capsys.readouterr()
    assert main.main(["import", str(tmp_path / "two.json"), "--format", "ytvis", "--video-id", "5",
                      "--out", str(tmp_path / "five.masklet")]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "no video with id 5" in err


def test_ids_names_and_scores_survive_import_a_project_file_and_export(tmp_path: Path) -> None:
    """Through the project file: YouTube-VIS category ids, video id and file names; SA-V's masklet
    ids and per-frame stability scores (issue 16, items 4 and 5)."""
    from core.formats import Dataset, Track
    from core.formats.sav import to_sav

    yy, xx = np.mgrid[0:20, 0:30]
    tracks = [Track(oid, name, cat, {f: encode((xx - 8 - 10 * i) ** 2 + (yy - 10) ** 2 <= 16) for f in (0, 4, 8)})
              for i, (oid, name, cat) in enumerate(((3, "a", "person"), (6, "b", "giant_panda")))]
    data = to_ytvis(Dataset("clip", 30, 20, 12, 24.0, tracks), 1)
    data["categories"] = [{"id": 1, "name": "person", "supercategory": "person"},
                          {"id": 2, "name": "giant_panda", "supercategory": "animal"}]
    data["annotations"][0]["category_id"], data["annotations"][1]["category_id"] = 1, 2
    data["videos"][0]["id"] = 12
    data["videos"][0]["file_names"] = [f"JPEGImages/ab12/{f:05d}.jpg" for f in (0, 4, 8)]
    for ann in data["annotations"]:
        ann["video_id"] = 12
    (tmp_path / "in.json").write_text(json.dumps(data))
    assert main.main(["import", str(tmp_path / "in.json"), "--format", "ytvis", "--out", str(tmp_path / "p.masklet")]) == 0
    assert main.main(["export", str(tmp_path / "p.masklet"), "--format", "ytvis", "--out", str(tmp_path / "out.json")]) == 0
    again = json.loads((tmp_path / "out.json").read_text())
    assert again["categories"] == data["categories"] and again["videos"][0]["id"] == 12
    assert again["videos"][0]["file_names"] == data["videos"][0]["file_names"]
    assert [(a["id"], a["category_id"], a["video_id"]) for a in again["annotations"]] == [(3, 1, 12), (6, 2, 12)]

    sav = to_sav(Dataset("sav_x", 30, 20, 12, 24.0, tracks), 4)
    sav["masklet_id"] = [0, 1]
    sav["masklet_stability_score"] = [[0.9, 0.8], [0.91, 0.81], [0.92, 0.82]]
    (tmp_path / "auto.json").write_text(json.dumps(sav))
    assert main.main(["import", str(tmp_path / "auto.json"), "--format", "sav", "--out", str(tmp_path / "s.masklet")]) == 0
    assert main.main(["export", str(tmp_path / "s.masklet"), "--format", "sav", "--out", str(tmp_path / "s.json"),
                      "--stride", "4"]) == 0
    back = json.loads((tmp_path / "s.json").read_text())
    assert back["masklet_id"] == [0, 1] and back["masklet_stability_score"] == sav["masklet_stability_score"]
