"""Peak host memory of the official SAM 2 video predictor on the same run as bench/video_memory.py.

The official predictor reads a folder of JPEGs (its mp4 path needs decord), so the video is
first written out as JPEG frames with PyAV in our venv; then, in the reference venv, the
official predictor (SAM 2.1 tiny, the same random checkpoint format) opens the folder, takes one
click on frame 0 and propagates forward over --frames frames. Prints JSON: peak RSS after
init_state, at frame 50 and at the end.

  .venv/bin/python bench/parity/official_video_memory.py frames OUT_DIR [--video PATH]
  $SAM2_OFFICIAL_PYTHON bench/parity/official_video_memory.py run OUT_DIR CKPT [--frames N]
  (the reference venv's interpreter, with SAM2_OFFICIAL exported: bench/parity/README.md)
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_frames(out_dir: Path, video: Path) -> None:
    import av

    out_dir.mkdir(parents=True, exist_ok=True)
    with av.open(str(video)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            frame.to_image().save(out_dir / f"{i:05d}.jpg", quality=95)
    print(json.dumps({"frames_written": i + 1, "folder": str(out_dir)}))


def run(out_dir: Path, ckpt: Path, frames: int) -> None:
    import numpy as np
    import torch

    sys.path.insert(0, str(ROOT))
    from bench.parity.official import import_official

    import_official()
    from sam2.build_sam import build_sam2_video_predictor

    torch.set_grad_enabled(False)
    predictor = build_sam2_video_predictor("configs/sam2.1/sam2.1_hiera_t.yaml", str(ckpt), device="cpu")
    out: dict[str, float] = {"peak_mb_model_built": peak_mb()}
    t = time.perf_counter()
    state = predictor.init_state(str(out_dir))
    out["init_state_s"] = time.perf_counter() - t
    out["peak_mb_after_init_state"] = peak_mb()
    predictor.add_new_points_or_box(state, 0, 1, points=np.array([[480.0, 300.0]], np.float32), labels=np.array([1], np.int32))
    for frame, _, _ in predictor.propagate_in_video(state, start_frame_idx=0, max_frame_num_to_track=frames - 1):
        if frame == 50:
            out["peak_mb_at_frame_50"] = peak_mb()
    out["frames_tracked"] = frames
    out["peak_mb_at_end"] = peak_mb()
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("step", choices=("frames", "run"))
    ap.add_argument("out_dir", type=Path)
    ap.add_argument("checkpoint", type=Path, nargs="?")
    ap.add_argument("--video", type=Path, default=ROOT.parent / "shared" / "data" / "videos" / "bedroom.mp4")
    ap.add_argument("--frames", type=int, default=60)
    args = ap.parse_args()
    if args.step == "frames":
        write_frames(args.out_dir, args.video)
    else:
        run(args.out_dir, args.checkpoint, args.frames)


if __name__ == "__main__":
    main()
