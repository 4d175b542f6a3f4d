"""Memory of the video engine over a long propagation (prints JSON).

One object, clicked on frame 0, propagated forward through every frame of a video with SAM 2.1
tiny (random weights unless --checkpoint: memory does not depend on the values). Host memory
is sampled after each frame: the peak RSS since propagation began (VmHWM, reset after the click:
a click keeps one encoder's working set in the heap, core/allocator.py, which would otherwise
set the peak) and the current RSS, at frame 50 and at the last frame, plus the engine's own
tensors and the size of the RLE results.

  .venv/bin/python bench/video_memory.py [--video PATH] [--frames 200] [--checkpoint PATH] [--cache-mb 64]
      [--long-video MINUTES] [--objects N]
  (--long-video: a 720p H.264 video of that length made for the run, bench/long_video.py, in place of
  --video; --objects: N objects clicked on frame 0 instead of one. map_count is the process's memory
  mappings, /proc/self/maps, against the kernel's limit vm.max_map_count: core/allocator.py gives
  every large result kept across frames a mapping of its own)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.frames import open_frames  # noqa: E402
from core.sam2.checkpoint import load_model  # noqa: E402
from core.types import Direction, Prompt  # noqa: E402
from core.video import VideoSession  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_mb() -> float:
    """The peak resident size since the last ``reset_peak()`` (the whole run if never reset)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def map_count() -> int:
    with open("/proc/self/maps", "rb") as f:
        return sum(1 for _ in f)


def reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")  # Linux: peak resident size := current
    except OSError:
        return False
    return True


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--video", default=str(ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4"))
    ap.add_argument("--frames", type=int, default=200)
    ap.add_argument("--checkpoint", default=None)
    # A bounded frame cache that is full by frame 50, so what grows after it is the engine's
    # (the app's default of 512 MB would still be filling at frame 200 of a 960x540 video).
    ap.add_argument("--cache-mb", type=int, default=64)
    ap.add_argument("--spare-mb", type=float, default=None, help="VideoSession spare_memory_mb (default: the engine's)")
    ap.add_argument("--long-video", type=float, default=0.0, metavar="MINUTES",
                    help="track a 720p H.264 video of this length made for the run (bench/long_video.py)")
    ap.add_argument("--objects", type=int, default=1, help="objects clicked on frame 0")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    ckpt = args.checkpoint
    if ckpt is None:
        from core.sam2.config import config_for
        from tests.sam2_helpers import save_random_checkpoint

        ckpt = str(save_random_checkpoint(Path(tmp.name) / "tiny.pt", config_for("2.1", "tiny")))
    model = load_model(ckpt)
    if args.long_video > 0:
        from bench.long_video import make_long_video

        args.video = str(Path(tmp.name) / f"long_{args.long_video:g}min.mp4")
        make_long_video(Path(args.video), args.long_video)
    frames = open_frames(args.video, cache_mb=args.cache_mb)
    count = min(args.frames, len(frames))
    extra = {} if args.spare_mb is None else {"spare_memory_mb": args.spare_mb}
    session = VideoSession(model, frames, **extra)
    h, w = session.video_size
    for obj in range(1, args.objects + 1):  # spread along the middle row
        x = w * obj / (args.objects + 1)
        session.add_prompt(Prompt(0, obj, np.array([[x, h / 2]], np.float32), np.array([1], np.int32)))
    click_peak, click_rss = peak_mb(), rss_mb()
    samples: dict[int, dict[str, float]] = {}
    t0 = time.perf_counter()
    peak_reset = False
    for r in session.propagate(direction=Direction.FORWARD, end_frame=count - 1):
        if not peak_reset:  # the propagation has begun (and given the click's heap back)
            peak_reset = reset_peak()
        n = r.frame + 1
        if n in (1, 10, 25, 50, 150) or n % 100 == 0 or n == count:
            rle_bytes = sum(len(m.rle.counts) for o in session.object_ids for m in session.object_results(o).values())
            samples[n] = {
                "peak_rss_mb": round(peak_mb(), 1),
                "rss_mb": round(rss_mb(), 1),
                "engine_tensors_mb": round(session.memory_bytes() / 2**20, 2),
                "rle_kb": round(rle_bytes / 1024, 1),
                "map_count": map_count(),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(json.dumps({"frame": n, **samples[n]}), file=sys.stderr, flush=True)
    first, last = samples.get(50), samples[count]
    print(json.dumps({
        "video": Path(args.video).name,
        "frames": count,
        "objects": args.objects,
        "model": "sam2.1 tiny (random weights)" if args.checkpoint is None else args.checkpoint,
        "after_click": {"peak_rss_mb": round(click_peak, 1), "rss_mb": round(click_rss, 1)},
        "peak_reset_after_click": peak_reset,
        "samples": samples,
        "peak_rss_growth_50_to_last_mb": None if first is None else round(last["peak_rss_mb"] - first["peak_rss_mb"], 1),
        "rss_growth_50_to_last_mb": None if first is None else round(last["rss_mb"] - first["rss_mb"], 1),
        "frame_cache_mb": args.cache_mb,
        "spare_memory_mb": "engine default" if args.spare_mb is None else args.spare_mb,
        "goal_mb": 50,
        "max_map_count": int(Path("/proc/sys/vm/max_map_count").read_text()),
    }, indent=1))
    frames.close()
    tmp.cleanup()


if __name__ == "__main__":
    main()
