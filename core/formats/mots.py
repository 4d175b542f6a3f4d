"""MOTS (Multi-Object Tracking and Segmentation): the 16-bit PNG layout and the txt layout.

Both give each object on each frame one value, ``class_id * 1000 + instance_id``: the class is
the object's category id (core.formats.categories), the instance its object id (below 1000).

- PNG (``mots``): ``OUT/instances/00004.png``, one 16-bit grey PNG per exported frame, pixel =
  the value (0 background), and ``OUT/instances/labels.txt``, the category names, line k naming
  class k + 1 (as Datumaro's ``mots_png`` reads them). One object per pixel: where masks overlap
  the lowest object id keeps the pixel (core.formats.overlap says what the others lose).
- txt (``mots_txt``): one line per object and frame where it is visible,
  ``frame value class_id height width rle`` with ``rle`` COCO's compressed counts (as the MOTS
  devkit reads them with pycocotools). Masks may overlap here; frames nobody is on are not listed.

Class 10 is MOTS's "ignore region": it is not read as an object (unless labels.txt names 10
classes or more). Object names are not kept (the layouts have no room for them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.formats.atomic import atomic_directory, write_file_atomic
from core.formats.categories import Category, categories, category_ids, remember_categories
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, frame_from_name, frame_stem
from core.formats.layout import MOTS_DIR, png_info
from core.formats.options import ExportOptions, export_frames
from core.formats.target import claim_target
from core.masks import Rle, empty, encode
from core.types import CancelCheck, ProgressCallback

MAX_INSTANCES = 1000
IGNORE_CLASS = 10
LABELS_FILE = "labels.txt"


def _values(dataset: Dataset) -> dict[int, int]:
    """Object id -> MOTS value; FormatError when an id or a class does not fit."""
    cat_ids = category_ids(dataset)
    values = {}
    for track in dataset.tracks:
        if track.track_id >= MAX_INSTANCES:
            raise FormatError(f"MOTS holds object ids below {MAX_INSTANCES}; object {track.track_id} does not fit")
        class_id = cat_ids[track.category]
        if class_id * MAX_INSTANCES + track.track_id > 65535:
            raise FormatError(f"MOTS values are 16-bit; category id {class_id} does not fit")
        values[track.track_id] = class_id * MAX_INSTANCES + track.track_id
    return values


def mots_frame(dataset: Dataset, frame: int, values: dict[int, int]) -> np.ndarray:
    """(H, W) uint16 value image of one frame; the lowest object id wins an overlap."""
    canvas = np.zeros((dataset.height, dataset.width), dtype=np.uint16)
    for track in sorted(dataset.tracks, key=lambda t: t.track_id, reverse=True):
        rle = track.masks.get(frame)
        if rle is not None and not rle.is_empty:
            canvas[rle.decode()] = values[track.track_id]
    return canvas


def _label_lines(dataset: Dataset) -> list[str]:
    """labels.txt: line k names class k + 1 (gaps in the category ids get a placeholder)."""
    by_id = {c.id: c.name for c in categories(dataset)}
    return [by_id.get(i, f"unused_{i}") for i in range(1, max(by_id, default=0) + 1)]


def write_mots_png(dataset: Dataset, out: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    """Write ``out/instances/{frame:05d}.png`` and ``out/instances/labels.txt`` (atomically)."""
    dataset.check_masks()
    frames = export_frames(dataset, options)
    values = _values(dataset)
    info = png_info()
    with atomic_directory(Path(out), "mots", overwrite) as tmp:
        folder = tmp / MOTS_DIR
        folder.mkdir()
        for done, frame in enumerate(frames, start=1):
            if cancel is not None and cancel():
                raise ExportCancelled("export cancelled")
            Image.fromarray(mots_frame(dataset, frame, values)).save(folder / f"{frame_stem(frame)}.png", pnginfo=info)
            if progress is not None:
                progress(done, len(frames), "MOTS PNG")
        (folder / LABELS_FILE).write_text("\n".join(_label_lines(dataset)) + "\n", encoding="utf-8")


def to_mots_txt(dataset: Dataset, options: ExportOptions | int | None = None,
                progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> str:
    dataset.check_masks()
    frames = export_frames(dataset, options)
    values = _values(dataset)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    lines = []
    for done, frame in enumerate(frames, start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        for track in tracks:
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            value = values[track.track_id]
            lines.append(f"{frame} {value} {value // MAX_INSTANCES} {rle.height} {rle.width} {rle.counts.decode('ascii')}")
        if progress is not None:
            progress(done, len(frames), "MOTS txt")
    return "".join(line + "\n" for line in lines)


def write_mots_txt(dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    path = Path(path)
    claim_target(path, "mots_txt", overwrite)
    text = to_mots_txt(dataset, options, progress, cancel)
    claim_target(path, "mots_txt", overwrite)
    write_file_atomic(path, lambda handle: handle.write(text.encode("ascii")))


def _split(value: int, ignore: bool) -> tuple[int, int] | None:
    """(class, instance) of a MOTS value; None for background and the ignore region."""
    class_id, instance = divmod(int(value), MAX_INSTANCES)
    if class_id == 0 or (ignore and class_id == IGNORE_CLASS):
        return None
    return class_id, instance


def _object_ids(keys: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """(class, instance) -> object id: the instance when each is in one class and positive, else the value."""
    instances = [i for _, i in keys]
    if len(set(instances)) == len(instances) and all(i > 0 for i in instances):
        return {k: k[1] for k in keys}
    return {k: k[0] * MAX_INSTANCES + k[1] for k in keys}


def _dataset(name: str, size: tuple[int, int], per_frame: dict[int, dict[tuple[int, int], Rle]],
             labels: list[str] | None, listed_frames_absent: bool) -> Dataset:
    height, width = size
    keys = {k for masks in per_frame.values() for k in masks}
    ids = _object_ids(keys)
    names = {i + 1: n for i, n in enumerate(labels or [])}
    tracks: dict[int, Track] = {}
    for key in sorted(keys):
        category = names.get(key[0], f"class {key[0]}")
        tracks[ids[key]] = Track(ids[key], f"{category} {key[1]}", category)
    blank = empty(height, width)
    for frame, masks in per_frame.items():
        for key, track_id in ids.items():
            if key in masks:
                tracks[track_id].masks[frame] = masks[key]
            elif listed_frames_absent:
                tracks[track_id].masks[frame] = blank  # a frame's PNG says who is absent on it
    attributes: dict[str, object] = {}
    used = sorted({k[0] for k in keys} | set(names))
    remember_categories(attributes, [Category(c, names.get(c, f"class {c}")) for c in used
                                     if not names.get(c, "").startswith("unused_")])
    return Dataset(name=name, width=width, height=height, frame_count=max(per_frame, default=-1) + 1, fps=0.0,
                   tracks=[tracks[k] for k in sorted(tracks)], attributes=attributes)


def read_mots_png(folder: Path) -> Dataset:
    """Read ``folder/instances/*.png`` (16-bit values) and its labels.txt; a folder holding one
    subset folder (``default/instances``, as Datumaro's ``mots_png`` exporter writes) is read too."""
    folder = Path(folder)
    subsets = [p for p in folder.iterdir() if (p / MOTS_DIR).is_dir()] if folder.is_dir() else []
    if not (folder / MOTS_DIR).is_dir() and len(subsets) == 1:
        folder = subsets[0]
    masks_dir = folder / MOTS_DIR if (folder / MOTS_DIR).is_dir() else folder
    pngs = sorted(p for p in masks_dir.iterdir() if p.suffix.lower() == ".png") if masks_dir.is_dir() else []
    if not pngs:
        raise FormatError(f"{folder} holds no MOTS PNGs (expected {MOTS_DIR}/00000.png, ...)")
    labels_path = masks_dir / LABELS_FILE
    labels = [l.strip() for l in labels_path.read_text(encoding="utf-8").splitlines() if l.strip()] \
        if labels_path.is_file() else None
    ignore = labels is None or len(labels) < IGNORE_CLASS
    size: tuple[int, int] | None = None
    per_frame: dict[int, dict[tuple[int, int], Rle]] = {}
    for path in pngs:
        try:
            with Image.open(path) as image:
                values = np.array(image).astype(np.int64)
        except OSError as exc:
            raise FormatError(f"{path} is not a readable PNG ({exc})") from None
        if values.ndim != 2:
            raise FormatError(f"{path} is not a one-channel MOTS PNG")
        if size is not None and values.shape != size:
            raise FormatError(f"{path} is {values.shape[1]}x{values.shape[0]}, other masks are {size[1]}x{size[0]}")
        size = (int(values.shape[0]), int(values.shape[1]))
        frame = frame_from_name(path.name)
        per_frame[frame] = {}
        for value in np.unique(values):
            key = _split(int(value), ignore)
            if key is not None:
                per_frame[frame][key] = encode(values == value)
    assert size is not None
    return _dataset(folder.name, size, per_frame, labels, listed_frames_absent=True)


def read_mots_txt(path: Path) -> Dataset:
    """Read a MOTS txt file (``frame value class height width rle`` per line)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path} is not a file")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path} is not a readable MOTS txt file ({exc})") from None
    size: tuple[int, int] | None = None
    per_frame: dict[int, dict[tuple[int, int], Rle]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 6 or not all(p.isdigit() for p in parts[:5]):
            raise FormatError(f"{path} line {number}: expected 'frame id class height width rle'")
        frame, value, class_id, height, width = (int(p) for p in parts[:5])
        if value // MAX_INSTANCES != class_id:
            raise FormatError(f"{path} line {number}: object {value} is not of class {class_id}")
        if size is not None and (height, width) != size:
            raise FormatError(f"{path} line {number}: mask is {width}x{height}, others are {size[1]}x{size[0]}")
        size = (height, width)
        key = _split(value, True)
        if key is None:
            continue
        frame_masks = per_frame.setdefault(frame, {})
        if key in frame_masks:
            raise FormatError(f"{path} line {number}: object {value} twice on frame {frame}")
        frame_masks[key] = Rle(height, width, parts[5].encode("ascii"))
    if size is None:
        raise FormatError(f"{path} holds no MOTS lines")
    dataset = _dataset(path.stem, size, per_frame, None, listed_frames_absent=False)
    dataset.check_rles()
    return dataset
