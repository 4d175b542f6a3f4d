"""CVAT for video 1.1 XML: one ``<track>`` per object, a ``<mask>`` per frame in CVAT's own RLE.

Written as CVAT writes it: ``<meta><task>`` with the frame range (``start_frame``,
``stop_frame``, ``frame_filter`` ``step=N`` when the export keeps every Nth frame), the labels
(one per category, in category-id order, each declaring the objects' attributes as text
attributes: ``name`` and the object's other plain attributes) and ``original_size``. A track
holds a keyframe ``<mask>`` (``keyframe="1" outside="0"``, rle/left/top/width/height, see
core.formats.cvat_rle) on each frame its object is visible, and an ``outside="1"`` shape (the
last mask's box again, as CVAT does) on the first exported frame after it disappears.
An object never visible has no track (CVAT has no empty track). The root holds the comment
``Masklet export``, so a later export knows its own file.

Import reads ``<track>``s of masks and polygons (frame numbers are the video's; ``outside``
shapes mark the object absent) and keeps track ids, label order (as category ids 1..) and
attributes. CVAT for images XML (``<image>`` elements, no tracks) is refused with a one-line error.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from pycocotools import mask as mask_utils

from core.formats.atomic import write_file_atomic
from core.formats.categories import Category, categories, remember_categories
from core.formats.cvat_rle import decode_cvat, encode_cvat, parse_counts
from core.formats.dataset import (
    FILE_ID_KEY, Dataset, ExportCancelled, FormatError, Track, file_id, keep_file_ids, renumber_tracks,
)
from core.formats.layout import JSON_MARK
from core.formats.options import ExportOptions, as_options, effective_stride, export_frames
from core.formats.target import claim_target
from core.validation.bounds import Invalid
from core.validation.dataset import check_segmentation
from core.masks import Rle, empty, encode
from core.types import CancelCheck, ProgressCallback

NAME_ATTRIBUTE = "name"


def _plain_attributes(track: Track) -> dict[str, str]:
    """The object's attributes CVAT can hold (text): its name and its plain (str/number/bool) extras."""
    out = {NAME_ATTRIBUTE: track.name}
    for key, value in sorted(track.attributes.items()):
        if key != FILE_ID_KEY and isinstance(value, (str, int, float, bool)):
            out[key] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def _sub(parent: ET.Element, tag: str, text: object = None, **attrib: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrib)
    if text is not None:
        element.text = str(text)
    return element


def _meta(root: ET.Element, dataset: Dataset, frames: list[int], step: int, tracks: list[Track]) -> None:
    meta = _sub(root, "meta")
    task = _sub(meta, "task")
    last = dataset.frame_count - 1
    _sub(task, "id", 1)
    _sub(task, "name", dataset.name)
    _sub(task, "size", len(range(0, dataset.frame_count, step)))
    _sub(task, "mode", "interpolation")
    _sub(task, "overlap", 0)
    _sub(task, "flipped", "False")
    _sub(task, "start_frame", 0)
    _sub(task, "stop_frame", max(last, 0))
    _sub(task, "frame_filter", f"step={step}" if step > 1 else "")
    labels = _sub(task, "labels")
    for category in categories(dataset):
        label = _sub(labels, "label")
        _sub(label, "name", category.name)
        _sub(label, "type", "mask")
        attributes = _sub(label, "attributes")
        keys = sorted({k for t in tracks if t.category == category.name for k in _plain_attributes(t)} | {NAME_ATTRIBUTE})
        for key in keys:
            attribute = _sub(attributes, "attribute")
            _sub(attribute, "name", key)
            _sub(attribute, "mutable", "False")
            _sub(attribute, "input_type", "text")
            _sub(attribute, "default_value", "")
            _sub(attribute, "values", "")
    size = _sub(task, "original_size")
    _sub(size, "width", dataset.width)
    _sub(size, "height", dataset.height)
    _sub(meta, "source", dataset.name)


def _shape(track_el: ET.Element, frame: int, box: dict[str, str], outside: bool, attributes: dict[str, str]) -> None:
    shape = _sub(track_el, "mask", frame=str(frame), keyframe="1", outside="1" if outside else "0", occluded="0",
                 **box, z_order="0")
    for key, value in attributes.items():
        _sub(shape, "attribute", value, name=key)


