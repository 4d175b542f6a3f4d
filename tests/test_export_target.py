"""core.formats.target, without Qt: an export never deletes or replaces what Masklet did not write
without consent, keeps the user's files beside a previous export, and each format has its own
default name."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import core.formats.atomic as atomic
from annotator.document import AnnotationDocument, VideoRef
from annotator.project_exchange import default_export_path, export_stem
from core.formats import (
    FORMATS, Dataset, FormatError, TargetExists, TargetState, export_dataset, import_dataset, inspect_target,
)

from .test_formats_failures import H, W, dataset  # noqa: F401 - the two-track dataset fixture


def listing(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def mask_png(path: Path, mode: str = "P") -> None:
    """A mask PNG another tool wrote: indexed, no Masklet mark."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.zeros((H, W), np.uint8)).convert(mode).save(path)


@pytest.mark.parametrize("fmt", ["davis", "png"])
def test_a_folder_holding_other_files_is_refused_even_with_consent(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / "Desktop"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    mask_png(out / "00000.png") if fmt == "davis" else mask_png(out / "000" / "00000.png")
    before = contents(out)
    target = inspect_target(out, fmt)
    assert target.state is TargetState.REFUSED and "notes.txt" in target.message and "\n" not in target.message
    for overwrite in (False, True):
        with pytest.raises(FormatError, match="not a .* export \\(notes.txt\\)"):
            export_dataset(dataset, fmt, out, overwrite=overwrite)
    assert contents(out) == before
    assert listing(tmp_path) == [f"Desktop/{p}" if p else "Desktop" for p in [""] + listing(out)]  # no temporary left


@pytest.mark.parametrize("fmt, layout", [("davis", "00000.png"), ("png", "000/00000.png")])
def test_a_previous_export_is_replaced_only_with_consent_and_the_users_files_stay(
        dataset: Dataset, tmp_path: Path, fmt: str, layout: str) -> None:
    out = tmp_path / f"v_{fmt}"
    export_dataset(dataset, fmt, out, stride=1)
    (out / "notes.txt").write_text("my notes")
    (out / "viz").mkdir()
    (out / "viz" / "overlay.jpg").write_bytes(b"jpeg")
    target = inspect_target(out, fmt)
    assert target.state is TargetState.PREVIOUS and target.needs_consent
    assert layout in target.replaced and target.kept == ("notes.txt", "viz/")
    with pytest.raises(TargetExists, match="already exists: a previous"):
        export_dataset(dataset, fmt, out, stride=3)
    export_dataset(dataset, fmt, out, stride=3, overwrite=True)
    assert (out / "notes.txt").read_text() == "my notes" and (out / "viz" / "overlay.jpg").read_bytes() == b"jpeg"
    back = import_dataset(out, fmt)
    assert sorted(back.tracks[0].masks) == [0, 3]  # the stride-1 frames of the previous export are gone
    assert [p for p in listing(tmp_path) if not p.startswith(out.name)] == []


def test_an_object_folder_of_the_previous_export_goes_but_a_users_file_in_it_stays(dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "v_png"
    export_dataset(dataset, "png", out)
    (out / "001" / "notes.txt").write_text("about object 2")
    export_dataset(Dataset("v", W, H, 6, 10.0, dataset.tracks[:1]), "png", out, overwrite=True)
    assert listing(out / "001") == ["notes.txt"]
    export_dataset(Dataset("v", W, H, 6, 10.0, dataset.tracks[:1]), "png", tmp_path / "again")
    (tmp_path / "again" / "001").mkdir()  # an empty object folder: no file of anyone's
    export_dataset(Dataset("v", W, H, 6, 10.0, dataset.tracks[:1]), "png", tmp_path / "again", overwrite=True)
    assert listing(tmp_path / "again") == ["000"] + [f"000/{f:05d}.png" for f in range(6)]


def test_only_another_tools_mask_pngs_need_consent_and_video_frames_are_not_masks(dataset: Dataset, tmp_path: Path) -> None:
    other_tool = tmp_path / "masks"
    for frame in range(8):
        mask_png(other_tool / f"{frame:05d}.png", "L")
    target = inspect_target(other_tool, "davis")
    assert target.state is TargetState.LAYOUT and len(target.replaced) == 8 and "did not mark" in target.message
    with pytest.raises(TargetExists):
        export_dataset(dataset, "davis", other_tool)
    export_dataset(dataset, "davis", other_tool, overwrite=True)
    assert listing(other_tool) == [f"{f:05d}.png" for f in range(6)]

    frames = tmp_path / "frames"  # a video as PNG frames: colour images named like masks
    frames.mkdir()
    for frame in range(3):
        Image.fromarray(np.full((H, W, 3), 90, np.uint8)).save(frames / f"{frame:05d}.png")
    assert inspect_target(frames, "davis").state is TargetState.REFUSED
    with pytest.raises(FormatError, match="not a DAVIS export \\(00000.png, 00001.png, 00002.png\\)"):
        export_dataset(dataset, "davis", frames, overwrite=True)


def test_another_formats_export_and_mismatched_kinds_are_refused(dataset: Dataset, tmp_path: Path) -> None:
    export_dataset(dataset, "png", tmp_path / "objects")
    assert inspect_target(tmp_path / "objects", "davis").state is TargetState.REFUSED  # 000/ is not DAVIS
    export_dataset(dataset, "davis", tmp_path / "davis")
    assert inspect_target(tmp_path / "davis", "png").state is TargetState.REFUSED
    (tmp_path / "file").write_text("x")
    assert "is a file" in inspect_target(tmp_path / "file", "davis").message
    assert "is a folder" in inspect_target(tmp_path / "davis", "coco").message
    assert "does not exist" in inspect_target(tmp_path / "no" / "c.json", "coco").message
    with pytest.raises(FormatError, match="is a folder"):
        export_dataset(dataset, "sav", tmp_path / "davis", overwrite=True)


def test_an_empty_folder_is_written_into_without_consent(dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "made by the user"
    out.mkdir()
    (out / ".DS_Store").write_bytes(b"finder")  # clutter neither counts nor goes
    assert inspect_target(out, "davis").state is TargetState.EMPTY
    export_dataset(dataset, "davis", out)
    assert listing(out) == [".DS_Store"] + [f"{f:05d}.png" for f in range(6)]


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "sav"])
def test_a_file_export_tells_a_previous_export_from_another_file(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"v.{fmt}.json"
    assert inspect_target(out, fmt).state is TargetState.NEW
    export_dataset(dataset, fmt, out)
    assert inspect_target(out, fmt).state is TargetState.PREVIOUS
    other = "sav" if fmt != "sav" else "coco"
    assert inspect_target(out, other).state is TargetState.OTHER_FILE  # the wrong format is "another file"
    (tmp_path / "mine.json").write_text(json.dumps({"images": [], "annotations": []}))
    target = inspect_target(tmp_path / "mine.json", fmt)
    assert target.state is TargetState.OTHER_FILE and target.needs_consent and "is not a" in target.message


def test_a_new_file_never_lands_on_a_users_file_inside_a_previous_export(dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "v_davis"
    export_dataset(dataset, "davis", out, stride=2)  # 00000, 00002, 00004
    Image.fromarray(np.full((H, W, 3), 7, np.uint8)).save(out / "00003.png")  # the user's colour image
    before = contents(out)
    assert inspect_target(out, "davis").kept == ("00003.png",)
    with pytest.raises(FormatError, match="00003.png is not Masklet's"):
        export_dataset(dataset, "davis", out, stride=1, overwrite=True)
    assert contents(out) == before and [p for p in listing(tmp_path) if not p.startswith("v_davis")] == []


def test_a_failure_while_moving_files_in_puts_the_previous_export_back(dataset: Dataset, tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "v_png"
    export_dataset(dataset, "png", out, stride=2)
    (out / "notes.txt").write_text("mine")
    before = contents(out)
    real_move, moves = atomic._move, []

    def fails(src: Path, dst: Path) -> None:
        moves.append(dst)
        if len(moves) == 8:  # 6 old files aside, then the second new one
            raise OSError(28, "No space left on device")
        real_move(src, dst)

    monkeypatch.setattr(atomic, "_move", fails)
    with pytest.raises(OSError, match="No space"):
        export_dataset(dataset, "png", out, stride=1, overwrite=True)
    monkeypatch.setattr(atomic, "_move", real_move)
    assert contents(out) == before and [p for p in listing(tmp_path) if not p.startswith("v_png")] == []


def test_each_format_has_its_own_default_name_so_three_exports_leave_three_outputs(dataset: Dataset, tmp_path: Path) -> None:
    names = {name: f.output_name("bedroom") for name, f in FORMATS.items()}
    assert names == {"coco": "bedroom.coco.json", "ytvis": "bedroom.ytvis.json", "sav": "bedroom.sav.json",
                     "davis": "bedroom_davis", "png": "bedroom_png", "cvat": "bedroom.cvat.xml",
                     "datumaro": "bedroom.datumaro.json", "mots": "bedroom_mots", "mots_txt": "bedroom.mots.txt",
                     "yolo": "bedroom_yolo"}
    for fmt in ("coco", "ytvis", "davis"):
        export_dataset(dataset, fmt, tmp_path / names[fmt])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bedroom.coco.json", "bedroom.ytvis.json", "bedroom_davis"]


def test_the_default_name_follows_the_video_file_or_frame_folder(shared_data: Path, tmp_path: Path) -> None:
    def doc(path: str) -> AnnotationDocument:
        return AnnotationDocument(VideoRef(path, W, H, 6, 10.0))

    assert export_stem(doc(str(shared_data / "videos" / "bedroom.mp4"))) == "bedroom"
    assert export_stem(doc(str(shared_data / "frames" / "bedroom"))) == "bedroom"
    (tmp_path / "clip.v2").mkdir()
    assert export_stem(doc(str(tmp_path / "clip.v2"))) == "clip.v2"  # a folder keeps its whole name
    imported = doc("")
    imported.metadata["name"] = "sav_000001"
    assert export_stem(imported) == "sav_000001"
    assert default_export_path(doc("/videos/dog.mp4"), "davis", tmp_path) == tmp_path / "dog_davis"
