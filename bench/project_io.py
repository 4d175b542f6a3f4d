"""Benchmark: save and load a project of 5 objects x 2,000 frames at 848x480; prints JSON.

Goal (issue 5): each under 2 s. Masks are synthetic but shaped like SAM 2 output: a blob
with a wavy outline that moves and changes size from frame to frame, so every RLE differs.

    .venv/bin/python bench/project_io.py [--objects 5] [--frames 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef  # noqa: E402
from annotator.project import load_project, save_project  # noqa: E402
from core.masks import encode  # noqa: E402

WIDTH, HEIGHT = 848, 480


def blob(obj: int, frame: int) -> np.ndarray:
    """(HEIGHT, WIDTH) uint8 mask: a wavy blob whose place, size and outline vary with frame."""
    angles = np.linspace(0, 2 * np.pi, 90, endpoint=False)
    phase = 0.05 * frame + obj
    radius = (40 + 12 * obj) * (1 + 0.25 * np.sin(5 * angles + phase) + 0.1 * np.sin(11 * angles - 2 * phase))
    cx = WIDTH * (0.2 + 0.6 * (0.5 + 0.5 * np.sin(0.01 * frame + obj)))
    cy = HEIGHT * (0.3 + 0.4 * (0.5 + 0.5 * np.cos(0.013 * frame + 2 * obj)))
    points = np.stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)], axis=1).astype(np.int32)
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    cv2.fillPoly(mask, [points], 1)
    return mask


def build(objects: int, frames: int) -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("/videos/bench.mp4", WIDTH, HEIGHT, frames, 24.0, "sha256:" + "0" * 64))
    for obj in range(objects):
        record = doc.add_object(name=f"object {obj + 1}")
        for frame in range(frames):
            source = MaskSource.PROMPTED if frame == 0 else MaskSource.PROPAGATED
            doc.set_mask(record.obj_id, frame, MaskEntry(encode(blob(obj, frame)), source, False, 3.5, 0.93))
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objects", type=int, default=5)
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    t0 = time.perf_counter()
    doc = build(args.objects, args.frames)
    build_s = time.perf_counter() - t0
    saves, loads, save_cpu, load_cpu = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.masklet"
        for _ in range(args.repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            save_project(doc, path)
            saves.append(time.perf_counter() - t0)
            save_cpu.append(time.process_time() - c0)
            t0, c0 = time.perf_counter(), time.process_time()
            loaded = load_project(path)
            loads.append(time.perf_counter() - t0)
            load_cpu.append(time.process_time() - c0)
        size = path.stat().st_size
    assert loaded.document.mask_count() == doc.mask_count()
    print(json.dumps({
        "objects": args.objects, "frames": args.frames, "masks": doc.mask_count(), "size": f"{WIDTH}x{HEIGHT}",
        "file_bytes": size, "mean_rle_bytes": round(sum(len(e.rle.counts) for _, _, e in doc.iter_masks()) / doc.mask_count(), 1),
        "save_s": {"min": round(min(saves), 3), "max": round(max(saves), 3)},
        "load_s": {"min": round(min(loads), 3), "max": round(max(loads), 3)},
        # CPU seconds of this process: what the wall times would be on an idle machine
        "save_cpu_s": round(min(save_cpu), 3), "load_cpu_s": round(min(load_cpu), 3),
        "goal_s": 2.0, "pass": max(saves) < 2.0 and max(loads) < 2.0, "build_s": round(build_s, 2),
    }, indent=2))


if __name__ == "__main__":
    main()
