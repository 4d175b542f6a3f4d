"""SA-V JSON (``{video_id}_manual.json``): read and write, field for field as the official files.

The layout, checked against ``sav_000001_manual.json``: ``masklet`` is frame-major (one list
per annotated frame, each with one COCO RLE per masklet, empty RLEs where a masklet is
absent); video fields are floats; per-masklet statistics follow the SA-V README. Frames are
annotated every ``stride`` frames of the video (SA-V: 4, i.e. 6 fps of 24 fps video).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from pycocotools import mask as mask_utils

from core.formats.atomic import read_json, write_json_export
from core.formats.dataset import FILE_ID_KEY, Dataset, ExportCancelled, FormatError, Track, file_id
from core.formats.options import ExportOptions, as_options, effective_stride, export_frames
from core.masks import Rle, empty
from core.types import CancelCheck, ProgressCallback

# SA-V rounds its float statistics to 10 decimals.
_DECIMALS = 10
_SMALL, _MEDIUM = 32**2, 96**2
STABILITY_KEY = "sav.stability_score"  # track attribute: a value, or {str(frame): score}
LAYOUT_KEY = "sav.stability_score_layout"  # dataset attribute: how the file laid per-frame scores out
STRIDE_FIELD = "annotation_stride"  # Masklet's extra SA-V field: frames between rows


def _bucket(size_abs: float) -> str:
    if size_abs < _SMALL:
        return "small"
    return "medium" if size_abs < _MEDIUM else "large"


def masklet_statistics(areas: np.ndarray, resolution: float) -> dict[str, object]:
    """Statistics of one masklet from its (F,) mask areas in pixels over the annotated frames.

    size_abs: mean area over the frames where it is visible; visibility_changes: flips after
    its first appearance; first_appeared_frame: index into the annotated frames (a float, as SA-V).
    A masklet never visible gets size 0, "small", first appearance 0.
    """
    visible = areas > 0
    size_abs = float(areas[visible].mean()) if visible.any() else 0.0
    first = int(np.argmax(visible)) if visible.any() else 0
    changes = int(np.count_nonzero(np.diff(visible[first:].astype(np.int8)))) if visible.any() else 0
    return {
        "size_rel": round(size_abs / resolution, _DECIMALS) if resolution else 0.0,
        "size_abs": round(size_abs, _DECIMALS),
        "size_bucket": _bucket(size_abs),
        "visibility_changes": changes,
        "first_appeared_frame": float(first),
        "frame_count": int(len(areas)),
    }


def sav_rows(dataset: Dataset, options: ExportOptions | int | None = None) -> range:
    """The frames an SA-V export writes as rows: every s frames from 0, s the largest step holding
    every frame the export selects (core.formats.options: a project annotated every 4th frame
    exports at stride 4 even when asked for 1, so row i is frame 4i as ``sav_utils`` reads it)."""
    options = as_options(options)
    selected = export_frames(dataset, options)
    return dataset.selected_frames(effective_stride(selected, options.stride))


def _scores_out(tracks: list[Track], frames: range, layout: object) -> list | None:
    """``masklet_stability_score`` as read: per masklet (a value each) or per frame (a row per
    frame, as SA-V's automatic files), from each track's ``sav.stability_score``."""
    values = [t.attributes.get(STABILITY_KEY) for t in tracks]
    if not any(isinstance(v, dict) for v in values):
        return values
    per_frame = [v if isinstance(v, dict) else {} for v in values]
    rows = [[scores.get(str(f)) for scores in per_frame] for f in frames]
    if layout == "masklet-major":
        return [[scores.get(str(f)) for f in frames] for scores in per_frame]
    return rows


def _stride_field(dataset: Dataset, frames: range) -> dict[str, int]:
    """Masklet's one extra field, the frames between rows (sav_utils reads only its own fields):
    written where a reader could not tell the stride from the frame counts, or the file had it."""
    try:
        guessed = infer_stride(dataset.frame_count, len(frames))
    except FormatError:
        guessed = 0
    if guessed != frames.step or STRIDE_FIELD in dataset.attributes:
        return {STRIDE_FIELD: frames.step}
    return {}


def to_sav(
    dataset: Dataset, options: ExportOptions | int | None = None,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> dict:
    """The SA-V JSON dict of a dataset (options: core.formats.options; an int is the stride)."""
    dataset.check_masks()
    frames = sav_rows(dataset, options)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    blank = empty(dataset.height, dataset.width)
    masklet: list[list[dict]] = []
    areas = np.zeros((len(frames), len(tracks)), dtype=np.float64)
    for row, frame in enumerate(frames):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        rles = [track.masks.get(frame, blank) for track in tracks]
        masklet.append([rle.to_coco() for rle in rles])
        if rles:
            # at most 255 a call: pycocotools' area() counts its list in a uint8 (256 objects overflowed)
            objs = [{"size": [r.height, r.width], "counts": r.counts} for r in rles]
            areas[row] = np.concatenate([mask_utils.area(objs[i:i + 255]) for i in range(0, len(objs), 255)])
        if progress is not None:
            progress(row + 1, len(frames), "SA-V")
    resolution = float(dataset.height * dataset.width)
    stats = [masklet_statistics(areas[:, col], resolution) for col in range(len(tracks))]
    selected = set(frames)
    return {
        "video_id": dataset.name,
        "video_duration": float(dataset.frame_count / dataset.fps) if dataset.fps > 0 else 0.0,
        "video_frame_count": float(dataset.frame_count),
        "video_height": float(dataset.height),
        "video_width": float(dataset.width),
        "video_resolution": resolution,
        "video_environment": str(dataset.attributes.get("sav.video_environment", "")),
        "video_split": str(dataset.attributes.get("sav.video_split", "")),
        "masklet": masklet,
        "masklet_id": [file_id(t) for t in tracks],
        "masklet_size_rel": [s["size_rel"] for s in stats],
        "masklet_size_abs": [s["size_abs"] for s in stats],
        "masklet_size_bucket": [s["size_bucket"] for s in stats],
        "masklet_visibility_changes": [s["visibility_changes"] for s in stats],
        "masklet_first_appeared_frame": [s["first_appeared_frame"] for s in stats],
        "masklet_frame_count": [s["frame_count"] for s in stats],
        "masklet_edited_frame_count": [
            int(t.attributes.get("sav.edited_frame_count", 0)) + len(t.edited_frames & selected) for t in tracks
        ],
        "masklet_type": [str(t.attributes.get("sav.type", "manual")) for t in tracks],
        "masklet_stability_score": _scores_out(tracks, frames, dataset.attributes.get(LAYOUT_KEY)),
        "masklet_num": len(tracks),
        **_stride_field(dataset, frames),
    }


def write_sav(
    dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    """Write ``path`` (a .json file) atomically."""
    write_json_export(Path(path), "sav", overwrite, lambda: to_sav(dataset, options, progress, cancel))


def infer_stride(frame_count: int, annotated: int) -> int:
    """The annotation stride s with ceil(frame_count / s) == annotated frames (SA-V: 483 frames, 121 -> 4)."""
    if annotated <= 0:
        return 1
    # ceil(frame_count / s) never grows with s: the smallest s at which it is <= annotated is
    # the only candidate (constant time, whatever frame count the file claims)
    stride = max(1, -(-frame_count // annotated))
    if frame_count > 0 and -(-frame_count // stride) == annotated:
        return stride
    raise FormatError(f"{annotated} annotated frames do not fit a video of {frame_count} frames at any stride")


def _scores_in(values: object, rows: int, count: int, stride: int) -> tuple[list[object], str | None]:
    """Per masklet: its stability score (a value, as manual files' nulls) or its per-frame scores
    ``{str(frame): score}`` (SA-V's automatic files: one row per annotated frame, a value per
    masklet); and the layout read (None, "frame-major" or "masklet-major")."""
    if not isinstance(values, list):
        return [None] * count, None
    if rows and len(values) == rows and all(isinstance(v, list) and len(v) == count for v in values):
        return [{str(r * stride): values[r][c] for r in range(rows)} for c in range(count)], "frame-major"
    if len(values) == count and all(isinstance(v, list) and len(v) == rows for v in values) and values:
        return [{str(r * stride): v[r] for r in range(rows)} for v in values], "masklet-major"
    if len(values) == count:
        return list(values), None
    raise FormatError(f"SA-V masklet_stability_score has {len(values)} entries for {count} masklets "
                      f"and {rows} annotated frames")


def _field(data: dict, key: str, kind: type | tuple[type, ...]) -> object:
    if key not in data:
        raise FormatError(f"SA-V JSON lacks the field {key!r}")
    value = data[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise FormatError(f"SA-V field {key!r} has the wrong type ({type(value).__name__})")
    return value


def from_sav(data: object, stride: int | None = None) -> Dataset:
    """A dataset from a parsed SA-V JSON dict; ``stride`` None infers it from the frame counts."""
    if not isinstance(data, dict):
        raise FormatError("SA-V JSON must be an object at the top level")
    height = int(_field(data, "video_height", (int, float)))
    width = int(_field(data, "video_width", (int, float)))
    frame_count = int(_field(data, "video_frame_count", (int, float)))
    duration = float(_field(data, "video_duration", (int, float)))
    masklet = _field(data, "masklet", list)
    ids = _field(data, "masklet_id", list)
    if not all(isinstance(i, int) and i >= 0 for i in ids) or len(set(ids)) != len(ids):
        raise FormatError("SA-V masklet_id must be distinct non-negative integers")
    recorded = data.get(STRIDE_FIELD)
    if isinstance(recorded, int) and not isinstance(recorded, bool) and recorded > 0:
        stride = recorded if stride is None else stride
    if stride is None:
        stride = infer_stride(frame_count, len(masklet))
    if masklet and (len(masklet) - 1) * stride >= frame_count:
        raise FormatError(f"{len(masklet)} annotated frames every {stride} frames overrun {frame_count} frames")
    per_masklet: dict[str, list] = {}
    for key in ("masklet_edited_frame_count", "masklet_type"):
        values = data.get(key)
        per_masklet[key] = values if isinstance(values, list) and len(values) == len(ids) else [None] * len(ids)
    scores, layout = _scores_in(data.get("masklet_stability_score"), len(masklet), len(ids), stride)
    shift = 1 if 0 in ids else 0  # Masklet's object ids are positive; the file's own stay as file_id
    tracks = []
    for col, masklet_id in enumerate(ids):
        attributes: dict[str, object] = {STABILITY_KEY: scores[col]}
        if shift:
            attributes[FILE_ID_KEY] = masklet_id
        if per_masklet["masklet_type"][col] is not None:
            attributes["sav.type"] = per_masklet["masklet_type"][col]
        if per_masklet["masklet_edited_frame_count"][col] is not None:
            attributes["sav.edited_frame_count"] = int(per_masklet["masklet_edited_frame_count"][col])
        tracks.append(Track(track_id=masklet_id + shift, name=f"masklet {masklet_id}", attributes=attributes))
    for row, entries in enumerate(masklet):
        if not isinstance(entries, list) or len(entries) != len(ids):
            raise FormatError(f"SA-V masklet frame {row} has {len(entries) if isinstance(entries, list) else 'no'} masks, expected {len(ids)}")
        for track, rle in zip(tracks, entries):
            try:
                mask = Rle.from_coco(rle)
            except (KeyError, TypeError, ValueError) as exc:
                raise FormatError(f"SA-V masklet frame {row}: not a COCO RLE ({exc})") from None
            if (mask.height, mask.width) != (height, width):
                raise FormatError(f"SA-V masklet frame {row}: mask is {mask.width}x{mask.height}, video {width}x{height}")
            track.masks[row * stride] = mask
    attributes: dict[str, object] = {}
    for key in ("video_environment", "video_split"):
        if key in data:
            attributes[f"sav.{key}"] = data[key]
    if layout is not None:
        attributes[LAYOUT_KEY] = layout
    if STRIDE_FIELD in data:
        attributes[STRIDE_FIELD] = stride
    name = data.get("video_id")
    dataset = Dataset(
        name=str(name) if name is not None else "video",
        width=width, height=height, frame_count=frame_count,
        fps=frame_count / duration if duration > 0 else 0.0,
        tracks=tracks, attributes=attributes,
    )
    dataset.check_rles()
    return dataset


def read_sav(path: Path, stride: int | None = None) -> Dataset:
    """Read a SA-V JSON file."""
    return from_sav(read_json(Path(path), "SA-V"), stride)
