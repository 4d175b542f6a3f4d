"""COCO instance segmentation for video: one image per frame, one annotation per object and frame.

Each annotation carries a ``track_id`` (the object's id) beside the usual RLE segmentation,
bbox (x, y, width, height, pixels), area (pixels) and ``iscrowd: 0``. Images carry their
``frame_index``; a top-level ``tracks`` list keeps object names. Objects absent on a frame
have no annotation there.
"""

from __future__ import annotations

from pathlib import Path

from core.formats.atomic import read_json, write_json_export
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, frame_from_name, frame_stem, renumber_tracks
from core.formats.layout import JSON_MARK
from core.formats.segmentation import rle_from_segmentation
from core.types import CancelCheck, ProgressCallback


def category_ids(tracks: list[Track]) -> dict[str, int]:
    """Category name -> id, 1.. in alphabetical order."""
    return {name: i for i, name in enumerate(sorted({t.category for t in tracks}), start=1)}


def to_coco(
    dataset: Dataset, stride: int = 1, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None
) -> dict:
    """The COCO dict of a dataset, one image every ``stride`` frames."""
    dataset.check_masks()
    frames = dataset.selected_frames(stride)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    categories = category_ids(tracks)
    images, annotations = [], []
    for image_id, frame in enumerate(frames, start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        images.append({
            "id": image_id, "file_name": f"{dataset.name}/{frame_stem(frame)}.jpg",
            "width": dataset.width, "height": dataset.height, "frame_index": frame,
        })
        for track in tracks:
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": categories[track.category],
                "segmentation": rle.to_coco(), "area": float(rle.area), "bbox": list(rle.bbox),
                "iscrowd": 0, "track_id": track.track_id,
            })
        if progress is not None:
            progress(image_id, len(frames), "COCO")
    return {
        "info": {"description": JSON_MARK, "video": dataset.name, "fps": dataset.fps,
                 "frame_count": dataset.frame_count},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [{"id": i, "name": name, "supercategory": name} for name, i in categories.items()],
        "tracks": [{"id": t.track_id, "name": t.name, "category_id": categories[t.category]} for t in tracks],
    }


def write_coco(
    dataset: Dataset, path: Path, stride: int = 1, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    write_json_export(Path(path), "coco", overwrite, lambda: to_coco(dataset, stride, progress, cancel))


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise FormatError(f"COCO JSON lacks the list {key!r}")
    return value


def from_coco(data: object, name: str = "video") -> Dataset:
    """A dataset from a parsed COCO dict whose annotations carry ``track_id`` (one video)."""
    if not isinstance(data, dict):
        raise FormatError("COCO JSON must be an object at the top level")
    images, annotations = _list(data, "images"), _list(data, "annotations")
    if not images:
        raise FormatError("COCO JSON has no images")
    try:
        if len({img.get("video_id") for img in images}) > 1:
            raise FormatError("COCO JSON holds several videos; Masklet imports one video per project")
        sizes = {(int(img["height"]), int(img["width"])) for img in images}
        frame_of = {img["id"]: int(img["frame_index"]) if "frame_index" in img else frame_from_name(img["file_name"])
                    for img in images}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"COCO images need id, width, height and file_name ({exc!r})") from None
    if len(sizes) != 1:
        raise FormatError(f"COCO images have {len(sizes)} different sizes; one video has one size")
    (height, width), = sizes
    categories = {c.get("id"): str(c.get("name", "object")) for c in data.get("categories", []) if isinstance(c, dict)}
    names = {t.get("id"): str(t["name"]) for t in data.get("tracks", []) if isinstance(t, dict) and "name" in t}
    if any(not isinstance(a, dict) or "track_id" not in a for a in annotations):
        raise FormatError("COCO annotations need a track_id (which object each mask belongs to)")
    ids = renumber_tracks([int(a["track_id"]) for a in annotations])
    tracks: dict[int, Track] = {}
    for ann in annotations:
        where = f"COCO annotation {ann.get('id')}"
        if ann.get("image_id") not in frame_of:
            raise FormatError(f"{where} refers to no image")
        track_id = ids[int(ann["track_id"])]
        track = tracks.get(track_id)
        category = categories.get(ann.get("category_id"), "object")
        if track is None:
            track = tracks[track_id] = Track(track_id, names.get(ann["track_id"], f"{category} {track_id}"), category)
        frame = frame_of[ann["image_id"]]
        if frame in track.masks:
            raise FormatError(f"{where}: track {ann['track_id']} has two masks on frame {frame}")
        track.masks[frame] = rle_from_segmentation(ann.get("segmentation"), height, width, where)
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    frame_count = max(int(info.get("frame_count") or 0), max(frame_of.values()) + 1)
    dataset = Dataset(
        name=str(info.get("video") or name), width=width, height=height, frame_count=frame_count,
        fps=float(info.get("fps") or 0.0), tracks=[tracks[k] for k in sorted(tracks)],
    )
    dataset.check_rles()
    return dataset


def read_coco(path: Path) -> Dataset:
    path = Path(path)
    return from_coco(read_json(path, "COCO"), name=path.stem)
