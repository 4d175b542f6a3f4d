"""The video's frames beside a COCO or YouTube-VIS export, so that its file names resolve: written
where the names point, marked as Masklet's, replaced only with consent, and never over the
user's own frames (core and annotator, no Qt; ``--frames`` on the command line)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import main
from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import save_project
from annotator.project_exchange import FrameImages, export_document, frames_to_write
from core.formats import FormatError, TargetExists, TargetState, inspect_target
from core.frames import open_frames
from core.masks import encode

from .test_cli_export_import import one_line_error

W, H, N = 960, 540, 24


def bedroom(path: Path) -> AnnotationDocument:
    """One object on the 24 frames of ../shared/data/frames/bedroom (or a copy of them at ``path``)."""
    doc = AnnotationDocument(VideoRef(str(path), W, H, N, 24.0))
    obj = doc.add_object("bed")
    mask = np.zeros((H, W), bool)
    mask[300:500, 100:700] = True
    for frame in range(N):
        doc.set_mask(obj.obj_id, frame, MaskEntry(encode(mask), MaskSource.PROPAGATED))
    return doc


def frame_names(out: Path, fmt: str) -> list[str]:
    data = json.loads(out.read_text())
    return [i["file_name"] for i in data["images"]] if fmt == "coco" else data["videos"][0]["file_names"]


@pytest.mark.parametrize("fmt", ["coco", "ytvis"])
def test_the_file_names_resolve_to_the_videos_frames(shared_data: Path, tmp_path: Path, fmt: str) -> None:
    video = shared_data / "frames" / "bedroom"
    out = tmp_path / f"bedroom.{fmt}.json"
    export_document(bedroom(video), fmt, out, stride=5, frames=FrameImages(quality=85))
    names = frame_names(out, fmt)
    assert names == [f"bedroom/{f:05d}.jpg" for f in (0, 5, 10, 15, 20)]
    source = open_frames(video)
    try:
        for name in names:
            with Image.open(out.parent / name) as image:
                assert image.size == (W, H) and image.info["comment"] == b"Masklet"
                pixels = np.asarray(image.convert("RGB"), np.float32)
            frame = int(Path(name).stem)
            assert np.abs(pixels - source.get(frame)).mean() < 4  # the same picture, up to JPEG's loss
    finally:
        source.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bedroom", out.name]


def test_frames_are_replaced_only_with_consent_and_never_over_the_users_frames(shared_data: Path, tmp_path: Path) -> None:
    doc, out = bedroom(shared_data / "frames" / "bedroom"), tmp_path / "bedroom.coco.json"
    export_document(doc, "coco", out, stride=8, frames=FrameImages())
    (tmp_path / "bedroom" / "notes.txt").write_text("mine")
    assert inspect_target(tmp_path / "bedroom", "frames").state is TargetState.PREVIOUS
    with pytest.raises(TargetExists):  # the JSON file's consent is not the frames'
        export_document(doc, "coco", out, stride=4, overwrite=True, frames=FrameImages())
    export_document(doc, "coco", out, stride=4, overwrite=True, frames=FrameImages(overwrite=True))
    assert sorted(p.name for p in (tmp_path / "bedroom").iterdir()) == [f"{f:05d}.jpg" for f in range(0, N, 4)] + ["notes.txt"]

    users = tmp_path / "users"  # the user's own frames, where an export's file names would point
    shutil.copytree(shared_data / "frames" / "bedroom", users / "bedroom")
    assert inspect_target(users / "bedroom", "frames").state is TargetState.REFUSED
    with pytest.raises(FormatError, match="not a video frames export"):
        export_document(doc, "coco", users / "x.coco.json", stride=3, overwrite=True, frames=FrameImages(overwrite=True))
    assert not (users / "x.coco.json").exists()


def test_frames_already_in_place_are_not_written_again(shared_data: Path, tmp_path: Path) -> None:
    video = tmp_path / "bedroom"
    shutil.copytree(shared_data / "frames" / "bedroom", video)
    doc = bedroom(video)
    assert frames_to_write(doc, "coco", tmp_path / "bedroom.coco.json", stride=2) is None
    export_document(doc, "coco", tmp_path / "bedroom.coco.json", stride=2, frames=FrameImages())
    assert all((tmp_path / n).is_file() for n in frame_names(tmp_path / "bedroom.coco.json", "coco"))
    assert frames_to_write(doc, "coco", tmp_path / "elsewhere" / "b.json") == tmp_path / "elsewhere" / "bedroom"
    assert frames_to_write(doc, "davis", tmp_path / "b_davis") is None


def test_bad_frame_requests(shared_data: Path, tmp_path: Path) -> None:
    doc = bedroom(shared_data / "frames" / "bedroom")
    with pytest.raises(FormatError, match="masks only"):
        export_document(doc, "davis", tmp_path / "d", frames=FrameImages())
    with pytest.raises(FormatError, match="JPEG quality is 1 to 95"):
        export_document(doc, "coco", tmp_path / "c.json", frames=FrameImages(quality=99))
    unlinked = bedroom(Path(""))
    unlinked.video = VideoRef("", W, H, N, 24.0)
    with pytest.raises(FormatError, match="no video linked"):
        export_document(unlinked, "coco", tmp_path / "c.json", frames=FrameImages())
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_the_command_line_writes_frames_with_a_quality(shared_data: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "p.masklet"
    save_project(bedroom(shared_data / "frames" / "bedroom"), project)
    out = tmp_path / "out" / "bedroom.ytvis.json"
    out.parent.mkdir()
    args = ["export", str(project), "--format", "ytvis", "--out", str(out), "--stride", "6", "--frames"]
    assert main.main([*args, "--jpeg-quality", "40"]) == 0
    names = frame_names(out, "ytvis")
    assert len(names) == 4 and all((out.parent / n).is_file() for n in names)
    small = sum((out.parent / n).stat().st_size for n in names)
    capsys.readouterr()
    one_line_error(capsys, main.main([*args, "--force", "--jpeg-quality", "96"]), "JPEG quality is 1 to 95", "masklet export")
    assert main.main([*args, "--force", "--jpeg-quality", "95"]) == 0
    assert sum((out.parent / n).stat().st_size for n in names) > small  # a higher quality, larger files
    capsys.readouterr()
    one_line_error(capsys, main.main(["export", str(project), "--format", "sav", "--out", str(tmp_path / "s.json"),
                                      "--frames"]), "masks only", "masklet export")


def test_yolo_gets_its_frames_in_images_train_beside_labels_train(shared_data: Path, tmp_path: Path) -> None:
    video = shared_data / "frames" / "bedroom"
    out = tmp_path / "bedroom_yolo"
    export_document(bedroom(video), "yolo", out, stride=10, frames=FrameImages(quality=80))
    images = sorted(p.stem for p in (out / "images" / "train").iterdir())
    labels = sorted(p.stem for p in (out / "labels" / "train").iterdir())
    assert images == labels == ["00000", "00010", "00020"]  # Ultralytics pairs them by name
    with Image.open(out / "images" / "train" / "00010.jpg") as image:
        assert image.size == (W, H) and image.info["comment"] == b"Masklet"
    before = {p: p.read_bytes() for p in out.rglob("*.txt")}
    with pytest.raises(TargetExists):  # the frames are a previous export too: replacing them needs consent
        export_document(bedroom(video), "yolo", out, stride=5, overwrite=True, frames=FrameImages())
    assert {p: p.read_bytes() for p in out.rglob("*.txt")} == before  # refused before anything was written
    export_document(bedroom(video), "yolo", out, stride=10, overwrite=True, frames=FrameImages(overwrite=True))
    export_document(bedroom(video), "yolo", out, stride=5, overwrite=True)  # labels only: the frames stay
    assert sorted(p.stem for p in (out / "images" / "train").iterdir()) == ["00000", "00010", "00020"]
    assert len(list((out / "labels" / "train").iterdir())) == 5
