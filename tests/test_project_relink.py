"""A moved video: the project says so, relinking checks the fingerprint, imports attach a video that fits."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.project import ProjectError, load_project, relink_video, save_project
from core.frames import fingerprint
from core.masks import encode


def project_on(video: Path, width: int, height: int, frames: int, last_mask: int = 3) -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef(str(video), width, height, frames, 30.0, fingerprint(video)))
    obj = doc.add_object("box")
    m = np.zeros((height, width), bool)
    m[10:50, 20:90] = True
    doc.set_mask(obj.obj_id, last_mask, MaskEntry(encode(m), MaskSource.EDITED))
    return doc


def test_moved_video_is_relinked_by_fingerprint(tmp_path: Path, shared_data: Path) -> None:
    video = tmp_path / "videos" / "bedroom.mp4"
    video.parent.mkdir()
    shutil.copy(shared_data / "videos" / "bedroom.mp4", video)
    project = tmp_path / "projects" / "p.masklet"
    project.parent.mkdir()
    save_project(project_on(video, 960, 540, 200), project)
    assert not load_project(project).video_missing

    moved = tmp_path / "elsewhere" / "renamed.mp4"
    moved.parent.mkdir()
    video.rename(moved)
    doc, missing = load_project(project)
    assert missing
    with pytest.raises(ProjectError, match="not this project's video"):
        relink_video(doc, shared_data / "videos" / "01_dog.mp4")
    assert doc.video is not None and doc.video.path == str(video)  # unchanged after a refusal
    with pytest.raises(ProjectError, match="no such file"):
        relink_video(doc, tmp_path / "nothing.mp4")
    ref = relink_video(doc, moved)
    assert ref.path == str(moved) and doc.video == ref and ref.fingerprint == fingerprint(moved)
    save_project(doc, project)
    assert not load_project(project).video_missing


def test_project_and_video_moved_together_are_found(tmp_path: Path, shared_data: Path) -> None:
    first = tmp_path / "first"
    (first / "frames").mkdir(parents=True)
    for name in ("00000.jpg", "00001.jpg", "00002.jpg"):
        shutil.copy(shared_data / "frames" / "bedroom" / name, first / "frames" / name)
    from PIL import Image

    with Image.open(first / "frames" / "00000.jpg") as image:
        width, height = image.size
    save_project(project_on(first / "frames", width, height, 3, last_mask=2), first / "p.masklet")
    first.rename(tmp_path / "second")
    doc, missing = load_project(tmp_path / "second" / "p.masklet")
    assert not missing and doc.video is not None
    assert Path(doc.video.path) == (tmp_path / "second" / "frames").resolve()


def test_an_imported_project_attaches_a_video_that_fits(tmp_path: Path, shared_data: Path) -> None:
    video = shared_data / "videos" / "bedroom.mp4"
    doc = project_on(video, 960, 540, 200, last_mask=150)
    doc.video = VideoRef("", 960, 540, 151, 0.0, "")  # as an import leaves it: size and length, no file
    ref = relink_video(doc, video)
    assert (ref.width, ref.height, ref.frame_count, ref.fps) == (960, 540, 200, 30.0)
    assert ref.fingerprint == fingerprint(video) and ref.path == str(video)

    too_long = project_on(video, 960, 540, 251, last_mask=250)
    too_long.video = VideoRef("", 960, 540, 251, 0.0, "")
    with pytest.raises(ProjectError, match="has 200 frames but masks reach frame 250"):
        relink_video(too_long, video)
    other_size = AnnotationDocument(VideoRef("", 480, 848, 483, 24.0, ""))
    other_size.add_object("a")
    other_size.set_mask(1, 0, MaskEntry(encode(np.zeros((848, 480), bool)), MaskSource.IMPORTED))
    with pytest.raises(ProjectError, match="is 960x540 but the masks are 480x848"):
        relink_video(other_size, video)
    assert other_size.video is not None and other_size.video.path == ""
    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"not a video at all")
    with pytest.raises(ProjectError) as info:
        relink_video(other_size, broken)
    assert "\n" not in str(info.value)
