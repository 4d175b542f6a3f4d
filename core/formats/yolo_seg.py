"""YOLO segmentation (Ultralytics' layout), for users who train YOLO-seg models.

``OUT/data.yaml`` (first line ``# Masklet export``; ``names`` maps class index -> category
name, classes in category-id order; a ``masklet:`` block keeps the video's size, frame count,
the stride and the category ids) and ``OUT/labels/train/00004.txt`` per exported frame: one
line per connected part of each visible mask, ``class x0 y0 x1 y1 ...``, the outline's
vertices normalised by the image's width and height (6 decimals). ``masklet export --frames``
(the dialog's frames box) writes the frames as ``OUT/images/train/00004.jpg``, ready to train.

A polygon cannot hold everything a mask holds: holes are filled, and pixels along the outline
come out differently when the polygon is drawn again. :func:`polygon_losses` measures it, per
object, against the mask drawn back from the polygons (pycocotools), so the user is told.
YOLO has no object identity: import gives one object per class, holding that class's polygons
on each frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from pycocotools import mask as mask_utils

from core.formats.atomic import atomic_directory
from core.formats.categories import Category, categories, remember_categories
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, frame_from_name, frame_stem
from core.formats.layout import YAML_MARK, YOLO_LABELS
from core.formats.options import ExportOptions, as_options, export_frames
from core.validation.bounds import Invalid
from core.validation.dataset import check_segmentation
from core.masks import Rle, empty
from core.types import CancelCheck, ProgressCallback


def mask_polygons(mask: np.ndarray) -> list[list[float]]:
    """Outlines (pixel coordinates, x y x y ...) of each connected part of a (H, W) bool mask.

    The outline runs along pixel edges: traced on a 2x upsampled mask, halved, so a polygon
    drawn back covers the mask's pixels rather than cutting through their centres.
    """
    up = np.repeat(np.repeat(mask.astype(np.uint8), 2, axis=0), 2, axis=1)
    contours, _ = cv2.findContours(up, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        points = contour.reshape(-1, 2).astype(np.float64)
        points = (points + 0.5) / 2.0  # back to pixel units, on the pixel edges
        if len(points) >= 3:
            polygons.append(points.reshape(-1).tolist())
        else:  # a part too thin to outline: a box around it keeps it
            x0, y0 = points.min(axis=0) - 0.5
            x1, y1 = points.max(axis=0) + 0.5
            polygons.append([x0, y0, x1, y0, x1, y1, x0, y1])
    return polygons


def polygons_mask(polygons: list[list[float]], height: int, width: int) -> np.ndarray:
    """The (H, W) bool mask pycocotools draws from polygons in pixel coordinates."""
    if not polygons:
        return np.zeros((height, width), dtype=bool)
    rle = mask_utils.merge(mask_utils.frPyObjects(polygons, height, width))
    return mask_utils.decode(rle).astype(bool)


@dataclass(frozen=True)
class PolygonLoss:
    """One object over the exported frames: its mask pixels, and the pixels the polygons drawn back
    get wrong (missing or extra)."""

    track_id: int
    name: str
    pixels: int
    wrong: int

    @property
    def fraction(self) -> float:
        return self.wrong / self.pixels if self.pixels else 0.0

    def line(self) -> str:
        return (f'object {self.track_id} "{self.name}": {self.wrong:,} of {self.pixels:,} pixels differ '
                f"({100 * self.fraction:.2f} %)")


def polygon_losses(dataset: Dataset, frames: list[int], cancel: CancelCheck | None = None) -> list[PolygonLoss]:
    """Per object, what the YOLO polygons of ``frames`` get wrong against its masks ([] if cancelled)."""
    out = []
    for track in sorted(dataset.tracks, key=lambda t: t.track_id):
        pixels = wrong = 0
        for frame in frames:
            if cancel is not None and cancel():
                return []
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            mask = rle.decode()
            drawn = polygons_mask(mask_polygons(mask), dataset.height, dataset.width)
            pixels += int(mask.sum())
            wrong += int(np.count_nonzero(mask != drawn))
        out.append(PolygonLoss(track.track_id, track.name, pixels, wrong))
    return out


def report(losses: list[PolygonLoss]) -> list[str]:
    if not losses:
        return []
    return ["YOLO segmentation stores polygons (holes filled, outlines redrawn); against the masks:",
            *(f"  {loss.line()}" for loss in losses)]


def _yaml(dataset: Dataset, table: list[Category], stride: int) -> str:
    names = "".join(f"  {i}: {_quote(c.name)}\n" for i, c in enumerate(table))
    return (f"{YAML_MARK}\npath: .\ntrain: images/train\nval: images/train\nnames:\n{names}"
            f"masklet:\n  video: {_quote(dataset.name)}\n  width: {dataset.width}\n  height: {dataset.height}\n"
            f"  frame_count: {dataset.frame_count}\n  stride: {stride}\n"
            f"  category_ids: [{', '.join(str(c.id) for c in table)}]\n")


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_yolo_seg(dataset: Dataset, out: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    """Write ``out/data.yaml`` and ``out/labels/train/{frame:05d}.txt`` (atomically)."""
    options = as_options(options)
    dataset.check_masks()
    frames = export_frames(dataset, options)
    table = categories(dataset)
    class_of = {c.name: i for i, c in enumerate(table)}
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    with atomic_directory(Path(out), "yolo", overwrite) as tmp:
        labels = tmp / YOLO_LABELS
        labels.mkdir(parents=True)
        for done, frame in enumerate(frames, start=1):
            if cancel is not None and cancel():
                raise ExportCancelled("export cancelled")
            lines = []
            for track in tracks:
                rle = track.masks.get(frame)
                if rle is None or rle.is_empty:
                    continue
                for polygon in mask_polygons(rle.decode()):
                    xs = np.clip(np.asarray(polygon[0::2]) / dataset.width, 0, 1)
                    ys = np.clip(np.asarray(polygon[1::2]) / dataset.height, 0, 1)
                    coords = " ".join(f"{x:.6f} {y:.6f}" for x, y in zip(xs, ys))
                    lines.append(f"{class_of[track.category]} {coords}")
            (labels / f"{frame_stem(frame)}.txt").write_text("".join(l + "\n" for l in lines), encoding="utf-8")
            if progress is not None:
                progress(done, len(frames), "YOLO")
        (tmp / "data.yaml").write_text(_yaml(dataset, table, options.stride), encoding="utf-8")


_NAME_LINE = re.compile(r"^\s+(\d+)\s*:\s*(.+?)\s*$")
_LIST_LINE = re.compile(r"^\s+-\s*(.+?)\s*$")


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return text


def read_data_yaml(path: Path) -> tuple[list[str], dict[str, str]]:
    """The class names and Masklet's ``masklet:`` block of a data.yaml (block or flow ``names``)."""
    names: dict[int, str] = {}
    listed: list[str] = []
    ours: dict[str, str] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            key, _, value = line.partition(":")
            section = key.strip()
            if section == "names" and value.strip().startswith("["):
                listed = [_unquote(v.strip()) for v in value.strip()[1:-1].split(",") if v.strip()]
            continue
        if section == "names":
            match = _NAME_LINE.match(line)
            if match:
                names[int(match.group(1))] = _unquote(match.group(2))
            elif _LIST_LINE.match(line):
                listed.append(_unquote(_LIST_LINE.match(line).group(1)))  # type: ignore[union-attr]
        elif section == "masklet":
            key, _, value = line.strip().partition(":")
            ours[key.strip()] = value.strip()
    return (listed or [names[i] for i in sorted(names)]), ours


