"""Do Masklet's exports load in Datumaro with every mask and track id intact? Prints JSON.

Datumaro pins pillow<13 and opencv<5, older than Masklet's, so it lives in a Python environment
of its own (never Masklet's): make one once, outside the checkout,

    python3.11 -m venv ../ext/datumaro-venv && ../ext/datumaro-venv/bin/pip install "datumaro==1.13.*"

then run, from the checkout,

    .venv/bin/python bench/datumaro/check.py --datumaro-python ../ext/datumaro-venv/bin/python [--out FILE]

It exports two datasets (a synthetic clip with overlapping objects, a gap and an object that
appears late; and SA-V's sav_000001 manual file from MASKLET_SHARED_DATA or /work/shared/data, if
there) in every format Datumaro has an importer for, at strides 1 and 4, loads each with
bench/datumaro/load_with_datumaro.py in the Datumaro environment, and compares, per frame and
object: the mask pixel for pixel (the one-label-per-pixel MOTS PNG against the flattened masks)
and the track id. COCO goes in Datumaro's layout (annotations/instances_default.json).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from core.formats import Dataset, Track, export_dataset, import_dataset  # noqa: E402
from core.formats.dataset import file_id  # noqa: E402
from core.formats.options import ExportOptions, export_frames  # noqa: E402
from core.formats.png_masks import davis_frame  # noqa: E402
from core.masks import Rle, encode  # noqa: E402

LOADER = Path(__file__).with_name("load_with_datumaro.py")
# Masklet format -> the Datumaro importer that reads it (cvat-decoder: see the loader)
IMPORTERS = {"coco": "coco_instances", "datumaro": "datumaro", "mots": "mots", "cvat": "cvat",
             "yolo": "yolo"}
FALLBACK = {"cvat": "cvat-decoder"}


def clip() -> Dataset:
    width, height, frames = 64, 48, 12
    yy, xx = np.mgrid[0:height, 0:width]

    def disc(cx: float, cy: float, r: float) -> Rle:
        return encode((xx - cx) ** 2 + (yy - cy) ** 2 <= r * r)

    one = Track(1, "dog", "animal", {f: disc(14 + f, 20, 9) for f in range(frames)})
    two = Track(2, "ball", "toy", {f: disc(22, 18 + f, 6) for f in range(frames) if f not in (5, 6)})
    three = Track(5, "cat", "animal", {f: disc(50, 36, 7) if f >= 7 else encode(np.zeros((height, width), bool))
                                       for f in range(frames)})
    return Dataset("clip", width, height, frames, 24.0, [one, two, three])


def sav() -> Dataset | None:
    root = Path(os.environ.get("MASKLET_SHARED_DATA", "/work/shared/data"))
    path = root / "sav" / "sav_000001_manual.json"
    return import_dataset(path, "sav") if path.is_file() else None


def expected(dataset: Dataset, fmt: str, options: ExportOptions) -> dict[tuple[int, int], np.ndarray]:
    """(frame, track id as written) -> mask, for every visible mask the export holds."""
    out = {}
    for frame in export_frames(dataset, options):
        for track in dataset.tracks:
            rle = track.masks.get(frame)
            if rle is None or rle.is_empty:
                continue
            mask = rle.decode()
            if fmt == "mots":  # one object per pixel: the lower id keeps an overlap
                mask = davis_frame(dataset.tracks, frame, dataset.height, dataset.width) == track.track_id
                if not mask.any():
                    continue
            out[(frame, track.track_id if fmt == "mots" else file_id(track))] = mask
    return out


def place(dataset: Dataset, fmt: str, folder: Path, options: ExportOptions) -> Path:
    if fmt == "coco":
        (folder / "annotations").mkdir(parents=True)
        (folder / "images" / "default").mkdir(parents=True)  # Datumaro wants the folder, not the frames
        out = folder / "annotations" / "instances_default.json"
    elif fmt in ("mots", "yolo"):
        out = folder / fmt
    else:
        out = folder / f"export.{'xml' if fmt == 'cvat' else 'json'}"
    export_dataset(dataset, fmt, out, options)
    return folder if fmt == "coco" else out


def frame_of(item: dict) -> int:
    if item.get("frame") is not None:
        return int(item["frame"])
    digits = "".join(ch if ch.isdigit() else " " for ch in str(item["id"])).split()
    return int(digits[-1])


def compare(loaded: dict, want: dict[tuple[int, int], np.ndarray]) -> dict:
    from pycocotools import mask as mask_utils

    got: dict[tuple[int, int], np.ndarray] = {}
    for item in loaded["items"]:
        for m in item["masks"]:
            mask = mask_utils.decode({"size": m["size"], "counts": m["rle"].encode("ascii")}).astype(bool)
            got[(frame_of(item), m["track_id"])] = mask
    exact = sum(1 for k, mask in want.items() if k in got and np.array_equal(got[k], mask))
    return {"masks_expected": len(want), "masks_loaded": len(got), "masks_exact_with_track_id": exact,
            "all_intact": exact == len(want) == len(got)}


def run(datumaro_python: str) -> dict:
    datasets = {"clip": clip()}
    official = sav()
    if official is not None:
        datasets["sav_000001"] = official
    results = []
    work = Path(tempfile.mkdtemp(prefix="masklet-datumaro-"))
    try:
        jobs = []
        for name, dataset in datasets.items():
            for stride in (1, 4):
                options = ExportOptions(stride)
                for fmt in IMPORTERS:
                    folder = work / f"{name}-{stride}-{fmt}"
                    folder.mkdir()
                    jobs.append((name, stride, fmt, place(dataset, fmt, folder, options),
                                 expected(dataset, fmt, options)))
        args = []
        for _, _, fmt, path, _ in jobs:
            args += [IMPORTERS[fmt], str(path)]
            if fmt in FALLBACK:
                args += [FALLBACK[fmt], str(path)]
        done = subprocess.run([datumaro_python, str(LOADER), *args], capture_output=True, text=True, check=True)
        loaded = iter(json.loads(done.stdout))
        for name, stride, fmt, path, want in jobs:
            entry = {"dataset": name, "stride": stride, "format": fmt, "importer": IMPORTERS[fmt]}
            first = next(loaded)
            entry["error"] = first["error"]
            entry.update(compare(first, want) if first["error"] is None else {"all_intact": False})
            if fmt in FALLBACK:
                second = next(loaded)
                entry["fallback"] = {"reader": FALLBACK[fmt], **compare(second, want)}
            results.append(entry)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    reverse = reverse_check(datumaro_python, datasets["clip"])
    version = subprocess.run([datumaro_python, "-c", "import datumaro; print(datumaro.__version__)"],
                             capture_output=True, text=True).stdout.strip()
    return {"datumaro": version, "results": results, "masklet_imports_datumaros_exports": reverse}


# Datumaro's exporter -> (Masklet format, the file or folder Masklet imports under its output)
REVERSE = {"cvat": ("cvat", "source.xml"), "coco_instances": ("coco", "annotations/instances_source.json"),
           "mots_png": ("mots", "source"), "datumaro": ("datumaro", "annotations/source.json")}


def reverse_check(datumaro_python: str, dataset: Dataset) -> list[dict]:
    """Files Datumaro writes (from our Datumaro export of ``dataset``) import into Masklet with every
    visible mask and object id: CVAT for video with tracks, COCO with attributes.track_id, MOTS PNG."""
    work = Path(tempfile.mkdtemp(prefix="masklet-datumaro-reverse-"))
    try:
        source = work / "source.json"
        export_dataset(dataset, "datumaro", source)
        done = subprocess.run([datumaro_python, str(LOADER), "--reexport", str(source), str(work / "out")],
                              capture_output=True, text=True, check=True)
        written = json.loads(done.stdout)
        want = {(f, t.track_id): t.masks[f].decode() for t in dataset.tracks for f in t.masks if not t.masks[f].is_empty}
        # MOTS PNG holds one object per pixel: compare it against the flattened masks
        flat = {(f, tid): davis_frame(dataset.tracks, f, dataset.height, dataset.width) == tid for f, tid in want}
        out = []
        for exporter, (fmt, rel) in REVERSE.items():
            entry = {"datumaro_exporter": exporter, "masklet_format": fmt}
            if str(written.get(exporter, "")).startswith("error"):
                entry["error"] = written[exporter]
                out.append(entry)
                continue
            try:
                path = Path(written[exporter]) / rel
                if fmt == "mots":
                    path = Path(written[exporter]) / "default"
                back = import_dataset(path, fmt)
            except Exception as exc:  # reported, not raised: the bench reports every format
                entry["error"] = f"{type(exc).__name__}: {exc}".splitlines()[0]
                out.append(entry)
                continue
            reference = {k: m for k, m in (flat if fmt == "mots" else want).items() if m.any()}
            got = {(f, t.track_id): t.masks[f].decode() for t in back.tracks for f in t.masks if not t.masks[f].is_empty}
            exact = sum(1 for k, m in reference.items() if k in got and np.array_equal(got[k], m))
            entry.update(masks_expected=len(reference), masks_imported=len(got), masks_exact_with_id=exact,
                         all_intact=exact == len(reference) == len(got))
            out.append(entry)
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datumaro-python", required=True, help="python of an environment with Datumaro 1.13")
    parser.add_argument("--out", help="also write the JSON here")
    args = parser.parse_args()
    report = run(args.datumaro_python)
    text = json.dumps(report, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
