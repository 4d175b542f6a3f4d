"""Mask PNG folders: DAVIS indexed palette PNGs and SA-V per-object binary PNGs.

DAVIS: ``OUT/00000.png``, one 8-bit palette image per frame, pixel value = object id
(0 background, 255 "void": neither is read as an object); where objects overlap the lower id
wins (as the official SAM 2 tools do; core.formats.overlap reports what the others lose).
SA-V per-object layout: ``OUT/000/00000.png``, one folder per object named by its zero-based
id (object id - 1), one 0/1 palette PNG per frame, so overlapping objects are kept.
File names are the video frame indices, so a stride of 4 writes 00000, 00004, ...
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from core.formats.atomic import atomic_directory
from core.formats.layout import png_info
from core.formats.dataset import Dataset, ExportCancelled, FormatError, Track, frame_from_name, frame_stem
from core.formats.options import ExportOptions, export_frames
from core.masks import Rle, empty, encode
from core.types import CancelCheck, ProgressCallback
from core.validation.bounds import Invalid
from core.validation.dataset import check_image_header, unique_frames


def davis_palette() -> list[int]:
    """The DAVIS / PASCAL VOC colour map: 256 RGB triples flattened, index 1 is (128, 0, 0)."""
    palette = []
    for index in range(256):
        r = g = b = 0
        bits = index
        for shift in range(7, -1, -1):
            r |= (bits & 1) << shift
            g |= ((bits >> 1) & 1) << shift
            b |= ((bits >> 2) & 1) << shift
            bits >>= 3
        palette.extend((r, g, b))
    return palette


_PALETTE = davis_palette()
VOID = 255  # DAVIS's "void" label: pixels left out of the evaluation, not an object
_PNG_INFO = png_info()  # "Software: Masklet": how a later export knows these files are Masklet's


def _save_indexed(path: Path, array: np.ndarray) -> None:
    image = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
    image.putpalette(_PALETTE)  # turns the grey image into a palette ("P") image, indices unchanged
    image.save(path, optimize=False, pnginfo=_PNG_INFO)


def _load_indices(path: Path) -> np.ndarray:
    """An indexed (P), grey (L) or 1-bit PNG as an (H, W) uint8 array of its indices."""
    try:
        check_image_header(path)  # its size before its pixels (issue 21)
    except Invalid as exc:
        raise FormatError(str(exc)) from None
    try:
        with Image.open(path) as image:
            if image.mode not in ("P", "L", "1"):
                raise FormatError(f"{path} is a {image.mode} image, not an indexed or grey mask PNG")
            return np.array(image, dtype=np.uint8)
    except OSError as exc:
        raise FormatError(f"{path} is not a readable PNG ({exc})") from None


def _check_export(dataset: Dataset, options: ExportOptions | int | None) -> tuple[list[int], list[Track]]:
    dataset.check_masks()
    return export_frames(dataset, options), sorted(dataset.tracks, key=lambda t: t.track_id)


def davis_frame(tracks: list[Track], frame: int, height: int, width: int) -> np.ndarray:
    """(H, W) uint8 index image of one frame; the lowest object id wins an overlap."""
    canvas = np.zeros((height, width), dtype=np.uint8)
    for track in sorted(tracks, key=lambda t: t.track_id, reverse=True):
        rle = track.masks.get(frame)
        if rle is not None and not rle.is_empty:
            canvas[rle.decode()] = track.track_id
    return canvas


def write_davis(
    dataset: Dataset, out: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    """Write one palette PNG per selected frame into the folder ``out`` (atomically)."""
    frames, tracks = _check_export(dataset, options)
    too_big = [t.track_id for t in tracks if t.track_id >= VOID]
    if too_big:
        raise FormatError(f"DAVIS PNGs hold object ids up to {VOID - 1} ({VOID} is 'void'); "
                          f"object {too_big[0]} does not fit")
    with atomic_directory(Path(out), "davis", overwrite) as tmp:
        for done, frame in enumerate(frames, start=1):
            if cancel is not None and cancel():
                raise ExportCancelled("export cancelled")
            _save_indexed(tmp / f"{frame_stem(frame)}.png", davis_frame(tracks, frame, dataset.height, dataset.width))
            if progress is not None:
                progress(done, len(frames), "DAVIS PNG")


def write_object_pngs(
    dataset: Dataset, out: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
    progress: ProgressCallback | None = None, cancel: CancelCheck | None = None,
) -> None:
    """Write ``out/{id-1:03d}/{frame:05d}.png`` (0/1 palette PNGs) for every object and selected frame."""
    frames, tracks = _check_export(dataset, options)
    blank = np.zeros((dataset.height, dataset.width), dtype=np.uint8)
    total = len(frames) * len(tracks)
    with atomic_directory(Path(out), "png", overwrite) as tmp:
        done = 0
        for track in tracks:
            folder = tmp / f"{track.track_id - 1:03d}"
            folder.mkdir()
            for frame in frames:
                if cancel is not None and cancel():
                    raise ExportCancelled("export cancelled")
                rle = track.masks.get(frame)
                array = blank if rle is None else rle.decode().astype(np.uint8)
                _save_indexed(folder / f"{frame_stem(frame)}.png", array)
                done += 1
                if progress is not None:
                    progress(done, total, "per-object PNG")


def _png_files(folder: Path) -> list[tuple[int, Path]]:
    files = sorted((frame_from_name(p.name), p) for p in folder.iterdir() if p.suffix.lower() == ".png")
    if not files:
        raise FormatError(f"{folder} holds no PNG files")
    _unique([(frame, p.name) for frame, p in files], str(folder), "frame")  # 00032.png and 32.png (issue 21)
    return files


def _unique(named: list[tuple[int, str]], where: str, what: str) -> None:
    try:
        unique_frames(named, where, what)
    except Invalid as exc:
        raise FormatError(str(exc)) from None


def _dataset(folder: Path, size: tuple[int, int], frames: list[int], tracks: dict[int, Track]) -> Dataset:
    height, width = size
    return Dataset(name=folder.name, width=width, height=height, frame_count=max(frames) + 1, fps=0.0,
                   tracks=[tracks[k] for k in sorted(tracks)])


def _check_size(path: Path, array: np.ndarray, size: tuple[int, int] | None) -> tuple[int, int]:
    if size is not None and array.shape[:2] != size:
        raise FormatError(f"{path} is {array.shape[1]}x{array.shape[0]}, other masks are {size[1]}x{size[0]}")
    return (int(array.shape[0]), int(array.shape[1]))


def read_davis(folder: Path) -> Dataset:
    """Read a folder of palette PNGs (one per frame; value = object id, 0 background)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder} is not a folder of DAVIS PNGs")
    files = _png_files(folder)
    size: tuple[int, int] | None = None
    per_frame: dict[int, dict[int, Rle]] = {}
    for frame, path in files:
        indices = _load_indices(path)
        size = _check_size(path, indices, size)
        # 0 is background and 255 DAVIS's "void" (unlabelled border pixels): neither is an object
        per_frame[frame] = {int(i): encode(indices == i) for i in np.unique(indices) if i not in (0, VOID)}
    assert size is not None
    blank = empty(*size)
    tracks = {i: Track(i, f"object {i}") for masks in per_frame.values() for i in masks}
    for frame, masks in per_frame.items():
        for track_id, track in tracks.items():
            # a frame's PNG says every object not drawn on it is absent there
            track.masks[frame] = masks.get(track_id, blank)
    return _dataset(folder, size, list(per_frame), tracks)


def read_object_pngs(folder: Path) -> Dataset:
    """Read ``folder/{id:03d}/{frame:05d}.png`` (non-zero is foreground); object id = folder number + 1."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FormatError(f"{folder} is not a folder of per-object PNG folders")
    # other folders beside the object folders are the user's (an export keeps them: core.formats.target)
    object_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit())
    if not object_dirs:
        raise FormatError(f"{folder} must hold one folder per object named by its number (000, 001, ...)")
    _unique([(int(p.name), p.name) for p in object_dirs], str(folder), "object")  # 001 and 0001 (issue 21)
    size: tuple[int, int] | None = None
    tracks: dict[int, Track] = {}
    frames: list[int] = []
    for object_dir in object_dirs:
        track = Track(int(object_dir.name) + 1, f"object {object_dir.name}")
        for frame, path in _png_files(object_dir):
            indices = _load_indices(path)
            size = _check_size(path, indices, size)
            track.masks[frame] = encode(indices != 0)
            frames.append(frame)
        tracks[track.track_id] = track
    assert size is not None
    return _dataset(folder, size, frames, tracks)