def _size(folder: Path, ours: dict[str, str]) -> tuple[int, int]:
    if "width" in ours and "height" in ours:
        return int(ours["height"]), int(ours["width"])
    from PIL import Image  # another tool's export: the images give the size

    for image in sorted((folder / "images").rglob("*.jpg")) + sorted((folder / "images").rglob("*.png")):
        with Image.open(image) as opened:
            return opened.height, opened.width
    raise FormatError(f"{folder}: YOLO coordinates are relative; no image under images/ gives the size")


def read_yolo_seg(folder: Path) -> Dataset:
    """Read ``folder/data.yaml`` and ``folder/labels/train/*.txt``: one object per class (see the docstring)."""
    folder = Path(folder)
    if not (folder / "data.yaml").is_file():
        raise FormatError(f"{folder} has no data.yaml (a YOLO segmentation folder)")
    names, ours = read_data_yaml(folder / "data.yaml")
    labels_dir = folder / YOLO_LABELS
    files = sorted(labels_dir.glob("*.txt")) if labels_dir.is_dir() else []
    if not files:
        raise FormatError(f"{folder} holds no {YOLO_LABELS}/*.txt label files")
    height, width = _size(folder, ours)
    per_frame: dict[int, dict[int, list[list[float]]]] = {}
    for path in files:
        frame = frame_from_name(path.name)
        polygons = per_frame.setdefault(frame, {})
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            parts = line.split()
            if not parts:
                continue
            try:
                class_index, coords = int(parts[0]), [float(v) for v in parts[1:]]
            except ValueError:
                raise FormatError(f"{path} line {number}: expected 'class x0 y0 x1 y1 ...'") from None
            if len(coords) < 6 or len(coords) % 2:
                raise FormatError(f"{path} line {number}: a polygon needs at least 3 x y pairs")
            if not 0 <= class_index < max(len(names), 1):
                raise FormatError(f"{path} line {number}: class {class_index} is not in data.yaml's names")
            pixels = [v * (width if i % 2 == 0 else height) for i, v in enumerate(coords)]
            try:  # what pycocotools would trust (NaN or huge coordinates kill it): checked first (issue 21)
                check_segmentation([pixels], height, width, f"{path} line {number}")
            except Invalid as exc:
                raise FormatError(str(exc)) from None
            polygons.setdefault(class_index, []).append(pixels)
    cat_ids_text = ours.get("category_ids", "").strip("[] ")
    cat_ids = [int(v) for v in cat_ids_text.split(",") if v.strip()] if cat_ids_text else []
    if len(cat_ids) != len(names):
        cat_ids = list(range(1, len(names) + 1))
    used = sorted({c for polys in per_frame.values() for c in polys})
    blank = empty(height, width)
    tracks = []
    for class_index in used:
        track = Track(cat_ids[class_index], names[class_index], names[class_index])
        for frame, polys in per_frame.items():
            if class_index in polys:
                rle = mask_utils.merge(mask_utils.frPyObjects(polys[class_index], height, width))
                track.masks[frame] = Rle(height, width, bytes(rle["counts"]))
            else:
                track.masks[frame] = blank
        tracks.append(track)
    attributes: dict[str, object] = {}
    remember_categories(attributes, [Category(i, n) for i, n in zip(cat_ids, names)])
    frame_count = max(int(ours.get("frame_count") or 0), max(per_frame) + 1)
    return Dataset(name=_unquote(ours.get("video", "")) or folder.name, width=width, height=height,
                   frame_count=frame_count, fps=0.0, tracks=tracks, attributes=attributes)
