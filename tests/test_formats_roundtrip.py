"""Every export reloads, through pycocotools or PIL alone, into exactly the masks exported; and our
readers read each export back into the same tracks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from core.formats import FORMATS, Dataset, Track, export_dataset, import_dataset
from core.formats.png_masks import davis_frame, davis_palette
from core.masks import encode

W, H, FRAMES = 40, 30, 11


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


@pytest.fixture
def dataset() -> Dataset:
    """Three objects: 1 and 2 overlap; 2 vanishes on frames 4-5; 3 appears at frame 6 (as an empty mask before)."""
    one = Track(1, "dog", "animal", {f: encode(disc(10 + f, 12, 7)) for f in range(FRAMES)})
    two = Track(2, "ball", "toy", {f: encode(disc(16, 14 + f / 2, 5)) for f in range(FRAMES) if f not in (4, 5)})
    three = Track(3, "cat", "animal", {f: encode(disc(30, 22, 4) if f >= 6 else np.zeros((H, W), bool))
                                       for f in range(FRAMES)})
    return Dataset("clip", W, H, FRAMES, 12.0, [one, two, three])


def expected(dataset: Dataset, track: Track, frame: int) -> np.ndarray:
    rle = track.masks.get(frame)
    return np.zeros((H, W), bool) if rle is None else rle.decode()


def output(tmp_path: Path, fmt: str) -> Path:
    return tmp_path / (fmt if FORMATS[fmt].is_folder else f"{fmt}.json")


STRIDES = [1, 3]


@pytest.mark.parametrize("stride", STRIDES)
def test_coco_reloads_through_pycocotools(dataset: Dataset, tmp_path: Path, stride: int) -> None:
    out = output(tmp_path, "coco")
    export_dataset(dataset, "coco", out, stride)
    coco = COCO(str(out))
    frames = list(range(0, FRAMES, stride))
    assert [coco.imgs[i]["frame_index"] for i in sorted(coco.imgs)] == frames
    seen = 0
    for ann in coco.dataset["annotations"]:
        frame = coco.imgs[ann["image_id"]]["frame_index"]
        track = next(t for t in dataset.tracks if t.track_id == ann["track_id"])
        mask = coco.annToMask(ann).astype(bool)
        assert np.array_equal(mask, expected(dataset, track, frame))
        assert ann["iscrowd"] == 0 and ann["area"] == mask.sum()
        assert coco.cats[ann["category_id"]]["name"] == track.category
        rows, cols = np.nonzero(mask)
        assert ann["bbox"] == [cols.min(), rows.min(), cols.max() - cols.min() + 1, rows.max() - rows.min() + 1]
        seen += 1
    present = sum(1 for t in dataset.tracks for f in frames if expected(dataset, t, f).any())
    assert seen == present


@pytest.mark.parametrize("stride", STRIDES)
def test_ytvis_reloads_through_pycocotools(dataset: Dataset, tmp_path: Path, stride: int) -> None:
    out = output(tmp_path, "ytvis")
    export_dataset(dataset, "ytvis", out, stride)
    data = json.loads(out.read_text())
    frames = list(range(0, FRAMES, stride))
    (video,) = data["videos"]
    assert video["file_names"] == [f"clip/{f:05d}.jpg" for f in frames] and video["length"] == len(frames)
    for ann in data["annotations"]:
        track = next(t for t in dataset.tracks if t.track_id == ann["id"])
        assert len(ann["segmentations"]) == len(ann["bboxes"]) == len(ann["areas"]) == len(frames)
        for frame, seg, box, area in zip(frames, ann["segmentations"], ann["bboxes"], ann["areas"]):
            want = expected(dataset, track, frame)
            if not want.any():
                assert seg is None and box is None and area is None
                continue
            assert np.array_equal(mask_utils.decode(seg).astype(bool), want)
            assert area == want.sum() and box == list(mask_utils.toBbox(seg))


@pytest.mark.parametrize("stride", STRIDES)
def test_sav_reloads_through_pycocotools(dataset: Dataset, tmp_path: Path, stride: int) -> None:
    out = output(tmp_path, "sav")
    export_dataset(dataset, "sav", out, stride)
    data = json.loads(out.read_text())
    frames = list(range(0, FRAMES, stride))
    assert len(data["masklet"]) == len(frames) and data["masklet_id"] == [1, 2, 3]
    for row, frame in enumerate(frames):
        for col, track in enumerate(dataset.tracks):
            assert np.array_equal(mask_utils.decode(data["masklet"][row][col]).astype(bool), expected(dataset, track, frame))


@pytest.mark.parametrize("stride", STRIDES)
def test_davis_reloads_through_pil(dataset: Dataset, tmp_path: Path, stride: int) -> None:
    out = output(tmp_path, "davis")
    export_dataset(dataset, "davis", out, stride)
    frames = list(range(0, FRAMES, stride))
    assert sorted(p.name for p in out.iterdir()) == [f"{f:05d}.png" for f in frames]
    for frame in frames:
        with Image.open(out / f"{frame:05d}.png") as image:
            assert image.mode == "P"
            assert image.getpalette()[:12] == [0, 0, 0, 128, 0, 0, 0, 128, 0, 128, 128, 0]
            indices = np.array(image)
        assert np.array_equal(indices, davis_frame(dataset.tracks, frame, H, W))
        masks = [expected(dataset, t, frame) for t in dataset.tracks]
        for track, mask in zip(dataset.tracks, masks):
            # the lowest id wins an overlap, everywhere else the PNG is exactly the mask
            covered_by_lower = np.any([m for t, m in zip(dataset.tracks, masks) if t.track_id < track.track_id] or
                                      [np.zeros((H, W), bool)], axis=0)
            assert np.array_equal(indices == track.track_id, mask & ~covered_by_lower)
    assert (davis_frame(dataset.tracks, 0, H, W) == 1).sum() == expected(dataset, dataset.tracks[0], 0).sum()


def test_davis_palette_is_the_voc_map() -> None:
    palette = davis_palette()
    assert len(palette) == 768
    assert palette[3:24] == [128, 0, 0, 0, 128, 0, 128, 128, 0, 0, 0, 128, 128, 0, 128, 0, 128, 128, 128, 128, 128]
    assert palette[24:27] == [64, 0, 0]


@pytest.mark.parametrize("stride", STRIDES)
def test_object_pngs_reload_through_pil(dataset: Dataset, tmp_path: Path, stride: int) -> None:
    out = output(tmp_path, "png")
    export_dataset(dataset, "png", out, stride)
    frames = list(range(0, FRAMES, stride))
    assert sorted(p.name for p in out.iterdir()) == ["000", "001", "002"]
    for track in dataset.tracks:
        folder = out / f"{track.track_id - 1:03d}"
        assert sorted(p.name for p in folder.iterdir()) == [f"{f:05d}.png" for f in frames]
        for frame in frames:
            with Image.open(folder / f"{frame:05d}.png") as image:
                array = np.array(image)
            assert set(np.unique(array)) <= {0, 1}
            assert np.array_equal(array > 0, expected(dataset, track, frame))  # overlaps kept


@pytest.mark.parametrize("fmt", sorted(set(FORMATS) - {"yolo"}))  # YOLO keeps no identity: test_formats_new
def test_our_readers_read_each_export_back(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    out = output(tmp_path, fmt)
    export_dataset(dataset, fmt, out, stride=2)
    back = import_dataset(out, fmt)
    assert (back.width, back.height) == (W, H)
    frames = range(0, FRAMES, 2)
    assert back.frame_count >= frames[-1] + 1
    # DAVIS and MOTS PNG flatten overlaps; every other format keeps each object's own mask
    for track in dataset.tracks:
        other = next(t for t in back.tracks if t.track_id == track.track_id)
        for frame in frames:
            got = expected(back, other, frame)
            want = expected(dataset, track, frame)
            if fmt in ("davis", "mots"):
                want = davis_frame(dataset.tracks, frame, H, W) == track.track_id
            assert np.array_equal(got, want), (fmt, track.track_id, frame)
    if fmt in ("coco", "ytvis"):
        assert [(t.name, t.category) for t in back.tracks] == [(t.name, t.category) for t in dataset.tracks]
        assert back.fps == 12.0 and back.frame_count == FRAMES and back.name == "clip"
