"""Issue 16: what other tools read out of our exports, checked with their rules written here
independently of our readers (CVAT's and Datumaro's for CVAT XML, Datumaro JSON, MOTS and COCO
attributes; pycocotools for MOTS txt; Ultralytics' for YOLO-seg), and what import keeps so that
import then export writes the same ids, names, scores and frames."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pycocotools import mask as mask_utils

from core.formats import Dataset, ExportOptions, FormatError, Track, export_dataset, import_dataset
from core.formats.coco import from_coco, to_coco
from core.formats.cvat_rle import decode_cvat, encode_cvat
from core.formats.dataset import file_id
from core.formats.options import export_frames
from core.formats.overlap import overlap_losses
from core.formats.png_masks import davis_frame, davis_palette
from core.formats.sav import from_sav, to_sav
from core.formats.yolo_seg import mask_polygons, polygon_losses, polygons_mask
from core.formats.ytvis import from_ytvis, to_ytvis
from core.masks import encode

W, H, FRAMES = 40, 30, 12


def disc(cx: float, cy: float, r: float) -> np.ndarray:
    yy, xx = np.mgrid[0:H, 0:W]
    return (xx - cx) ** 2 + (yy - cy) ** 2 <= r * r


@pytest.fixture
def dataset() -> Dataset:
    """Objects 5 and 9 (ids kept, not 1..n); they overlap; 9 vanishes on frames 4-5."""
    five = Track(5, "dog", "animal", {f: encode(disc(10 + f, 12, 7)) for f in range(FRAMES)})
    nine = Track(9, "ball", "toy", {f: encode(disc(16, 14 + f / 2, 5)) for f in range(FRAMES) if f not in (4, 5)})
    return Dataset("clip", W, H, FRAMES, 12.0, [five, nine])


def sparse() -> Dataset:
    """Annotated every 4th frame of 12 (as SA-V's manual files), object 1 absent on frame 4."""
    masks = {f: encode(disc(10 + f, 12, 6) if f != 4 else np.zeros((H, W), bool)) for f in (0, 4, 8)}
    return Dataset("sparse", W, H, FRAMES, 24.0, [Track(1, "a", masks=masks)])


# 1. identity where CVAT and Datumaro read it -------------------------------------------------------

def test_coco_annotations_carry_track_id_keyframe_and_occluded_in_attributes(dataset: Dataset) -> None:
    data = to_coco(dataset)
    for ann in data["annotations"]:
        assert ann["attributes"] == {"track_id": ann["track_id"], "keyframe": True, "occluded": False}
    assert {a["track_id"] for a in data["annotations"]} == {5, 9}


# 2. CVAT's frame names -----------------------------------------------------------------------------

@pytest.mark.parametrize("style, first", [("cvat-video", "frame_000004.jpg"), ("cvat-image", "00004.jpg"),
                                          ("masklet", "clip/00004.jpg")])
def test_frame_names_match_cvat_tasks(dataset: Dataset, style: str, first: str) -> None:
    data = to_coco(dataset, ExportOptions(stride=4, frame_names=style))
    names = [img["file_name"] for img in data["images"]]
    assert names[1] == first and len(names) == 3
    if style == "cvat-video":  # CVAT matches an item by its name without extension to the task's frame names
        assert [n.rsplit(".", 1)[0] for n in names] == [f"frame_{f:06d}" for f in (0, 4, 8)]
    assert to_ytvis(dataset, ExportOptions(4, frame_names=style))["videos"][0]["file_names"] == names


# 3. COCO as CVAT and Datumaro write it ---------------------------------------------------------------

def test_coco_written_by_cvat_or_datumaro_imports(dataset: Dataset) -> None:
    """track_id only inside attributes, file names frame_000004.jpg, no frame_index, no tracks, no info."""
    data = to_coco(dataset, ExportOptions(frame_names="cvat-video"))
    for ann in data["annotations"]:
        ann.pop("track_id")
    for image in data["images"]:
        image.pop("frame_index")
    data.pop("tracks")
    data.pop("info")
    back = from_coco(data)
    assert [t.track_id for t in back.tracks] == [5, 9]
    for track, original in zip(back.tracks, dataset.tracks):
        for frame, rle in original.masks.items():
            assert np.array_equal(track.masks[frame].decode(), rle.decode())
    assert back.tracks[1].masks[4].is_empty  # listed image, no annotation: annotated and absent
    again = to_coco(back)
    assert [i["file_name"] for i in again["images"]] == [f"frame_{f:06d}.jpg" for f in range(FRAMES)]


# 4. ids kept through import and export -----------------------------------------------------------------

def test_ytvis_category_ids_and_video_id_survive_a_round_trip(dataset: Dataset) -> None:
    dataset.tracks[0].category, dataset.tracks[1].category = "person", "giant_panda"
    data = to_ytvis(dataset, ExportOptions(video_id=7))
    data["categories"] = [{"id": 1, "name": "person", "supercategory": "person"},
                          {"id": 2, "name": "giant_panda", "supercategory": "animal"}]
    for ann in data["annotations"]:
        ann["category_id"] = 1 if ann["name"] == "dog" else 2
    again = to_ytvis(from_ytvis(data))
    assert again["categories"] == data["categories"]
    assert [a["category_id"] for a in again["annotations"]] == [1, 2]
    assert again["videos"][0]["id"] == 7 and {a["video_id"] for a in again["annotations"]} == {7}
    assert [a["id"] for a in again["annotations"]] == [5, 9]


def test_coco_image_ids_file_names_and_categories_survive_a_round_trip(dataset: Dataset) -> None:
    data = to_coco(dataset)
    by_old = {}
    for n, image in enumerate(data["images"]):
        by_old[image["id"]] = 1001 + n
        image["id"] = 1001 + n
        image["file_name"] = f"videos/clip_7/{image['frame_index']:05d}.jpg"
    for ann in data["annotations"]:
        ann["image_id"] = by_old[ann["image_id"]]
    data["categories"] = [{"id": 3, "name": "animal", "supercategory": "animal"},
                          {"id": 17, "name": "toy", "supercategory": "thing"}]
    for ann in data["annotations"]:
        ann["category_id"] = 3 if ann["track_id"] == 5 else 17
    again = to_coco(from_coco(data, name="json_file_stem"))
    assert [(i["id"], i["file_name"]) for i in again["images"]] == [(i["id"], i["file_name"]) for i in data["images"]]
    assert again["categories"] == data["categories"]
    assert [(a["image_id"], a["category_id"], a["track_id"]) for a in again["annotations"]] == \
        [(a["image_id"], a["category_id"], a["track_id"]) for a in data["annotations"]]


def test_sav_masklet_ids_are_the_object_ids_and_zero_based_files_keep_theirs(dataset: Dataset) -> None:
    assert to_sav(dataset)["masklet_id"] == [5, 9]
    data = to_sav(dataset)
    data["masklet_id"] = [0, 3]
    back = from_sav(data)
    assert [t.track_id for t in back.tracks] == [1, 4] and [file_id(t) for t in back.tracks] == [0, 3]
    assert to_sav(back)["masklet_id"] == [0, 3]


# 5. SA-V per-frame stability scores --------------------------------------------------------------------

@pytest.mark.parametrize("masklet_major", [False, True])
def test_sav_per_frame_stability_scores_survive_a_round_trip(dataset: Dataset, masklet_major: bool) -> None:
    data = to_sav(dataset, 4)  # rows: frames 0, 4, 8
    rows = [[0.91, 0.5], [0.92, 0.51], [0.93, 0.52]]
    data["masklet_stability_score"] = [list(c) for c in zip(*rows)] if masklet_major else rows
    back = from_sav(data)
    assert back.tracks[0].attributes["sav.stability_score"] == {"0": 0.91, "4": 0.92, "8": 0.93}
    assert to_sav(back, 4)["masklet_stability_score"] == data["masklet_stability_score"]


# 6. DAVIS void ----------------------------------------------------------------------------------------

def test_davis_void_255_is_not_an_object(tmp_path: Path) -> None:
    folder = tmp_path / "davis"
    folder.mkdir()
    for frame in range(2):
        array = np.zeros((H, W), np.uint8)
        array[2:8, 2:8] = 1
        array[0, :] = 255  # the unlabelled border DAVIS marks as void
        image = Image.fromarray(array)
        image.putpalette(davis_palette())
        image.save(folder / f"{frame:05d}.png")
    back = import_dataset(folder, "davis")
    assert [t.track_id for t in back.tracks] == [1]


# 7. overlaps in one-label-per-pixel formats ------------------------------------------------------------

def test_overlap_report_counts_each_objects_lost_pixels(dataset: Dataset) -> None:
    frames = export_frames(dataset, 1)
    losses = overlap_losses(dataset, frames)
    assert [loss.track_id for loss in losses] == [9]  # the lower id keeps the pixel
    five, nine = dataset.tracks
    lost = sum(int((five.masks[f].decode() & nine.masks[f].decode()).sum()) for f in frames if f in nine.masks)
    total = sum(nine.masks[f].area for f in frames if f in nine.masks)
    assert (losses[0].lost, losses[0].pixels) == (lost, total) and 0 < lost < total
    drawn = sum(int((davis_frame(dataset.tracks, f, H, W) == 9).sum()) for f in frames)
    assert drawn == total - lost  # what the DAVIS PNGs hold of object 9


# 8. sparse projects and the stride --------------------------------------------------------------------

def test_a_sparse_project_exports_only_its_annotated_frames() -> None:
    data = to_coco(sparse())
    assert [i["frame_index"] for i in data["images"]] == [0, 4, 8] and data["info"]["stride"] == 1
    assert len(to_coco(sparse(), ExportOptions(all_frames=True))["images"]) == FRAMES
    ytvis = to_ytvis(sparse())["videos"][0]
    assert ytvis["file_names"] == ["sparse/00000.jpg", "sparse/00004.jpg", "sparse/00008.jpg"]


def test_sav_rows_of_a_sparse_project_fall_every_4th_frame_as_sav_utils_reads_them() -> None:
    data = to_sav(sparse(), 1)
    assert len(data["masklet"]) == 3  # row i is frame 4i (sav_utils' default rate 4)
    assert "annotation_stride" not in data  # 12 frames, 3 rows: a reader infers 4
    odd = sparse()
    odd.frame_count = 13
    odd.tracks[0].masks = {f: encode(disc(10, 12, 6)) for f in (0, 6, 12)}
    data = to_sav(odd, 1)
    assert data["annotation_stride"] == 6 and len(data["masklet"]) == 3  # 13 frames, 3 rows: would infer 5
    assert sorted(from_sav(data).tracks[0].masks) == [0, 6, 12]


# 9. several YouTube-VIS videos ----------------------------------------------------------------------

def test_multi_video_ytvis_needs_a_video_id_and_reads_each(dataset: Dataset) -> None:
    first = to_ytvis(dataset, ExportOptions(video_id=3))
    second = to_ytvis(sparse(), ExportOptions(video_id=8))
    merged = dict(first, videos=first["videos"] + second["videos"],
                  annotations=first["annotations"] + second["annotations"])
    with pytest.raises(FormatError, match="2 videos .*--video-id"):
        from_ytvis(merged)
    assert [t.track_id for t in from_ytvis(merged, 3).tracks] == [5, 9]
    assert [t.track_id for t in from_ytvis(merged, 8).tracks] == [1]
    assert from_ytvis(merged, 8).name == "sparse"
    with pytest.raises(FormatError, match="no video with id 4"):
        from_ytvis(merged, 4)


# new formats, read with their own tools' rules --------------------------------------------------------

def visible(dataset: Dataset, frames: list[int]) -> dict[tuple[int, int], np.ndarray]:
    return {(f, t.track_id): t.masks[f].decode() for t in dataset.tracks for f in frames
            if f in t.masks and not t.masks[f].is_empty}


def cvat_rule_mask(shape: ET.Element) -> np.ndarray:
    """CVAT's mask: runs over the box read row by row, background first (as Datumaro decodes it:
    column-major over (width, height), then transposed)."""
    counts = [int(c) for c in shape.get("rle").split(",")]
    w, h, left, top = (int(shape.get(k)) for k in ("width", "height", "left", "top"))
    bits = np.concatenate([np.full(c, i % 2, np.uint8) for i, c in enumerate(counts)])
    box = bits.reshape((w, h), order="F").T  # Datumaro: rle_to_mask over size (w, h), transposed
    out = np.zeros((H, W), bool)
    out[top:top + h, left:left + w] = box.astype(bool)
    return out


def test_cvat_xml_holds_tracks_with_keyframes_outside_and_cvat_rle(dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "c.xml"
    export_dataset(dataset, "cvat", out, ExportOptions(stride=2))
    root = ET.parse(out).getroot()
    task = root.find("meta/task")
    assert task.findtext("mode") == "interpolation" and task.findtext("frame_filter") == "step=2"
    assert [l.findtext("name") for l in task.findall("labels/label")] == ["animal", "toy"]
    got = {}
    for track in root.findall("track"):
        shapes = track.findall("mask")
        assert all(s.get("keyframe") == "1" for s in shapes)
        for shape in shapes:
            if shape.get("outside") == "1":
                got[(int(shape.get("frame")), int(track.get("id")), "outside")] = True
                continue
            mask = cvat_rule_mask(shape)
            first_is_foreground = mask[int(shape.get("top")), int(shape.get("left"))]
            assert (shape.get("rle").split(",")[0].strip() == "0") == bool(first_is_foreground)  # background run first
            got[(int(shape.get("frame")), int(track.get("id")))] = mask
            assert shape.find("attribute[@name='name']").text in ("dog", "ball")
    want = visible(dataset, list(range(0, FRAMES, 2)))
    assert {k for k in got if len(k) == 2} == set(want)
    assert all(np.array_equal(got[k], want[k]) for k in want)
    assert (4, 9, "outside") in got and (6, 9) in got  # gone on 4, back on 6


def test_cvat_rle_starts_with_a_background_run() -> None:
    mask = np.zeros((5, 6), bool)
    mask[1:3, 2:4] = True
    mask[2, 2] = False
    encoded = encode_cvat(mask)
    assert (encoded.left, encoded.top, encoded.width, encoded.height) == (2, 1, 2, 2)
    assert encoded.counts == (0, 2, 1, 1)  # box rows: [1 1] [0 1]
    assert np.array_equal(decode_cvat(list(encoded.counts), 2, 1, 2, 2, 5, 6, "t"), mask)
    with pytest.raises(FormatError, match="cover 3 pixels, its box 4"):
        decode_cvat([0, 2, 1], 2, 1, 2, 2, 5, 6, "t")


def test_datumaro_json_by_datumaros_rules(dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "d.json"
    export_dataset(dataset, "datumaro", out, ExportOptions(stride=3, frame_names="cvat-video"))
    data = json.loads(out.read_text())
    labels = [l["name"] for l in data["categories"]["label"]["labels"]]
    got = {}
    for item in data["items"]:
        assert item["id"] == f"frame_{item['attr']['frame']:06d}"
        for ann in item["annotations"]:
            assert ann["type"] == "mask" and labels[ann["label_id"]] in ("animal", "toy")
            rle = {"size": ann["rle"]["size"], "counts": ann["rle"]["counts"].encode("ascii")}
            got[(item["attr"]["frame"], ann["attributes"]["track_id"])] = mask_utils.decode(rle).astype(bool)
    want = visible(dataset, list(range(0, FRAMES, 3)))
    assert set(got) == set(want) and all(np.array_equal(got[k], want[k]) for k in want)


def test_mots_png_by_datumaros_rules_and_txt_by_pycocotools(dataset: Dataset, tmp_path: Path) -> None:
    export_dataset(dataset, "mots", tmp_path / "m", 1)
    export_dataset(dataset, "mots_txt", tmp_path / "m.txt", 1)
    labels = (tmp_path / "m" / "instances" / "labels.txt").read_text().split()
    assert labels == ["animal", "toy"]  # line k names class k + 1
    for frame in range(FRAMES):
        with Image.open(tmp_path / "m" / "instances" / f"{frame:05d}.png") as image:
            values = np.array(image, dtype=np.uint16)
        flat = davis_frame(dataset.tracks, frame, H, W)
        for track in dataset.tracks:
            class_id = 1 if track.category == "animal" else 2
            assert np.array_equal(values == class_id * 1000 + track.track_id, flat == track.track_id)
    lines = (tmp_path / "m.txt").read_text().splitlines()
    want = visible(dataset, list(range(FRAMES)))
    assert len(lines) == len(want)
    for line in lines:
        frame, value, class_id, h, w, rle = line.split()
        assert int(value) // 1000 == int(class_id)
        mask = mask_utils.decode({"size": [int(h), int(w)], "counts": rle.encode()}).astype(bool)
        assert np.array_equal(mask, want[(int(frame), int(value) % 1000)])  # overlaps kept in txt


def test_yolo_polygons_by_ultralytics_rules_and_the_loss_reported(tmp_path: Path) -> None:
    two_parts = np.zeros((H, W), bool)
    two_parts[3:9, 3:12] = True
    two_parts[15:25, 20:35] = True
    ring = disc(20, 15, 9) & ~disc(20, 15, 3)  # a hole polygons cannot keep
    data = Dataset("v", W, H, 2, 0.0, [Track(1, "a", "box", {0: encode(two_parts), 1: encode(two_parts)}),
                                       Track(2, "r", "ring", {1: encode(ring)})])
    export_dataset(data, "yolo", tmp_path / "y", 1)
    yaml_text = (tmp_path / "y" / "data.yaml").read_text()
    assert '0: "box"' in yaml_text and '1: "ring"' in yaml_text
    lines = (tmp_path / "y" / "labels" / "train" / "00000.txt").read_text().splitlines()
    assert len(lines) == 2 and all(line.split()[0] == "0" for line in lines)  # a polygon per connected part
    drawn = np.zeros((H, W), bool)
    for line in lines:
        coords = np.array(line.split()[1:], float).reshape(-1, 2) * [W, H]  # normalised x y pairs
        assert coords.min() >= 0 and (coords[:, 0] <= W).all() and (coords[:, 1] <= H).all()
        drawn |= polygons_mask([coords.reshape(-1).tolist()], H, W)
    assert np.array_equal(drawn, two_parts)  # rectangles come back exactly
    losses = {loss.track_id: loss for loss in polygon_losses(data, [0, 1])}
    assert losses[1].wrong == 0
    ring_back = polygons_mask(mask_polygons(ring), H, W)
    assert losses[2].wrong == int((ring_back != ring).sum()) >= int(disc(20, 15, 3).sum())  # the hole, filled
    back = import_dataset(tmp_path / "y", "yolo")
    assert [(t.name, t.category) for t in back.tracks] == [("box", "box"), ("ring", "ring")]
    assert np.array_equal(back.tracks[0].masks[0].decode(), two_parts)


def test_cvat_for_images_xml_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "i.xml"
    path.write_text("<annotations><version>1.1</version><meta><task><original_size><width>4</width>"
                    "<height>4</height></original_size></task></meta><image id='0' name='a.jpg'/></annotations>")
    with pytest.raises(FormatError, match="CVAT for images XML"):
        import_dataset(path, "cvat")


# files another tool wrote -----------------------------------------------------------------------------

WRITTEN = Path(__file__).parent / "data" / "datumaro_written"


def tiny() -> Dataset:
    """The dataset Datumaro 1.13 read from our Datumaro JSON and wrote as the files in tests/data/datumaro_written
    (bench/datumaro/load_with_datumaro.py --reexport): object 1 on frames 0-4, object 4 absent on frame 2."""
    def box(x: int, y: int, w: int, h: int) -> np.ndarray:
        m = np.zeros((16, 24), bool)
        m[y:y + h, x:x + w] = True
        return m

    return Dataset("tiny", 24, 16, 5, 24.0, [
        Track(1, "dog", "animal", {f: encode(box(1 + f, 2, 6, 5)) for f in range(5)}),
        Track(4, "ball", "toy", {f: encode(box(14, 6 + f, 4, 3)) for f in range(5) if f != 2})])


@pytest.mark.parametrize("fmt, name", [("coco", "coco_instances.json"), ("cvat", "cvat_video_tracks.xml")])
def test_files_datumaro_wrote_import_with_every_mask_and_id(fmt: str, name: str) -> None:
    back = import_dataset(WRITTEN / name, fmt)
    want = tiny()
    assert [(t.track_id, t.category) for t in back.tracks] == [(1, "animal"), (4, "toy")]
    got = visible(back, list(range(5)))
    assert set(got) == set(visible(want, list(range(5))))
    assert all(np.array_equal(got[k], mask) for k, mask in visible(want, list(range(5))).items())


def test_sav_manual_file_at_stride_1_exports_its_121_annotated_frames(shared_data: Path, tmp_path: Path) -> None:
    """Issue 16, item 8: 483 frames annotated every 4th; COCO at stride 1 listed 362 empty images."""
    dataset = import_dataset(shared_data / "sav" / "sav_000001_manual.json", "sav")
    coco = to_coco(dataset, 1)
    assert len(coco["images"]) == 121 and [i["frame_index"] for i in coco["images"][:3]] == [0, 4, 8]
    assert len(to_coco(dataset, ExportOptions(all_frames=True))["images"]) == 483
    assert len(to_sav(dataset, 1)["masklet"]) == 121  # rows every 4th frame, as sav_utils reads them


def test_mots_png_in_a_subset_folder_as_datumaro_writes_it(dataset: Dataset, tmp_path: Path) -> None:
    (tmp_path / "root").mkdir()
    export_dataset(dataset, "mots", tmp_path / "root" / "default", 1)
    back = import_dataset(tmp_path / "root", "mots")
    assert [t.track_id for t in back.tracks] == [5, 9]
