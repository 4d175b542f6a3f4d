"""YouTube-VIS: one video entry with its frame file names, one annotation per object.

An annotation holds per-frame lists aligned with the video's ``file_names``:
``segmentations`` (COCO RLE), ``bboxes`` (x, y, width, height, pixels) and ``areas``
(pixels), each ``null`` on frames where the object is absent. Annotation ids are the
object ids; a ``name`` field keeps object names.
"""

from __future__ import annotations

from pathlib import Path

from core.formats.atomic import read_json, write_json_export
from core.formats.coco import category_ids
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, frame_from_name, frame_stem, renumber_tracks
from core.formats.layout import JSON_MARK
from core.formats.segmentation import rle_from_segmentation
from core.masks import empty
from core.types import CancelCheck, ProgressCallback


def to_ytvis(
    dataset: Dataset, stride: int = 1, progress: ProgressCallback | None = None, cancel: CancelCheck | None = None
) -> dict:
    """The YouTube-VIS dict of a dataset, annotated every ``stride`` frames."""
    dataset.check_masks()
    frames = dataset.selected_frames(stride)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    categories = category_ids(tracks)
    annotations = []
    for done, track in enumerate(tracks, start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        segmentations, bboxes, areas = [], [], []
        for frame in frames:
            rle = track.masks.get(frame)
            present = rle is not None and not rle.is_empty
            segmentations.append(rle.to_coco() if present else None)
            bboxes.append(list(rle.bbox) if present else None)
            areas.append(float(rle.area) if present else None)
        annotations.append({
            "id": track.track_id, "video_id": 1, "category_id": categories[track.category], "name": track.name,
            "segmentations": segmentations, "bboxes": bboxes, "areas": areas, "iscrowd": 0,
            "width": dataset.width, "height": dataset.height, "length": 1,
        })
        if progress is not None:
            progress(done, len(tracks), "YouTube-VIS")
    video = {
        "id": 1, "width": dataset.width, "height": dataset.height, "length": len(frames),
        "file_names": [f"{dataset.name}/{frame_stem(f)}.jpg" for f in frames],
        "frame_count": dataset.frame_count, "fps": dataset.fps,
    }
    return {
        "info": {"description": JSON_MARK}, "licenses": [], "videos": [video],
        "categories": [{"id": i, "name": name, "supercategory": name} for name, i in categories.items()],
        "annotations": annotations,
    }


def write_ytvis(
    dataset: Dataset, path: Path, stride: int = 1, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    write_json_export(Path(path), "ytvis", overwrite, lambda: to_ytvis(dataset, stride, progress, cancel))


def from_ytvis(data: object) -> Dataset:
    """A dataset from a parsed YouTube-VIS dict holding exactly one video."""
    if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
        raise FormatError("YouTube-VIS JSON lacks its 'videos' list")
    if len(data["videos"]) != 1:
        raise FormatError(f"YouTube-VIS JSON holds {len(data['videos'])} videos; Masklet imports one video per project")
    video = data["videos"][0]
    try:
        height, width = int(video["height"]), int(video["width"])
        frames = [frame_from_name(str(name)) for name in video["file_names"]]
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"YouTube-VIS video needs width, height and file_names ({exc!r})") from None
    annotations = data.get("annotations")
    if not isinstance(annotations, list) or not all(isinstance(a, dict) and "id" in a for a in annotations):
        raise FormatError("YouTube-VIS JSON lacks its 'annotations' list (each with an id)")
    categories = {c.get("id"): str(c.get("name", "object")) for c in data.get("categories", []) if isinstance(c, dict)}
    ids = renumber_tracks([int(a["id"]) for a in annotations])
    blank = empty(height, width)
    tracks = []
    for ann in annotations:
        where = f"YouTube-VIS annotation {ann['id']}"
        segmentations = ann.get("segmentations")
        if not isinstance(segmentations, list) or len(segmentations) != len(frames):
            raise FormatError(f"{where}: needs one segmentation (or null) per file name ({len(frames)})")
        category = categories.get(ann.get("category_id"), "object")
        track = Track(ids[int(ann["id"])], str(ann.get("name") or f"{category} {ann['id']}"), category)
        for frame, segmentation in zip(frames, segmentations):
            track.masks[frame] = blank if segmentation is None else rle_from_segmentation(segmentation, height, width, where)
        tracks.append(track)
    frame_count = max(int(video.get("frame_count") or 0), max(frames, default=-1) + 1)
    name = str(video["file_names"][0]).split("/")[0] if frames and "/" in str(video["file_names"][0]) else "video"
    dataset = Dataset(name=name, width=width, height=height, frame_count=frame_count,
                      fps=float(video.get("fps") or 0.0), tracks=sorted(tracks, key=lambda t: t.track_id))
    dataset.check_rles()
    return dataset


def read_ytvis(path: Path) -> Dataset:
    return from_ytvis(read_json(Path(path), "YouTube-VIS"))
