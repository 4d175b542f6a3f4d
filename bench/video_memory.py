"""Memory of the video engine over a long propagation (prints JSON).

One object, clicked on frame 0, propagated forward through every frame of a video with SAM 2.1
tiny (random weights unless --checkpoint: memory does not depend on the values). Host memory
is sampled after each frame: the peak RSS since propagation began (VmHWM, reset after the click:
a click keeps one encoder's working set in the heap, core/allocator.py, which would otherwise
set the peak) and the current RSS, at frame 50 and at the last frame, plus the engine's own
tensors and the size of the RLE results.

  .venv/bin/python bench/video_memory.py [--video PATH] [--frames 200] [--checkpoint PATH] [--cache-mb 64]
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
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = args.checkpoint
        if ckpt is None:
            from core.sam2.config import config_for
            from tests.sam2_helpers import save_random_checkpoint

            ckpt = str(save_random_checkpoint(Path(tmp) / "tiny.pt", config_for("2.1", "tiny")))
        model = load_model(ckpt)
    frames = open_frames(args.video, cache_mb=args.cache_mb)
    count = min(args.frames, len(frames))
    extra = {} if args.spare_mb is None else {"spare_memory_mb": args.spare_mb}
    session = VideoSession(model, frames, **extra)
    h, w = session.video_size
    session.add_prompt(Prompt(0, 1, np.array([[w / 2, h / 2]], np.float32), np.array([1], np.int32)))
    click_peak, click_rss = peak_mb(), rss_mb()
    samples: dict[int, dict[str, float]] = {}
    t0 = time.perf_counter()
    peak_reset = False
    for r in session.propagate(direction=Direction.FORWARD, end_frame=count - 1):
        if not peak_reset:  # the propagation has begun (and given the click's heap back)
            peak_reset = reset_peak()
        n = r.frame + 1
        if n in (1, 10, 25, 50, 100, 150, 200) or n == count:
            rle_bytes = sum(len(m.counts) for m in (x.rle for x in session.object_results(1).values()))
            samples[n] = {
                "peak_rss_mb": round(peak_mb(), 1),
                "rss_mb": round(rss_mb(), 1),
                "engine_tensors_mb": round(session.memory_bytes() / 2**20, 2),
                "rle_kb": round(rle_bytes / 1024, 1),
                "seconds": round(time.perf_counter() - t0, 1),
            }
            print(json.dumps({"frame": n, **samples[n]}), file=sys.stderr, flush=True)
    first, last = samples.get(50), samples[count]
    print(json.dumps({
        "video": Path(args.video).name,
        "frames": count,
        "model": "sam2.1 tiny (random weights)" if args.checkpoint is None else args.checkpoint,
        "after_click": {"peak_rss_mb": round(click_peak, 1), "rss_mb": round(click_rss, 1)},
        "peak_reset_after_click": peak_reset,
        "samples": samples,
        "peak_rss_growth_50_to_last_mb": None if first is None else round(last["peak_rss_mb"] - first["peak_rss_mb"], 1),
        "rss_growth_50_to_last_mb": None if first is None else round(last["rss_mb"] - first["rss_mb"], 1),
        "frame_cache_mb": args.cache_mb,
        "spare_memory_mb": "engine default" if args.spare_mb is None else args.spare_mb,
        "goal_mb": 50,
    }, indent=1))


if __name__ == "__main__":
    main()
