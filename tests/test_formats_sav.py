"""SA-V JSON: the official file reads and writes back byte for byte; statistics follow the SA-V README."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from core.formats import FormatError
from core.formats.dataset import Dataset, Track
from core.formats.sav import from_sav, infer_stride, masklet_statistics, read_sav, to_sav, write_sav
from core.masks import encode


@pytest.fixture
def sav_path(shared_data: Path) -> Path:
    return shared_data / "sav" / "sav_000001_manual.json"


def test_official_file_round_trips_exactly(sav_path: Path, tmp_path: Path) -> None:
    original = json.loads(sav_path.read_text())
    dataset = read_sav(sav_path)
    assert (dataset.width, dataset.height, dataset.frame_count, dataset.fps) == (480, 848, 483, 24.0)
    assert [t.track_id for t in dataset.tracks] == [1, 2, 3, 4, 5]
    assert sorted(dataset.tracks[0].masks) == list(range(0, 483, 4))
    out = tmp_path / "again.json"
    write_sav(dataset, out, 4)
    again = json.loads(out.read_text())
    assert again == original
    # field types too (json equality treats 5 == 5.0)
    for key, value in original.items():
        assert type(again[key]) is type(value), key
        if isinstance(value, list) and value and not isinstance(value[0], list):
            assert [type(v) for v in again[key]] == [type(v) for v in value], key
    assert out.read_bytes() == sav_path.read_bytes()


def test_statistics_are_recomputed_from_the_masks(sav_path: Path) -> None:
    """The statistics come from the masks, not from the file: edit a mask and they change."""
    original = json.loads(sav_path.read_text())
    dataset = read_sav(sav_path)
    track = dataset.tracks[3]  # masklet 3 appears on annotated frame 113
    assert original["masklet_first_appeared_frame"][3] == 113.0
    full = np.zeros((848, 480), bool)
    full[:100, :100] = True
    track.masks[40] = encode(full)  # annotated frame 10: appears earlier, then vanishes again
    again = to_sav(dataset, 4)
    assert again["masklet_first_appeared_frame"][3] == 10.0
    assert again["masklet_visibility_changes"][3] == 2
    assert again["masklet_size_abs"][3] == round((3718.625 * 8 + 10000) / 9, 10)
    assert again["masklet_size_abs"][:3] == original["masklet_size_abs"][:3]


def test_statistics_definitions() -> None:
    stats = masklet_statistics(np.array([0, 0, 500, 1500, 0, 2000, 0]), resolution=10000.0)
    assert stats == {
        "size_rel": 0.1333333333, "size_abs": 1333.3333333333, "size_bucket": "medium",
        "visibility_changes": 3, "first_appeared_frame": 2.0, "frame_count": 7,
    }
    assert masklet_statistics(np.array([10.0, 20.0]), 100.0)["size_bucket"] == "small"
    assert masklet_statistics(np.array([96.0**2 + 1]), 1e6)["size_bucket"] == "large"
    never = masklet_statistics(np.zeros(4), 100.0)
    assert (never["size_abs"], never["size_bucket"], never["first_appeared_frame"]) == (0.0, "small", 0.0)


def test_edited_frames_add_to_the_imported_count() -> None:
    mask = encode(np.ones((4, 6), bool))
    track = Track(1, "a", masks={0: mask, 2: mask, 4: mask}, edited_frames=frozenset({0, 3}),
                  attributes={"sav.edited_frame_count": 5, "sav.type": "manual"})
    data = to_sav(Dataset("v", 6, 4, 6, 24.0, [track]), 2)
    assert data["masklet_edited_frame_count"] == [6]  # frame 0 is exported, frame 3 is not
    assert data["masklet_frame_count"] == [3]
    assert len(data["masklet"]) == 3 and data["masklet_id"] == [1]  # the object's id, kept
    assert data["video_duration"] == 0.25


def test_stride_inference() -> None:
    assert infer_stride(483, 121) == 4
    assert infer_stride(483, 483) == 1
    assert infer_stride(10, 5) == 2
    with pytest.raises(FormatError, match="do not fit"):
        infer_stride(10, 20)


@pytest.mark.parametrize("break_it, message", [
    (lambda d: d.pop("masklet"), "lacks the field 'masklet'"),
    (lambda d: d.update(video_height="tall"), "wrong type"),
    (lambda d: d["masklet"][3].pop(), "has 4 masks, expected 5"),
    (lambda d: d["masklet"][2][1].update(counts=d["masklet"][2][1]["counts"][:-3]), "malformed"),
    (lambda d: d["masklet"][2][1].update(size=[480, 848]), "mask is 848x480"),
    (lambda d: d["masklet"][0].__setitem__(0, "nope"), "not a COCO RLE"),
    (lambda d: d.update(masklet_id=[0, 0, 1, 2, 3]), "distinct"),
    (lambda d: d.update(video_frame_count=100.0), "do not fit"),
])
def test_malformed_sav_gives_one_clear_error(sav_path: Path, break_it, message: str) -> None:
    data = json.loads(sav_path.read_text())
    break_it(data)
    with pytest.raises(FormatError, match=message) as info:
        from_sav(data)
    assert "\n" not in str(info.value)


def test_not_json_at_all(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_bytes(b'{"video_id": "a", "masklet": [[')
    with pytest.raises(FormatError, match="not a readable SA-V JSON"):
        read_sav(path)
    path.write_text("[1, 2]")
    with pytest.raises(FormatError, match="object at the top level"):
        read_sav(path)
