"""Exports are all or nothing; bad datasets give one clear FormatError."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

import core.formats.png_masks as png_masks
from core.formats import FORMATS, Dataset, ExportCancelled, FormatError, Track, export_dataset, import_dataset
from core.formats.coco import from_coco, to_coco
from core.formats.ytvis import from_ytvis, to_ytvis
from core.masks import encode

W, H = 20, 16


@pytest.fixture
def dataset() -> Dataset:
    mask = np.zeros((H, W), bool)
    mask[2:9, 3:12] = True
    return Dataset("v", W, H, 6, 10.0, [Track(1, "a", masks={f: encode(np.roll(mask, f, axis=1)) for f in range(6)}),
                                        Track(2, "b", masks={1: encode(mask[::-1])})])


def out_path(tmp_path: Path, fmt: str) -> Path:
    return tmp_path / (fmt if FORMATS[fmt].is_folder else f"{fmt}.json")


def listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_cancel_part_way_leaves_nothing(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    calls = []

    def cancel() -> bool:
        calls.append(1)
        return len(calls) > 1

    with pytest.raises(ExportCancelled):
        export_dataset(dataset, fmt, out_path(tmp_path, fmt), cancel=cancel)
    assert listing(tmp_path) == []


@pytest.mark.parametrize("fmt", ["davis", "png"])
def test_a_failing_write_leaves_the_previous_export_intact(dataset: Dataset, tmp_path: Path, fmt: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = out_path(tmp_path, fmt)
    export_dataset(dataset, fmt, out)
    before = {p: p.read_bytes() for p in out.rglob("*.png")}
    real_save = png_masks._save_indexed
    written = []

    def disk_fills(path: Path, array: np.ndarray) -> None:
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(path)
        real_save(path, array)

    monkeypatch.setattr(png_masks, "_save_indexed", disk_fills)
    with pytest.raises(OSError, match="No space"):
        export_dataset(dataset, fmt, out, stride=1, overwrite=True)
    assert {p: p.read_bytes() for p in out.rglob("*.png")} == before
    assert [p for p in listing(tmp_path) if not p.startswith(fmt)] == []  # no temporary folder left


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "sav"])
def test_a_failing_json_write_leaves_the_previous_file(dataset: Dataset, tmp_path: Path, fmt: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = out_path(tmp_path, fmt)
    export_dataset(dataset, fmt, out)
    before = out.read_bytes()

    def no_sync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("core.formats.atomic.os.fsync", no_sync)
    with pytest.raises(OSError):
        export_dataset(dataset, fmt, out, stride=2, overwrite=True)
    assert out.read_bytes() == before
    assert listing(tmp_path) == [out.name]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_existing_output_needs_overwrite(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    out = out_path(tmp_path, fmt)
    export_dataset(dataset, fmt, out, stride=2)
    with pytest.raises(FormatError, match="already exists"):
        export_dataset(dataset, fmt, out)
    export_dataset(dataset, fmt, out, stride=1, overwrite=True)
    assert import_dataset(out, fmt).tracks[0].masks.keys() >= {0, 1, 2, 3, 4, 5}
    assert [p for p in listing(tmp_path) if not p.startswith(fmt)] == []  # the old one and temporaries gone


def test_bad_export_requests(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="stride"):
        export_dataset(dataset, "coco", tmp_path / "c.json", stride=0)
    with pytest.raises(FormatError, match="does not exist"):
        export_dataset(dataset, "coco", tmp_path / "nowhere" / "c.json")
    with pytest.raises(FormatError, match="unknown format"):
        export_dataset(dataset, "voc", tmp_path / "c.json")
    big = Dataset("v", W, H, 6, 10.0, [Track(300, "x", masks={0: dataset.tracks[0].masks[0]})])
    with pytest.raises(FormatError, match="object 300 does not fit"):
        export_dataset(big, "davis", tmp_path / "d")
    wrong = Dataset("v", W + 1, H, 6, 10.0, dataset.tracks)
    with pytest.raises(FormatError, match="mask is 20x16, video is 21x16"):
        export_dataset(wrong, "sav", tmp_path / "s.json")
    assert listing(tmp_path) == []


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d.pop("images"), "lacks the list 'images'"),
    (lambda d: d.update(images=[]), "no images"),
    (lambda d: [d["annotations"][0].pop("track_id"), d["annotations"][0].pop("attributes")], "need a track_id"),
    (lambda d: d["annotations"][0].update(image_id=999), "refers to no image"),
    (lambda d: d["images"][1].update(width=5), "different sizes"),
    (lambda d: d["images"][0].pop("height"), "need id, width, height"),
    (lambda d: d["annotations"][1].update(segmentation={"size": [H, W], "counts": "zz"}), "malformed"),
    (lambda d: d["annotations"][0].update(segmentation=7), "neither RLE nor polygons"),
    (lambda d: d["annotations"].append(dict(d["annotations"][0], id=99)), "two masks on frame"),
    (lambda d: [img.update(video_id=i) for i, img in enumerate(d["images"])], "several videos"),
])
def test_malformed_coco(dataset: Dataset, break_it, message: str) -> None:
    data = to_coco(dataset)
    break_it(data)
    with pytest.raises(FormatError, match=message) as info:
        from_coco(data)
    assert "\n" not in str(info.value)


def test_coco_from_other_tools(dataset: Dataset) -> None:
    """Polygons, uncompressed RLE, zero-based track ids and file names instead of frame_index."""
    data = to_coco(dataset)
    for image in data["images"]:
        image.pop("frame_index")
    data.pop("tracks")
    data["annotations"][0]["segmentation"] = [[3, 2, 11, 2, 11, 8, 3, 8]]
    data["annotations"][1]["segmentation"] = {"size": [H, W], "counts": [40, 5, 11, 5, 259]}
    for ann in data["annotations"]:
        ann["track_id"] -= 1
    back = from_coco(data)
    assert [t.track_id for t in back.tracks] == [1, 2]
    polygon = mask_utils.decode(mask_utils.merge(mask_utils.frPyObjects([[3, 2, 11, 2, 11, 8, 3, 8]], H, W)))
    assert polygon.sum() > 0 and np.array_equal(back.tracks[0].masks[0].decode(), polygon.astype(bool))
    assert back.tracks[0].masks[1].area == 10
    assert back.tracks[1].name == "object 2"


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d.update(videos=[]), "holds no video"),
    (lambda d: d.pop("videos"), "lacks its 'videos'"),
    (lambda d: d["annotations"][0]["segmentations"].pop(), "one segmentation"),
    (lambda d: d["videos"][0]["file_names"].__setitem__(0, "clip/first.jpg"), "frame number"),
    (lambda d: d["annotations"][0]["segmentations"].__setitem__(0, {"size": [H, W], "counts": "0"}), "malformed"),
    (lambda d: d["annotations"][0].pop("id"), "each with an id"),
])
def test_malformed_ytvis(dataset: Dataset, break_it, message: str) -> None:
    data = to_ytvis(dataset)
    break_it(data)
    with pytest.raises(FormatError, match=message):
        from_ytvis(data)


def test_malformed_png_folders(dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="does not exist"):
        import_dataset(tmp_path / "none", "davis")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FormatError, match="no PNG files"):
        import_dataset(empty, "davis")
    with pytest.raises(FormatError, match="one folder per object"):
        import_dataset(empty, "png")
    rgb = tmp_path / "rgb"
    rgb.mkdir()
    Image.new("RGB", (W, H)).save(rgb / "00000.png")
    with pytest.raises(FormatError, match="RGB image, not an indexed"):
        import_dataset(rgb, "davis")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.new("L", (W, H)).save(mixed / "00000.png")
    Image.new("L", (W + 2, H)).save(mixed / "00001.png")
    with pytest.raises(FormatError, match="22x16, other masks are 20x16"):
        import_dataset(mixed, "davis")
    (mixed / "00002.png").write_bytes(b"\x89PNG broken")
    (mixed / "00001.png").unlink()
    with pytest.raises(FormatError, match="not a readable PNG"):
        import_dataset(mixed, "davis")
    named = tmp_path / "named"
    (named / "dog").mkdir(parents=True)
    with pytest.raises(FormatError, match="named by its number"):
        import_dataset(named, "png")
    with pytest.raises(FormatError, match="not a readable COCO JSON"):
        (tmp_path / "c.json").write_text("{")
        import_dataset(tmp_path / "c.json", "coco")


def test_grey_and_one_bit_pngs_are_read(tmp_path: Path) -> None:
    folder = tmp_path / "v" / "004"
    folder.mkdir(parents=True)
    mask = np.zeros((H, W), np.uint8)
    mask[3:7, 2:9] = 255
    Image.fromarray(mask).save(folder / "00008.png")
    Image.fromarray(mask > 0).save(folder / "00012.png")
    back = import_dataset(tmp_path / "v", "png")
    (track,) = back.tracks
    assert track.track_id == 5 and sorted(track.masks) == [8, 12] and back.frame_count == 13
    assert all(np.array_equal(track.masks[f].decode(), mask > 0) for f in (8, 12))
    assert json.loads(json.dumps(track.attributes)) == {}
