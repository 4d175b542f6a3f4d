"""YouTube-VIS: one video entry with its frame file names, one annotation per object.

An annotation holds per-frame lists aligned with the video's ``file_names``:
``segmentations`` (COCO RLE), ``bboxes`` (x, y, width, height, pixels) and ``areas``
(pixels), each ``null`` on frames where the object is absent. Annotation ids are the
object ids; a ``name`` field keeps object names; the video entry keeps ``frame_count``,
``fps`` and the export's ``stride``.

A file may hold several videos: :func:`read_ytvis` takes one (``video_id``), and
:func:`read_ytvis_videos` gives each as its own dataset. The video id, category ids and file
names a file had are kept, so import then export writes them back.
"""

from __future__ import annotations

from pathlib import Path

from core.formats.atomic import read_json, write_json_export
from core.validation.bounds import Invalid, no_duplicates
from core.formats.categories import categories, category_ids, remember_categories
from core.formats.coco import VIDEO_ID_KEY, read_categories
from core.formats.dataset import (
    Dataset, ExportCancelled, FormatError, Track, file_id, frame_from_name, keep_file_ids, renumber_tracks,
)
from core.formats.layout import JSON_MARK
from core.formats.options import ExportOptions, as_options, export_frames, file_names, remember_names
from core.formats.segmentation import rle_from_segmentation
from core.masks import empty
from core.types import CancelCheck, ProgressCallback


def to_ytvis(
    dataset: Dataset, options: ExportOptions | int | None = None,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> dict:
    """The YouTube-VIS dict of a dataset (options: core.formats.options; an int is the stride)."""
    options = as_options(options)
    dataset.check_masks()
    frames = export_frames(dataset, options)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    cat_ids = category_ids(dataset)
    video_id = int(options.video_id or dataset.attributes.get(VIDEO_ID_KEY) or 1)
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
            "id": file_id(track), "video_id": video_id, "category_id": cat_ids[track.category], "name": track.name,
            "segmentations": segmentations, "bboxes": bboxes, "areas": areas, "iscrowd": 0,
            "width": dataset.width, "height": dataset.height, "length": 1,
        })
        if progress is not None:
            progress(done, len(tracks), "YouTube-VIS")
    video = {
        "id": video_id, "width": dataset.width, "height": dataset.height, "length": len(frames),
        "file_names": file_names(dataset, frames, options),
        "frame_count": dataset.frame_count, "fps": dataset.fps, "stride": options.stride,
    }
    return {
        "info": {"description": JSON_MARK}, "licenses": [], "videos": [video],
        "categories": [c.to_coco() for c in categories(dataset)],
        "annotations": annotations,
    }


def write_ytvis(
    dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    write_json_export(Path(path), "ytvis", overwrite, lambda: to_ytvis(dataset, options, progress, cancel))


def video_ids(data: object) -> list[int]:
    """The ids of the videos a parsed YouTube-VIS dict holds, in file order."""
    if not isinstance(data, dict) or not isinstance(data.get("videos"), list):
        raise FormatError("YouTube-VIS JSON lacks its 'videos' list")
    ids = []
    for video in data["videos"]:
        if not isinstance(video, dict) or not isinstance(video.get("id"), int):
            raise FormatError("YouTube-VIS videos need an integer id")
        ids.append(int(video["id"]))
    return ids


def _video(data: dict, video_id: int | None) -> dict:
    ids = video_ids(data)
    if not ids:
        raise FormatError("YouTube-VIS JSON holds no video")
    if video_id is None:
        if len(ids) > 1:
            shown = ", ".join(map(str, ids[:8])) + (" ..." if len(ids) > 8 else "")
            raise FormatError(f"YouTube-VIS JSON holds {len(ids)} videos (ids {shown}); pick one with --video-id")
        return data["videos"][0]
    if video_id not in ids:
        raise FormatError(f"YouTube-VIS JSON has no video with id {video_id} (ids: {', '.join(map(str, ids[:8]))})")
    return data["videos"][ids.index(video_id)]


def from_ytvis(data: object, video_id: int | None = None) -> Dataset:
    """A dataset from a parsed YouTube-VIS dict: its only video, or the one with ``video_id``."""
    if not isinstance(data, dict):
        raise FormatError("YouTube-VIS JSON lacks its 'videos' list")
    video = _video(data, video_id)
    vid = int(video["id"])
    try:
        height, width = int(video["height"]), int(video["width"])
        names = [str(name) for name in video["file_names"]]
        frames = [frame_from_name(name) for name in names]
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, FormatError):
            raise
        raise FormatError(f"YouTube-VIS video needs width, height and file_names ({exc!r})") from None
    annotations = data.get("annotations")
    if not isinstance(annotations, list) or not all(isinstance(a, dict) and "id" in a for a in annotations):
        raise FormatError("YouTube-VIS JSON lacks its 'annotations' list (each with an id)")
    several = len(data["videos"]) > 1
    annotations = [a for a in annotations if not several or a.get("video_id") == vid]
    table = read_categories(data)
    cat_names = {c.id: c.name for c in table}
    own_ids = [int(a["id"]) for a in annotations]
    try:  # two annotations with one id would merge into one object: refused, naming it (issue 21)
        no_duplicates(own_ids, "YouTube-VIS annotations", "id")
    except Invalid as exc:
        raise FormatError(str(exc)) from None
    ids = renumber_tracks(own_ids)
    blank = empty(height, width)
    tracks = []
    for ann in annotations:
        where = f"YouTube-VIS annotation {ann['id']}"
        segmentations = ann.get("segmentations")
        if not isinstance(segmentations, list) or len(segmentations) != len(frames):
            raise FormatError(f"{where}: needs one segmentation (or null) per file name ({len(frames)})")
        category = cat_names.get(ann.get("category_id"), "object")
        track = Track(ids[int(ann["id"])], str(ann.get("name") or f"{category} {ann['id']}"), category)
        for frame, segmentation in zip(frames, segmentations):
            track.masks[frame] = blank if segmentation is None else rle_from_segmentation(segmentation, height, width, where)
        tracks.append(track)
    keep_file_ids(tracks, ids)
    attributes: dict[str, object] = {VIDEO_ID_KEY: vid}
    remember_categories(attributes, table)
    prefix = remember_names(attributes, frames, names)
    frame_count = max(int(video.get("frame_count") or 0), max(frames, default=-1) + 1)
    dataset = Dataset(name=prefix or (f"video{vid}" if several else "video"), width=width, height=height, frame_count=frame_count,
                      fps=float(video.get("fps") or 0.0), tracks=sorted(tracks, key=lambda t: t.track_id),
                      attributes=attributes)
    dataset.check_rles()
    return dataset


def read_ytvis(path: Path, video_id: int | None = None) -> Dataset:
    return from_ytvis(read_json(Path(path), "YouTube-VIS"), video_id)


def read_ytvis_videos(path: Path) -> list[Dataset]:
    """Every video of a YouTube-VIS file, one dataset each (in file order)."""
    data = read_json(Path(path), "YouTube-VIS")
    return [from_ytvis(data, vid) for vid in video_ids(data)]
