"""Datumaro JSON (``dm_format_version`` 1.0): one item per exported frame, a mask annotation per object.

Written as Datumaro's own exporter writes its ``annotations/<subset>.json``: ``categories.label``
(one label per category, in category-id order; ``label_id`` is the position there), ``items``
with ``id`` (the frame's file name without extension, see core.formats.options), ``attr.frame``
(the video's frame index) and ``image`` (path, size [height, width]); each annotation is
``type: "mask"`` with COCO compressed ``rle`` and ``attributes: {track_id, keyframe, occluded}``,
where Datumaro keeps object identity. ``infos.masklet`` keeps what Datumaro has no field for:
the video's name, size, fps and frame count, the export's stride, category ids and object names.
Import reads this and Datumaro's own exports (objects by ``attributes.track_id``).
"""

from __future__ import annotations

from pathlib import Path

from core.formats.atomic import read_json, write_json_export
from core.formats.categories import Category, categories, remember_categories
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, file_id, frame_from_name, keep_file_ids, renumber_tracks
from core.formats.options import ExportOptions, as_options, export_frames, file_names, remember_names
from core.masks import Rle, empty
from core.types import CancelCheck, ProgressCallback

VERSION = "1.0"


def to_datumaro(dataset: Dataset, options: ExportOptions | int | None = None,
                progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> dict:
    """The Datumaro JSON dict of a dataset (options: core.formats.options; an int is the stride)."""
    options = as_options(options)
    dataset.check_masks()
    frames = export_frames(dataset, options)
    table = categories(dataset)
    label_of = {c.name: i for i, c in enumerate(table)}
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    items = []
    for done, (frame, name) in enumerate(zip(frames, file_names(dataset, frames, options)), start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        annotations = []
        for track in tracks:
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            annotations.append({
                "id": len(annotations), "type": "mask", "group": 0, "z_order": 0,
                "label_id": label_of[track.category],
                "attributes": {"track_id": file_id(track), "keyframe": True, "occluded": False},
                "rle": {"counts": rle.counts.decode("ascii"), "size": [rle.height, rle.width]},
            })
        items.append({
            "id": name.rsplit(".", 1)[0], "annotations": annotations, "attr": {"frame": frame},
            "image": {"path": name, "size": [dataset.height, dataset.width]},
        })
        if progress is not None:
            progress(done, len(frames), "Datumaro")
    return {
        "dm_format_version": VERSION,
        "media_type": 2,  # datumaro.components.media.MediaType.IMAGE
        "infos": {"masklet": {
            "video": dataset.name, "width": dataset.width, "height": dataset.height, "fps": dataset.fps,
            "frame_count": dataset.frame_count, "stride": options.stride,
            "category_ids": [c.id for c in table],
            "tracks": [{"id": file_id(t), "name": t.name, "category": t.category} for t in tracks],
        }},
        "categories": {
            "label": {"labels": [{"name": c.name, "parent": "", "attributes": []} for c in table],
                      "attributes": ["track_id", "keyframe", "occluded"]},
        },
        "items": items,
    }


def write_datumaro(dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    write_json_export(Path(path), "datumaro", overwrite, lambda: to_datumaro(dataset, options, progress, cancel))


def _items(data: object) -> list[dict]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise FormatError("Datumaro JSON lacks its 'items' list")
    if not all(isinstance(i, dict) for i in data["items"]):
        raise FormatError("Datumaro items must be objects")
    return data["items"]


def _frame(item: dict) -> int:
    attr = item.get("attr") if isinstance(item.get("attr"), dict) else {}
    if isinstance(attr.get("frame"), int):
        return int(attr["frame"])
    return frame_from_name(str(item.get("id", "")))


def from_datumaro(data: object, name: str = "video") -> Dataset:
    """A dataset from a parsed Datumaro JSON dict whose mask annotations carry ``attributes.track_id``."""
    items = _items(data)
    assert isinstance(data, dict)
    infos = data.get("infos") if isinstance(data.get("infos"), dict) else {}
    ours = infos.get("masklet") if isinstance(infos.get("masklet"), dict) else {}
    labels = (data.get("categories") or {}).get("label") or {}
    label_names = [str(lab.get("name", "object")) for lab in labels.get("labels", []) if isinstance(lab, dict)]
    cat_ids = ours.get("category_ids") if isinstance(ours.get("category_ids"), list) else []
    if len(cat_ids) != len(label_names):
        cat_ids = list(range(1, len(label_names) + 1))
    table = [Category(int(i), n) for i, n in zip(cat_ids, label_names)]
    masks: list[tuple[int, int, Rle, str]] = []  # (own track id, frame, mask, category)
    sizes: set[tuple[int, int]] = set()
    frames: list[int] = []
    names: list[str] = []
    for item in items:
        frame = _frame(item)
        frames.append(frame)
        image = item.get("image") if isinstance(item.get("image"), dict) else {}
        names.append(str(image.get("path") or item.get("id", "")))
        for ann in item.get("annotations") or []:
            if not isinstance(ann, dict) or ann.get("type") != "mask":
                continue
            where = f"Datumaro item {item.get('id')!r}"
            attributes = ann.get("attributes") if isinstance(ann.get("attributes"), dict) else {}
            if not isinstance(attributes.get("track_id"), int):
                raise FormatError(f"{where}: a mask without attributes.track_id (which object it belongs to)")
            try:
                rle = Rle.from_coco(ann["rle"])
            except (KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"{where}: a mask without a readable COCO rle ({exc})") from None
            sizes.add((rle.height, rle.width))
            label = ann.get("label_id")
            category = label_names[label] if isinstance(label, int) and 0 <= label < len(label_names) else "object"
            masks.append((int(attributes["track_id"]), frame, rle, category))
    if "height" in ours and "width" in ours:
        sizes.add((int(ours["height"]), int(ours["width"])))
    if len(sizes) != 1:
        raise FormatError("Datumaro masks have no size or several sizes; one video has one size")
    (height, width), = sizes
    ids = renumber_tracks([m[0] for m in masks])
    known = {int(t["id"]): t for t in ours.get("tracks", []) if isinstance(t, dict) and isinstance(t.get("id"), int)}
    tracks: dict[int, Track] = {}
    for own, frame, rle, category in masks:
        track = tracks.get(ids[own])
        if track is None:
            track = tracks[ids[own]] = Track(ids[own], str(known.get(own, {}).get("name") or f"{category} {own}"), category)
        if frame in track.masks:
            raise FormatError(f"Datumaro track {own} has two masks on frame {frame}")
        track.masks[frame] = rle
    blank = empty(height, width)
    for track in tracks.values():
        for frame in frames:
            track.masks.setdefault(frame, blank)
    keep_file_ids(list(tracks.values()), ids)
    attributes: dict[str, object] = {}
    remember_categories(attributes, table)
    order = sorted(range(len(frames)), key=lambda i: frames[i])
    prefix = remember_names(attributes, [frames[i] for i in order], [names[i] for i in order])
    frame_count = max(int(ours.get("frame_count") or 0), max(frames, default=-1) + 1)
    dataset = Dataset(name=str(ours.get("video") or prefix or name), width=width, height=height,
                      frame_count=frame_count, fps=float(ours.get("fps") or 0.0),
                      tracks=[tracks[k] for k in sorted(tracks)], attributes=attributes)
    dataset.check_rles()
    return dataset


def read_datumaro(path: Path) -> Dataset:
    path = Path(path)
    return from_datumaro(read_json(path, "Datumaro"), name=path.stem)
