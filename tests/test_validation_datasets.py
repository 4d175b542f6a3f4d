"""Dataset imports and exports of issue 21's fuzzing cases: one line naming the file and the
problem, never a crash in pycocotools, a merge of duplicates, a loop over claimed frames or a
value that is not JSON in the output."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.formats import Dataset, FormatError, Track, export_dataset, import_dataset
from core.formats.options import export_frames
from core.masks import encode

W, H = 20, 16


@pytest.fixture
def dataset() -> Dataset:
    mask = np.zeros((H, W), bool)
    mask[2:9, 3:12] = True
    return Dataset("v", W, H, 6, 10.0, [Track(1, "a", masks={f: encode(np.roll(mask, f, axis=1)) for f in range(6)}),
                                        Track(2, "b", masks={1: encode(mask[::-1])})])


def written(dataset: Dataset, fmt: str, tmp_path: Path) -> Path:
    suffix = {"coco": ".json", "ytvis": ".json", "sav": ".json", "cvat": ".xml"}.get(fmt, "")
    out = tmp_path / f"{fmt}{suffix}"
    export_dataset(dataset, fmt, out)
    return out


def refused(path: Path, fmt: str, words: str) -> str:
    with pytest.raises(FormatError) as err:
        import_dataset(path, fmt)
    message = str(err.value)
    assert "\n" not in message and str(path) in message and words in message, message
    return message


def rewrite(path: Path, change) -> Path:  # noqa: ANN001
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    return path


POLYGON_VALUES = [float("nan"), float("inf"), -float("inf"), 1e300, 2**70]


@pytest.mark.parametrize("value", POLYGON_VALUES, ids=[repr(v) for v in POLYGON_VALUES])
@pytest.mark.parametrize("fmt", ["coco", "ytvis"])
def test_polygons_that_would_crash_pycocotools_are_refused(dataset: Dataset, tmp_path: Path, fmt: str,
                                                           value: float) -> None:
    polygon = [[1.0, 1.0, value, 2.0, 5.0, 9.0]]

    def change(data: dict) -> None:
        if fmt == "coco":
            data["annotations"][0]["segmentation"] = polygon
        else:
            data["annotations"][0]["segmentations"][0] = polygon

    path = rewrite(written(dataset, fmt, tmp_path), change)
    refused(path, fmt, "not a finite coordinate")


@pytest.mark.parametrize("counts,words", [
    ([-5, W * H + 5], "runs must be whole numbers"),
    ([2**33, 0], "runs must be whole numbers"),
    ([1, 2, 3], "add up to 6"),
    ("0" * 10_000, "more than a 16x20 mask can need"),
])
def test_rle_counts_are_checked_before_decoding(dataset: Dataset, tmp_path: Path, counts: object, words: str) -> None:
    path = rewrite(written(dataset, "coco", tmp_path),
                   lambda d: d["annotations"][0].update(segmentation={"size": [H, W], "counts": counts}))
    refused(path, "coco", words)


@pytest.mark.parametrize("change,words", [
    (lambda d: d["annotations"][0].update(image_id=[1]), "not a valid COCO"),
    (lambda d: d["images"][0].update(frame_index=10**12), "is outside 0..10000000"),
    (lambda d: [img.update(width=2**32, height=2**32) for img in d["images"]], "the image.width"),
    (lambda d: d["info"].update(fps=-1), "fps: -1 is not in"),
])
def test_coco_fields_out_of_bounds(dataset: Dataset, tmp_path: Path, change, words: str) -> None:  # noqa: ANN001
    refused(rewrite(written(dataset, "coco", tmp_path), change), "coco", words)


@pytest.mark.parametrize("change,words", [
    (lambda d: d.update(video_frame_count=3e7), "frame count: 30000000 is outside"),
    (lambda d: d.update(masklet_edited_frame_count=["abc", "def"]), "not a valid SA-V"),
    (lambda d: d.update(video_width=float("1e30")), "mask is 20x16, video 1000000000000000019884624838656x16"),
    (lambda d: d.update(video_width=float("1e30"), masklet=[]), "video.width: 1000000000000000019884624838656 is outside"),
])
def test_sav_fields_out_of_bounds(dataset: Dataset, tmp_path: Path, change, words: str) -> None:  # noqa: ANN001
    refused(rewrite(written(dataset, "sav", tmp_path), change), "sav", words)


def test_youtube_vis_annotations_sharing_an_id_are_refused_not_merged(dataset: Dataset, tmp_path: Path) -> None:
    path = rewrite(written(dataset, "ytvis", tmp_path), lambda d: d["annotations"][1].update(id=d["annotations"][0]["id"]))
    refused(path, "ytvis", "id 1 appears 2 times")


def test_davis_names_of_one_frame_are_refused_naming_both(dataset: Dataset, tmp_path: Path) -> None:
    out = written(dataset, "davis", tmp_path)
    Image.open(out / "00003.png").save(out / "3.png")
    message = refused(out, "davis", "name the same frame 3")
    assert "00003.png and 3.png" in message


def test_object_folders_of_one_object_are_refused(dataset: Dataset, tmp_path: Path) -> None:
    out = written(dataset, "png", tmp_path)
    (out / "0000").mkdir()
    for p in (out / "000").iterdir():
        (out / "0000" / p.name).write_bytes(p.read_bytes())
    refused(out, "png", "000 and 0000 name the same object 0")


def test_a_png_claiming_30000_squared_is_refused_from_its_header(dataset: Dataset, tmp_path: Path) -> None:
    from tests.test_validation_files import _png_header_only

    out = written(dataset, "davis", tmp_path)
    _png_header_only(out / "00002.png", 30000, 30000)
    refused(out, "davis", "more pixels than an image may have")


def test_sav_export_of_300_objects_works(tmp_path: Path) -> None:
    masks = []
    for i in range(300):
        m = np.zeros((H, W), bool)
        m.flat[i % (H * W)] = True
        masks.append(encode(m))
    data = Dataset("many", W, H, 2, 10.0, [Track(i + 1, f"o{i}", masks={0: masks[i], 1: masks[i]}) for i in range(300)])
    export_dataset(data, "sav", tmp_path / "sav.json")
    back = import_dataset(tmp_path / "sav.json", "sav")
    assert len(back.tracks) == 300
    assert json.loads((tmp_path / "sav.json").read_text())["masklet_size_abs"][299] == 1.0


@pytest.mark.parametrize("fmt", ["coco", "ytvis", "sav", "davis"])
def test_values_that_are_not_finite_never_reach_an_export(dataset: Dataset, tmp_path: Path, fmt: str) -> None:
    dataset.fps = float("nan")
    with pytest.raises(FormatError, match="fps: must be a finite number"):
        written(dataset, fmt, tmp_path)
    dataset.fps = 10.0
    dataset.tracks[0].attributes["score"] = float("inf")
    with pytest.raises(FormatError, match="object 1 attributes: holds inf"):
        written(dataset, fmt, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_export_cost_follows_the_annotated_frames_not_the_claimed_count(dataset: Dataset) -> None:
    dataset.frame_count = 10**7
    # a loop over the claimed frames would visit 10**7 numbers; what is annotated is 6 frames
    assert export_frames(dataset) == [0, 1, 2, 3, 4, 5]
    dataset.tracks[0].masks = {f * 1_000_000: m for f, m in zip(range(6), dataset.tracks[0].masks.values())}
    assert export_frames(dataset, 2) == [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000, 5_000_000]


def test_import_of_sav_inferring_the_stride_of_a_huge_claim_is_instant(dataset: Dataset, tmp_path: Path) -> None:
    from core.formats.sav import infer_stride

    assert infer_stride(9_999_999, 121) == 82645
    assert infer_stride(483, 121) == 4
    with pytest.raises(FormatError):
        infer_stride(10, 20)


@pytest.mark.parametrize("value", ["nan", "inf", "1e300"])
def test_cvat_and_yolo_polygons_that_would_crash_pycocotools_are_refused(dataset: Dataset, tmp_path: Path,
                                                                        value: str) -> None:
    cvat = written(dataset, "cvat", tmp_path)
    text = cvat.read_text()
    start = text.index("<mask frame=\"0\"")
    end = text.index("</mask>", start) + len("</mask>")
    polygon = f'<polygon frame="0" keyframe="1" outside="0" occluded="0" points="1,1;{value},2;5,9" z_order="0" />'
    cvat.write_text(text[:start] + polygon + text[end:])
    refused(cvat, "cvat", "not a finite coordinate")
    yolo = written(dataset, "yolo", tmp_path)
    label = next(iter(sorted((yolo / "labels").rglob("*.txt"))))
    label.write_text(f"0 0.1 0.1 {value} 0.2 0.5 0.9\n")
    refused(yolo, "yolo", "not a finite coordinate")


def test_an_rle_with_list_counts_out_of_bounds_is_refused_by_every_reader(dataset: Dataset, tmp_path: Path) -> None:
    path = rewrite(written(dataset, "sav", tmp_path),
                   lambda d: d["masklet"][0][0].update(counts=[-5, W * H + 5]))
    refused(path, "sav", "runs must be whole numbers")
