"""COCO instance segmentation for video: one image per exported frame, one annotation per object and frame.

Each annotation carries the object's id twice: ``track_id`` at the top (Masklet's and many
video tools') and ``attributes: {"track_id", "keyframe", "occluded"}`` where CVAT and Datumaro
read it (CVAT builds a track only from those attributes; every mask written is an explicit
mask, so ``keyframe`` is true). Besides: the RLE segmentation, bbox (x, y, width, height,
pixels), area (pixels) and ``iscrowd: 0``. Images carry their ``frame_index``; ``info`` keeps
the video's name, fps, frame count and the export's ``stride``; a top-level ``tracks`` list
keeps object names. Objects absent on a frame have no annotation there.

Import takes ``track_id`` from the top or from ``attributes`` (files CVAT and Datumaro write),
and keeps what a re-export needs to write the same file: category ids and names
(core.formats.categories), image ids and file names (core.formats.options), object ids.
"""

from __future__ import annotations

from pathlib import Path

from core.formats.atomic import read_json, write_json_export
from core.formats.categories import Category, categories, category_ids, remember_categories
from core.formats.dataset import (
    Dataset, ExportCancelled, FormatError, Track, file_id, frame_from_name, keep_file_ids, renumber_tracks,
)
from core.formats.layout import JSON_MARK
from core.formats.options import ExportOptions, as_options, export_frames, file_names, remember_names
from core.formats.segmentation import rle_from_segmentation
from core.masks import empty
from core.types import CancelCheck, ProgressCallback

IMAGE_IDS_KEY = "coco.image_ids"  # dataset attribute: {str(frame): image id} as imported
VIDEO_ID_KEY = "video_id"  # dataset attribute: the video's id in a YouTube-VIS / COCO-video file


def _image_ids(dataset: Dataset, frames: list[int]) -> list[int]:
    """Image ids: the imported ones where kept, new ones (after the largest) for other frames."""
    kept = dataset.attributes.get(IMAGE_IDS_KEY)
    kept = {int(k): int(v) for k, v in kept.items()} if isinstance(kept, dict) else {}
    used = set(kept.values())
    next_id = max(used, default=0) + 1
    ids = []
    for frame in frames:
        if frame in kept:
            ids.append(kept[frame])
        else:
            while next_id in used:
                next_id += 1
            ids.append(next_id)
            used.add(next_id)
    return ids


def to_coco(
    dataset: Dataset, options: ExportOptions | int | None = None,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> dict:
    """The COCO dict of a dataset (options: core.formats.options; an int is the stride)."""
    options = as_options(options)
    dataset.check_masks()
    frames = export_frames(dataset, options)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    cat_ids = category_ids(dataset)
    video_id = options.video_id or dataset.attributes.get(VIDEO_ID_KEY)
    images, annotations = [], []
    for done, (image_id, frame, name) in enumerate(
            zip(_image_ids(dataset, frames), frames, file_names(dataset, frames, options)), start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        image = {"id": image_id, "file_name": name, "width": dataset.width, "height": dataset.height,
                 "frame_index": frame}
        if video_id is not None:
            image["video_id"] = int(video_id)
        images.append(image)
        for track in tracks:
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            tid = file_id(track)
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": cat_ids[track.category],
                "segmentation": rle.to_coco(), "area": float(rle.area), "bbox": list(rle.bbox),
                "iscrowd": 0, "track_id": tid,
                "attributes": {"track_id": tid, "keyframe": True, "occluded": False,
                               **track.frame_attributes.get(frame, {})},  # the label schema's values
            })
        if progress is not None:
            progress(done, len(frames), "COCO")
    return {
        "info": {"description": JSON_MARK, "video": dataset.name, "fps": dataset.fps,
                 "frame_count": dataset.frame_count, "stride": options.stride},
        "licenses": [],
        "images": images,
        "annotations": annotations,
        "categories": [c.to_coco() for c in categories(dataset)],
        "tracks": [{"id": file_id(t), "name": t.name, "category_id": cat_ids[t.category]} for t in tracks],
    }