def to_cvat_xml(dataset: Dataset, options: ExportOptions | int | None = None,
                progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> bytes:
    """The CVAT for video 1.1 XML of a dataset (UTF-8 bytes)."""
    options = as_options(options)
    dataset.check_masks()
    frames = export_frames(dataset, options)
    step = effective_stride(frames, options.stride)
    tracks = sorted(dataset.tracks, key=lambda t: t.track_id)
    root = ET.Element("annotations")
    root.append(ET.Comment(JSON_MARK))
    _sub(root, "version", "1.1")
    _meta(root, dataset, frames, step, tracks)
    for done, track in enumerate(tracks, start=1):
        if cancel is not None and cancel():
            raise ExportCancelled("export cancelled")
        attributes = _plain_attributes(track)
        shapes: list[tuple[int, dict[str, str], bool]] = []
        box: dict[str, str] | None = None
        for frame in frames:
            rle = track.masks.get(frame)
            encoded = encode_cvat(rle.decode()) if rle is not None and not rle.is_empty else None
            if encoded is not None:
                box = {"rle": encoded.text(), "left": str(encoded.left), "top": str(encoded.top),
                       "width": str(encoded.width), "height": str(encoded.height)}
                shapes.append((frame, box, False))
            elif box is not None and not shapes[-1][2]:
                shapes.append((frame, box, True))  # gone: CVAT's "outside" shape, the last box again
        if shapes:
            track_el = _sub(root, "track", id=str(file_id(track)), label=track.category, source="manual")
            for frame, shape_box, outside in shapes:
                _shape(track_el, frame, shape_box, outside, attributes)
        if progress is not None:
            progress(done, len(tracks), "CVAT XML")
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def write_cvat_xml(dataset: Dataset, path: Path, options: ExportOptions | int | None = None, overwrite: bool = False,
                   progress: ProgressCallback | None = None, cancel: CancelCheck | None = None) -> None:
    """Write ``path`` (an .xml file) atomically, where core.formats.target allows."""
    path = Path(path)
    claim_target(path, "cvat", overwrite)
    data = to_cvat_xml(dataset, options, progress, cancel)
    claim_target(path, "cvat", overwrite)
    write_file_atomic(path, lambda handle: handle.write(data))


def _int(element: ET.Element, key: str, where: str) -> int:
    try:
        return int(float(element.attrib[key]))
    except (KeyError, ValueError):
        raise FormatError(f"{where} needs a numeric {key!r}") from None


def _shape_mask(shape: ET.Element, height: int, width: int, where: str) -> Rle:
    if shape.tag == "mask":
        counts = parse_counts(shape.attrib.get("rle", ""), where)
        return encode(decode_cvat(counts, _int(shape, "left", where), _int(shape, "top", where),
                                  _int(shape, "width", where), _int(shape, "height", where), height, width, where))
    try:  # polygon: "x0,y0;x1,y1;..."
        points = [float(v) for pair in shape.attrib["points"].split(";") for v in pair.split(",")]
    except (KeyError, ValueError):
        raise FormatError(f"{where}: the polygon's points are unreadable") from None
    try:  # what pycocotools would trust (NaN or huge coordinates kill it): checked first (issue 21)
        check_segmentation([points], height, width, where)
    except Invalid as exc:
        raise FormatError(str(exc)) from None
    rle = mask_utils.merge(mask_utils.frPyObjects([points], height, width))
    return Rle(height, width, bytes(rle["counts"]))


def _text(parent: ET.Element | None, path: str) -> str | None:
    found = parent.find(path) if parent is not None else None
    return found.text if found is not None and found.text is not None else None


def from_cvat_xml(root: ET.Element) -> Dataset:
    """A dataset from the root element of a CVAT for video 1.1 XML file."""
    if root.tag != "annotations":
        raise FormatError("CVAT XML must have <annotations> at its root")
    task = root.find("meta/task")
    if task is None:
        task = root.find("meta/job")
    try:
        width = int(_text(task, "original_size/width") or "")
        height = int(_text(task, "original_size/height") or "")
    except ValueError:
        raise FormatError("CVAT XML lacks <original_size> (width, height) in <meta>") from None
    track_els = root.findall("track")
    if not track_els and root.find("image") is not None:
        raise FormatError("this is CVAT for images XML (no tracks); export the task as CVAT for video 1.1")
    label_names = [_text(label, "name") or "object" for label in (task.findall("labels/label") if task is not None else [])]
    stop = _text(task, "stop_frame")
    ids = renumber_tracks([_int(t, "id", "CVAT <track>") for t in track_els])
    blank = empty(height, width)
    tracks: list[Track] = []
    last_frame = int(stop) if stop is not None and stop.isdigit() else 0
    for track_el in track_els:
        own = _int(track_el, "id", "CVAT <track>")
        where = f"CVAT track {own}"
        category = track_el.attrib.get("label", "object")
        track = Track(ids[own], f"{category} {own}", category)
        for shape in track_el:
            if shape.tag not in ("mask", "polygon"):
                continue
            frame = _int(shape, "frame", where)
            last_frame = max(last_frame, frame)
            attributes = {a.attrib.get("name", ""): a.text or "" for a in shape.findall("attribute")}
            if NAME_ATTRIBUTE in attributes:
                track.name = attributes.pop(NAME_ATTRIBUTE)
            track.attributes.update({k: v for k, v in attributes.items() if k})
            outside = shape.attrib.get("outside") == "1"
            track.masks[frame] = blank if outside else _shape_mask(shape, height, width, f"{where} frame {frame}")
        tracks.append(track)
    keep_file_ids(tracks, ids)
    attributes: dict[str, object] = {}
    remember_categories(attributes, [Category(i, n) for i, n in enumerate(label_names, start=1)])
    dataset = Dataset(name=_text(task, "name") or "video", width=width, height=height, frame_count=last_frame + 1,
                      fps=0.0, tracks=sorted(tracks, key=lambda t: t.track_id), attributes=attributes)
    return dataset


def read_cvat_xml(path: Path) -> Dataset:
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path} is not a file")
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise FormatError(f"{path} is not a readable CVAT XML file ({exc})") from None
    return from_cvat_xml(root)

