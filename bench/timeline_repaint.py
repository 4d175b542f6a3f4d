"""How long the timeline takes to repaint on an hour of video (108,000 frames at 30 fps), 10 objects,
at several zooms; printed as JSON (and written to --out). Goal: under 16 ms (one 60 Hz frame).

The document is synthetic: every object has a mask on most frames (propagated, IoU drifting with
noise so the confidence colour changes often, a prompted frame every 500, a hand edit every 700,
locked and reviewed stretches, gaps where the object is absent). Each zoom is measured three ways:
- scrolled: the view moved somewhere else in the hour (each lane's columns and images made again
  from its cached run-length summary);
- playhead: only the playhead moved (playback; the lanes' images come from the cache);
- after_edit: one object's mask changed just before, so its summary is made again first.
The widget paints into an offscreen QImage (QWidget.render), the raster engine the window uses.

Usage: QT_QPA_PLATFORM=offscreen python bench/timeline_repaint.py [--frames 108000] [--objects 10]
       [--width 1400] [--repeats 30] [--out bench/results/timeline_repaint.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402

ZOOMS = ("fit", 0.1, 1.0, 4.0, 16.0, 64.0)  # pixels a frame


def synthetic_document(frames: int, objects: int, seed: int = 0):
    from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
    from core.masks import encode

    rng = np.random.default_rng(seed)
    doc = AnnotationDocument(VideoRef("synthetic.mp4", 64, 36, frames, 30.0))
    shapes = []
    for rows in (4, 8, 12):
        m = np.zeros((36, 64), bool)
        m[:rows, :20] = True
        shapes.append(encode(m))
    empty = encode(np.zeros((36, 64), bool))
    for k in range(objects):
        obj_id = doc.add_object(f"object {k + 1}").obj_id
        masks = doc.masks[obj_id]
        iou = np.clip(0.8 + 0.15 * np.sin(np.arange(frames) / 400.0 + k) + rng.normal(0, 0.05, frames), 0, 1)
        absent = (np.arange(frames) // 3000) % 7 == k % 7  # a stretch of absence every 21,000 frames
        shape = rng.integers(0, 3, frames // 250 + 1).repeat(250)[:frames]  # area steps every 250 frames
        for f in range(frames):
            if absent[f]:
                masks[f] = MaskEntry(empty, MaskSource.PROPAGATED, object_score=-4.0, iou=float(iou[f]))
            else:
                masks[f] = MaskEntry(shapes[shape[f]], MaskSource.PROPAGATED, object_score=3.0, iou=float(iou[f]))
        for f in range(0, frames, 500):
            masks[f] = replace(masks[f], source=MaskSource.PROMPTED)
        for f in range(350, frames, 700):
            masks[f] = MaskEntry(shapes[1], MaskSource.EDITED)
        for start in range(1000 * k, frames, 9000):
            for f in range(start, min(frames, start + 600)):
                masks[f] = replace(masks[f], locked=True, reviewed=f < start + 300)
    return doc


class _Frames:
    def __init__(self, n: int) -> None:
        from core.types import VideoInfo

        self.info = VideoInfo(64, 36, n, 30.0)

    def __len__(self) -> int:
        return self.info.frame_count

    def get(self, i: int) -> np.ndarray:
        return np.zeros((36, 64, 3), np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=108_000)
    parser.add_argument("--objects", type=int, default=10)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()

    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from annotator.session_controller import SessionController
    from annotator.worker import WorkerHandle
    from ui.timeline import LANES_TOP, Timeline
    from ui.timeline_paint import LANE_H

    app = QApplication.instance() or QApplication([])
    t0 = time.perf_counter()
    doc = synthetic_document(args.frames, args.objects)
    build_s = time.perf_counter() - t0
    handle = WorkerHandle(loader=lambda s: None, factory=lambda *a: None, opener=lambda p, mb: _Frames(args.frames))
    session = SessionController(handle, frame_opener=lambda p, mb: _Frames(args.frames), fingerprinter=lambda p: "")
    t0 = time.perf_counter()
    session._set_video(_Frames(args.frames), doc, None, worker_opened=True)
    timeline = Timeline(session)
    timeline.thumbnails.set_source(None)  # the thumbnails are decoded on their own thread; not measured here
    height = LANES_TOP + LANE_H * args.objects + 4
    timeline.resize(args.width, height)
    tables_s = time.perf_counter() - t0
    image = QImage(args.width, height, QImage.Format.Format_ARGB32_Premultiplied)
    runs = {o: len(timeline.runs(o)) for o in timeline.lanes}

    def paint() -> float:
        start = time.perf_counter()
        timeline.render(image)  # paintEvent into the image: the ruler, every lane, marks and playhead
        return (time.perf_counter() - start) * 1000

    results = []
    rng = np.random.default_rng(1)
    for zoom in ZOOMS:
        if zoom == "fit":
            timeline.fit()
        else:
            timeline.set_px_per_frame(float(zoom))
        paint()  # the summaries are made once
        steady, playhead, after_edit = [], [], []
        for i in range(args.repeats):
            timeline.scroll_to(rng.uniform(0, timeline.view.max_first))  # somewhere else in the hour
            session.set_frame(int(timeline.view.first + timeline.view.visible_frames / 2))
            steady.append(paint())
            session.set_frame(session.frame + 1)
            playhead.append(paint())
            obj_id, frame = 1 + i % args.objects, session.frame
            entry = session.doc.mask(obj_id, frame)
            session.doc.set_mask(obj_id, frame, replace(entry, iou=0.1 if (entry.iou or 1) > 0.5 else 0.9))
            after_edit.append(paint())
        results.append({
            "px_per_frame": round(timeline.view.px_per_frame, 5), "zoom": zoom,
            "frames_in_view": round(timeline.view.visible_frames, 1),
            "scrolled_ms": {"min": round(min(steady), 2), "median": round(statistics.median(steady), 2), "max": round(max(steady), 2)},
            "playhead_ms": {"min": round(min(playhead), 2), "median": round(statistics.median(playhead), 2), "max": round(max(playhead), 2)},
            "after_edit_ms": {"min": round(min(after_edit), 2), "median": round(statistics.median(after_edit), 2), "max": round(max(after_edit), 2)},
        })
    out = {
        "benchmark": "timeline_repaint", "frames": args.frames, "objects": args.objects, "width_px": args.width,
        "repeats": args.repeats, "masks": doc.mask_count(), "runs_per_object": runs,
        "build_document_s": round(build_s, 1), "open_and_tables_s": round(tables_s, 1),
        "python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "results": results,
    }
    text = json.dumps(out, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    session.shutdown()
    del app


if __name__ == "__main__":
    main()