def write_coco(
    dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    write_json_export(Path(path), "coco", overwrite, lambda: to_coco(dataset, options, progress, cancel))


def _list(data: dict, key: str) -> list:
    value = data.get(key)
    if not isinstance(value, list):
        raise FormatError(f"COCO JSON lacks the list {key!r}")
    return value


def annotation_track_id(ann: object) -> int | None:
    """The object id of a COCO annotation: ``track_id`` at the top (Masklet, many video tools) or in
    ``attributes`` (CVAT, Datumaro); None when it has neither."""
    if not isinstance(ann, dict):
        return None
    value = ann.get("track_id")
    if value is None and isinstance(ann.get("attributes"), dict):
        value = ann["attributes"].get("track_id")
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def read_categories(data: dict) -> list[Category]:
    """The file's category table (COCO and YouTube-VIS share it)."""
    table = []
    for c in data.get("categories", []) or []:
        if isinstance(c, dict) and isinstance(c.get("id"), int) and not isinstance(c.get("id"), bool):
            table.append(Category(int(c["id"]), str(c.get("name", "object")), str(c.get("supercategory") or "")))
    return table


def from_coco(data: object, name: str = "video") -> Dataset:
    """A dataset from a parsed COCO dict whose annotations carry a track id (one video)."""
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
        names_of = {int(frame_of[img["id"]]): str(img.get("file_name", "")) for img in images}
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"COCO images need id, width, height and file_name ({exc!r})") from None
    if len(sizes) != 1:
        raise FormatError(f"COCO images have {len(sizes)} different sizes; one video has one size")
    if len(set(frame_of.values())) != len(frame_of):
        raise FormatError("COCO images name the same frame twice; Masklet imports one video per file")
    (height, width), = sizes
    table = read_categories(data)
    cat_names = {c.id: c.name for c in table}
    names = {t.get("id"): str(t["name"]) for t in data.get("tracks", []) if isinstance(t, dict) and "name" in t}
    track_ids = [annotation_track_id(a) for a in annotations]
    if any(t is None for t in track_ids):
        raise FormatError("COCO annotations need a track_id, at the top or in 'attributes' "
                          "(which object each mask belongs to)")
    ids = renumber_tracks([int(t) for t in track_ids if t is not None])
    tracks: dict[int, Track] = {}
    for ann, own_id in zip(annotations, track_ids):
        assert own_id is not None
        where = f"COCO annotation {ann.get('id')}"
        if ann.get("image_id") not in frame_of:
            raise FormatError(f"{where} refers to no image")
        track_id = ids[own_id]
        track = tracks.get(track_id)
        category = cat_names.get(ann.get("category_id"), "object")
        if track is None:
            track = tracks[track_id] = Track(track_id, names.get(own_id, f"{category} {track_id}"), category)
        frame = frame_of[ann["image_id"]]
        if frame in track.masks:
            raise FormatError(f"{where}: track {own_id} has two masks on frame {frame}")
        track.masks[frame] = rle_from_segmentation(ann.get("segmentation"), height, width, where)
    blank = empty(height, width)
    for track in tracks.values():  # an image listed is a frame annotated: objects without a mask there are absent
        for frame in frame_of.values():
            track.masks.setdefault(frame, blank)
    keep_file_ids(list(tracks.values()), ids)
    info = data.get("info") if isinstance(data.get("info"), dict) else {}
    frame_count = max(int(info.get("frame_count") or 0), max(frame_of.values()) + 1)
    attributes: dict[str, object] = {IMAGE_IDS_KEY: {str(frame_of[i]): i for i in frame_of if isinstance(i, int)}}
    remember_categories(attributes, table)
    frames = sorted(names_of)
    prefix = remember_names(attributes, frames, [names_of[f] for f in frames])
    video_ids = {img.get("video_id") for img in images} - {None}
    if len(video_ids) == 1 and isinstance(next(iter(video_ids)), int):
        attributes[VIDEO_ID_KEY] = next(iter(video_ids))
    dataset = Dataset(
        name=str(prefix or info.get("video") or name), width=width, height=height, frame_count=frame_count,
        fps=float(info.get("fps") or 0.0), tracks=[tracks[k] for k in sorted(tracks)], attributes=attributes,
    )
    dataset.check_rles()
    return dataset


def read_coco(path: Path) -> Dataset:
    path = Path(path)
    return from_coco(read_json(path, "COCO"), name=path.stem)
