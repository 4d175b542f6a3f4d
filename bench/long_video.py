"""A long synthetic H.264 video for the first-click benchmarks (made here, never committed).

One closed group of pictures (a box moving over a gradient, 10 s) is encoded once and its
packets are written again and again with shifted timestamps, so an hour of video takes seconds
to make. Every group starts with an IDR frame, so the file decodes like any camera recording.

  .venv/bin/python bench/long_video.py OUT.mp4 [--minutes 60] [--size 1280x720]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import av
import numpy as np

FPS = 30
GOP = 10 * FPS  # frames per group of pictures


def _frames(width: int, height: int):  # noqa: ANN202
    """GOP rgb24 frames: a box crossing a gradient."""
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([(xx * 255 // width), (yy * 255 // height), np.full_like(xx, 96)], -1).astype(np.uint8)
    side = height // 6
    for i in range(GOP):
        img = base.copy()
        x = (i * (width - side)) // GOP
        img[height // 3 : height // 3 + side, x : x + side] = (240, 40, 40)
        yield av.VideoFrame.from_ndarray(img, format="rgb24")


def make_long_video(path: Path, minutes: float = 60.0, width: int = 1280, height: int = 720) -> int:
    """Write ``path`` (mp4, 30 fps); returns its frame count (a whole number of 10 s groups)."""
    groups = max(1, round(minutes * 60 * FPS / GOP))
    out = av.open(str(path), "w")
    try:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"preset": "ultrafast", "crf": "28", "g": str(GOP), "keyint_min": str(GOP), "sc_threshold": "0"}
        packets: list[av.Packet] = []
        for frame in _frames(width, height):
            packets += stream.encode(frame)
        packets += stream.encode()
        for p in packets:
            out.mux(p)
        step = GOP * (packets[1].duration or round(1 / FPS / packets[0].time_base))
        for g in range(1, groups):
            for p in packets:
                copy = av.Packet(bytes(p))
                copy.pts, copy.dts = p.pts + g * step, p.dts + g * step
                copy.time_base, copy.is_keyframe, copy.stream = p.time_base, p.is_keyframe, stream
                out.mux(copy)
    finally:
        out.close()
    return groups * GOP


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("out", type=Path)
    ap.add_argument("--minutes", type=float, default=60.0)
    ap.add_argument("--size", default="1280x720")
    args = ap.parse_args()
    w, h = (int(v) for v in args.size.split("x"))
    t = time.perf_counter()
    frames = make_long_video(args.out, args.minutes, w, h)
    print(json.dumps({"path": str(args.out), "frames": frames, "bytes": args.out.stat().st_size,
                      "seconds_to_make": round(time.perf_counter() - t, 1)}))


if __name__ == "__main__":
    main()
