"""Round trips through every pair of formats that can hold the data (issue 16): export A, import A,
export B, import B gives the same masks and object ids; and import then export of any format
writes the same files again (ids, names, categories, frames and file names kept)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from core.formats import FORMATS, Dataset, Track, export_dataset, import_dataset
from core.masks import encode

W, H, FRAMES = 36, 24, 9
# YOLO keeps no object identity (one object per class), so it pairs with nothing
ID_FORMATS = sorted(set(FORMATS) - {"yolo"})
NAMED = {"coco", "ytvis", "cvat", "datumaro"}  # formats that keep object names and category names


def box(x: int, y: int, w: int, h: int) -> np.ndarray:
    mask = np.zeros((H, W), bool)
    mask[y:y + h, x:x + w] = True
    return mask


def base() -> Dataset:
    """Objects 3 and 7 apart (one label per pixel holds them), 7 gone on frames 3-4, at stride 1."""
    three = Track(3, "dog", "animal", {f: encode(box(2 + f, 3, 8, 6)) for f in range(FRAMES)})
    seven = Track(7, "ball", "toy", {f: encode(box(22, 10 + f, 6, 5) if f not in (3, 4) else np.zeros((H, W), bool))
                                     for f in range(FRAMES)})
    return Dataset("clip", W, H, FRAMES, 24.0, [three, seven])


def out_path(folder: Path, fmt: str) -> Path:
    spec = FORMATS[fmt]
    return folder / (fmt if spec.is_folder else f"x{spec.suffix}")


def visible(dataset: Dataset) -> dict[tuple[int, int], bytes]:
    return {(f, t.track_id): np.packbits(t.masks[f].decode()).tobytes()
            for t in dataset.tracks for f in t.masks if not t.masks[f].is_empty}


@pytest.mark.parametrize("first, second", list(itertools.product(ID_FORMATS, ID_FORMATS)))
def test_round_trip_through_a_pair_of_formats(tmp_path: Path, first: str, second: str) -> None:
    original = base()
    a = out_path(tmp_path / "a", first)
    b = out_path(tmp_path / "b", second)
    a.parent.mkdir()
    b.parent.mkdir()
    export_dataset(original, first, a)
    via_a = import_dataset(a, first)
    export_dataset(via_a, second, b)
    via_b = import_dataset(b, second)
    assert (via_b.width, via_b.height) == (W, H)
    assert visible(via_b) == visible(original)
    if first in NAMED and second in NAMED:
        assert [(t.track_id, t.name, t.category) for t in via_b.tracks] == \
            [(t.track_id, t.name, t.category) for t in original.tracks]


def files(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_import_then_export_writes_the_same_files(tmp_path: Path, fmt: str) -> None:
    first = out_path(tmp_path / "first", fmt)
    again = out_path(tmp_path / "again", fmt)
    first.parent.mkdir()
    again.parent.mkdir()
    export_dataset(base(), fmt, first, 2)
    export_dataset(import_dataset(first, fmt), fmt, again, 2)
    assert files(again) == files(first)
