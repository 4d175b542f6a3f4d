"""Run INSIDE a Python environment that has Datumaro (not Masklet's): load each export with
Datumaro's own importer and print what it found as JSON on stdout.

    DATUMARO_PYTHON load_with_datumaro.py FORMAT PATH [FORMAT PATH ...]

FORMAT is a Datumaro importer name (cvat, datumaro, mots, yolo, coco_instances), or
``cvat-decoder`` (see cvat_masks_by_datumaros_decoder).

    DATUMARO_PYTHON load_with_datumaro.py --reexport SOURCE.json OUT_FOLDER

writes Masklet's Datumaro JSON again in other formats with Datumaro's exporters (see reexport).

Per export: {"format", "path", "error" (one line, or null), "items": [{"id", "frame",
"masks": [{"track_id", "label", "rle"}]}]}, where rle is pycocotools' compressed counts of the
mask Datumaro decoded (so the caller compares pixels without Datumaro). Masklet never imports this.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from pycocotools import mask as mask_utils


def load(fmt: str, path: str) -> dict:
    import datumaro as dm
    from datumaro.components.annotation import AnnotationType

    out: dict = {"format": fmt, "path": path, "error": None, "items": []}
    try:
        dataset = dm.Dataset.import_from(path, fmt)
        labels = dataset.categories().get(AnnotationType.label)
        for item in dataset:
            masks = []
            for ann in item.annotations:
                if ann.type is not AnnotationType.mask:
                    continue
                image = np.asfortranarray(ann.image.astype(np.uint8))
                rle = mask_utils.encode(image)
                name = labels[ann.label].name if labels is not None and ann.label is not None else None
                track_id = ann.attributes.get("track_id")
                track_id = int(track_id) if track_id is not None else None  # MOTS gives numpy ints
                masks.append({"track_id": track_id, "label": name,
                              "rle": rle["counts"].decode("ascii"), "size": list(image.shape)})
            frame = (item.attributes or {}).get("frame")
            out["items"].append({"id": item.id, "frame": int(frame) if frame is not None else None, "masks": masks})
    except Exception as exc:  # the report names what failed, in one line
        cause = exc.__cause__ or exc.__context__
        detail = f" ({type(cause).__name__}: {cause})" if cause is not None else ""
        out["error"] = f"{type(exc).__name__}: {exc}{detail}".splitlines()[0]
    return out


def cvat_masks_by_datumaros_decoder(path: str) -> dict:
    """CVAT for video XML read shape by shape with Datumaro's own CVAT mask decoding (the steps of
    CvatBase._parse_shape_ann: counts over a (width, height) box, rle_to_mask, transpose, paste
    at left/top): Datumaro 1.13's importer itself stops on masks inside <track> (it reads the image
    size from the enclosing <image>, which tracks do not have)."""
    import xml.etree.ElementTree as ET

    from datumaro.util import mask_tools

    root = ET.parse(path).getroot()
    width = int(root.find("meta/task/original_size/width").text)
    height = int(root.find("meta/task/original_size/height").text)
    frames: dict[int, list] = {}
    for track in root.findall("track"):
        for shape in track.findall("mask"):
            if shape.get("outside") == "1":
                continue
            box_w, box_h = int(shape.get("width")), int(shape.get("height"))
            left, top = int(shape.get("left")), int(shape.get("top"))
            rle = {"counts": np.array([int(c) for c in shape.get("rle").split(",")], dtype=np.uint32),
                   "size": np.array([box_w, box_h])}
            canvas = np.zeros((height, width), dtype=np.uint8)
            canvas[top:top + box_h, left:left + box_w] = mask_tools.rle_to_mask(rle).transpose()
            coded = mask_utils.encode(np.asfortranarray(canvas))
            frames.setdefault(int(shape.get("frame")), []).append(
                {"track_id": int(track.get("id")), "label": track.get("label"),
                 "rle": coded["counts"].decode("ascii"), "size": [height, width]})
    return {"items": [{"id": f"frame_{f:06d}", "frame": f, "masks": m} for f, m in sorted(frames.items())]}


def reexport(source: str, out: str) -> dict:
    """Datumaro reads Masklet's Datumaro JSON ``source`` and writes it again, as CVAT for video
    (``use_track``), COCO instances, MOTS PNG and Datumaro, under ``out``: files another tool
    wrote, for Masklet to import. Returns {format: path or an error line}."""
    import os

    import datumaro as dm

    written = {}
    for fmt, options in (("cvat", {"use_track": True}), ("coco_instances", {}), ("mots_png", {}), ("datumaro", {})):
        target = os.path.join(out, fmt)
        # read afresh for each: Datumaro's CVAT exporter with use_track deletes the track ids it writes
        # from the annotations in memory, so a second export from the same dataset would have none
        dataset = dm.Dataset.import_from(source, "datumaro")
        try:
            dataset.export(target, fmt, save_media=False, **options)
            written[fmt] = target
        except Exception as exc:  # one line in the report
            written[fmt] = f"error: {type(exc).__name__}: {exc}".splitlines()[0]
    return written


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--reexport":
        print(json.dumps(reexport(argv[1], argv[2])))
        return 0
    results = []
    for fmt, path in zip(argv[0::2], argv[1::2]):
        if fmt == "cvat-decoder":
            results.append({"format": fmt, "path": path, "error": None, **cvat_masks_by_datumaros_decoder(path)})
        else:
            results.append(load(fmt, path))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
