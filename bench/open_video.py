"""Benchmark the video frame source: open + first frame, random seeks, sequential and backward
reading, peak memory. Prints JSON. Not collected by pytest.

    .venv/bin/python bench/open_video.py [--seeks 40] [--long-frames 18000] [videos...]

Videos default to ../shared/data/videos/*.mp4. A long synthetic video (``--long-frames``
frames, 30 fps, 320x180, keyframe every 250) is written to a temporary folder to show that
opening time grows only with the packet scan, not with decoding.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.frames import VideoFrames, open_frames  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (2**20 if platform.system() == "Darwin" else 2**10)


def write_long(path: Path, frames: int) -> None:
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        stream.options = {"preset": "ultrafast", "x264-params": "keyint=250:min-keyint=250:scenecut=0"}
        base = np.random.default_rng(0).integers(0, 255, (180, 320, 3), np.uint8)
        for i in range(frames):
            img = np.roll(base, i, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def measure(path: Path, seeks: int, backward: bool = True) -> dict[str, object]:
    t0 = time.perf_counter()
    src = open_frames(path, cache_mb=512)
    t_open = time.perf_counter() - t0
    src.get(0)
    t_first = time.perf_counter() - t0
    assert isinstance(src, VideoFrames)
    info = src.info
    keyframes = len(src.keyframes)
    src.close()

    # random seeks, no cache: every get() decodes from a keyframe (or continues forward)
    times = []
    with open_frames(path, cache_mb=0) as nocache:
        for i in random.Random(0).sample(range(len(nocache)), min(seeks, len(nocache))):
            t = time.perf_counter()
            nocache.get(i)
            times.append(time.perf_counter() - t)
        t = time.perf_counter()
        nocache.get(0)
        for i in range(1, len(nocache)):
            nocache.get(i)
        seq_fps = len(nocache) / (time.perf_counter() - t)

    result: dict[str, object] = {
        "video": path.name,
        "width": info.width, "height": info.height, "frames": info.frame_count, "fps": round(info.fps, 3),
        "keyframes": keyframes,
        "open_s": round(t_open, 4),
        "open_and_first_frame_s": round(t_first, 4),
        "random_seek_ms": {
            "n": len(times),
            "median": round(1000 * statistics.median(times), 1),
            "mean": round(1000 * statistics.fmean(times), 1),
            "max": round(1000 * max(times), 1),
        },
        "sequential_fps": round(seq_fps, 1),
    }
    if backward:
        with open_frames(path, cache_mb=512) as cached:
            assert isinstance(cached, VideoFrames)
            t = time.perf_counter()
            for i in reversed(range(len(cached))):
                cached.get(i)
            result["backward_fps"] = round(len(cached) / (time.perf_counter() - t), 1)
            result["backward_seeks"] = cached.seeks
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("videos", nargs="*", type=Path)
    parser.add_argument("--seeks", type=int, default=40)
    parser.add_argument("--long-frames", type=int, default=18000, help="0 to skip the long synthetic video")
    args = parser.parse_args()
    videos = args.videos or sorted((ROOT.parent / "shared" / "data" / "videos").glob("*.mp4"))
    report: dict[str, object] = {"pyav": av.__version__, "videos": [measure(v, args.seeks) for v in videos]}
    if args.long_frames:
        with tempfile.TemporaryDirectory() as tmp:
            long_path = Path(tmp) / "long.mp4"
            t = time.perf_counter()
            write_long(long_path, args.long_frames)
            long = measure(long_path, min(args.seeks, 20), backward=False)
            long["written_in_s"] = round(time.perf_counter() - t, 1)
            long["file_mb"] = round(long_path.stat().st_size / 2**20, 1)
            report["long_synthetic"] = long
    report["peak_rss_mb"] = round(peak_rss_mb(), 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
