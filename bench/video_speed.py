"""Speed of the video engine on CPU against the official SAM 2 video predictor (prints JSON).

Same random SAM 2.1 tiny weights for both, same frames (the bedroom JPEG folder), same clicks:
- time to first click: open the video, start a session, click on frame 0, get the mask
  (ours on bedroom.mp4 too, and with --long-video M on an M-minute 720p H.264 video made by
  bench/long_video.py; the official predictor first decodes every frame of the folder).
  Ours as the app runs it: the model loaded and warmed up (``core.video.warm_up``: the process's
  first two encoder runs, which are slower, reported as warm_up_s), then a video opened and clicked;
  the official's first click includes its first encoder run;
- a click on a cached frame (a second click on frame 0): median of 5;
- propagation, seconds per frame, 1 and 3 objects clicked on frame 0, forward over --frames
  frames (frame 0, the prompted frame, excluded).

  .venv/bin/python bench/video_speed.py [--frames 8] [--official DIR] [--official-python PY] [--threads N]
      [--precision bf16] [--first-clicks N] [--long-video MINUTES] [--contend N]
  (--frames 0: clicks only, no propagation; --precision bf16: ours in bfloat16, the official in fp32,
  so the speed-ups then compare precisions too; --contend N: N other processes, each a busy Python loop
  on one core, run through the whole benchmark, ours and the official alike, as a browser or a video
  call would on an annotator's laptop)
  (ours runs in this interpreter; the official side, with SAM2_OFFICIAL or --official set, runs in the
  reference venv's interpreter, SAM2_OFFICIAL_PYTHON or --official-python: bench/parity/README.md)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
FOLDER = DATA / "frames" / "bedroom"
VIDEO = DATA / "videos" / "bedroom.mp4"
CLICKS = [(480.0, 300.0), (200.0, 300.0), (700.0, 200.0)]  # one per object, video pixels (960 x 540)

OFFICIAL = r'''
import json, statistics, sys, time
import numpy as np, torch
sys.path.insert(0, sys.argv[7])  # the checkout, for bench.parity.official
from bench.parity.official import import_official
import_official(sys.argv[1])
from sam2.build_sam import build_sam2_video_predictor
ckpt, folder, frames, threads = sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
clicks = json.loads(sys.argv[6])
if threads: torch.set_num_threads(threads)
torch.set_grad_enabled(False)
p = build_sam2_video_predictor("configs/sam2.1/sam2.1_hiera_t.yaml", ckpt, device="cpu")
out = {}
t = time.perf_counter(); state = p.init_state(folder)
p.add_new_points_or_box(state, 0, 1, points=np.array([clicks[0]], np.float32), labels=np.array([1], np.int32))
out["first_click_s"] = time.perf_counter() - t
times = []
for k in range(5):
    t = time.perf_counter()
    p.add_new_points_or_box(state, 0, 1, points=np.array([[clicks[0][0] + 5 * k, clicks[0][1]]], np.float32),
                            labels=np.array([1], np.int32), clear_old_points=False)
    times.append(time.perf_counter() - t)
out["cached_click_s"] = statistics.median(times)
for n_obj in (1, 3) if frames > 0 else ():
    p.reset_state(state)
    for i in range(n_obj):
        p.add_new_points_or_box(state, 0, i + 1, points=np.array([clicks[i]], np.float32), labels=np.array([1], np.int32))
    per = []
    t = time.perf_counter()
    for f, _, _ in p.propagate_in_video(state, max_frame_num_to_track=frames):
        now = time.perf_counter(); per.append(now - t); t = now
    out[f"per_frame_{n_obj}obj_s"] = per[1:]
print("RESULT " + json.dumps(out))
'''


def click(frame: int, obj_id: int, xy: tuple[float, float]):
    from core.types import Prompt

    return Prompt(frame, obj_id, np.array([xy], np.float32), np.array([1], np.int32))


def ours(ckpt: Path, frames: int, first_clicks: int = 1, long_video: Path | None = None) -> dict:
    import torch

    from core.frames import open_frames
    from core.sam2.checkpoint import load_model
    from core.types import Direction
    from core.video import VideoSession, warm_up

    out: dict = {}
    t = time.perf_counter()
    model = load_model(ckpt)
    out["model_load_s"] = time.perf_counter() - t
    t = time.perf_counter()
    warm_up(model, runs=2)  # as annotator.worker.load_model does
    out["warm_up_s"] = time.perf_counter() - t
    videos = [("first_click_mp4_s", VIDEO), ("first_click_s", FOLDER)]
    if long_video is not None:
        videos.insert(1, ("first_click_long_s", long_video))
    runs: dict[str, list[float]] = {name: [] for name, _ in videos}
    for r in range(first_clicks):  # each a fresh open and session: nothing of the last one is reused
        for i, (name, path) in enumerate(videos):
            t = time.perf_counter()
            frames_src = open_frames(path)
            session = VideoSession(model, frames_src)
            session.add_prompt(click(0, 1, CLICKS[0]))
            runs[name].append(time.perf_counter() - t)
            if name == "first_click_long_s":
                out["long_video_frames"] = len(frames_src)
            if (r, i) != (first_clicks - 1, len(videos) - 1):  # the last session serves the cached clicks
                # closed: a copy still open would lend the next open its index and frame 0
                frames_src.close()
    for name, values in runs.items():
        out[name] = statistics.median(values)
        if first_clicks > 1:
            out[name.replace("_s", "_runs_s")] = [round(v, 3) for v in values]
    times = []
    for k in range(5):
        p = click(0, 1, (CLICKS[0][0] + 5 * k, CLICKS[0][1]))
        t = time.perf_counter()
        session.add_prompt(p, clear_old=False)
        times.append(time.perf_counter() - t)
    out["cached_click_s"] = statistics.median(times)
    for n_obj in (1, 3) if frames > 0 else ():
        session = VideoSession(model, open_frames(FOLDER))
        for i in range(n_obj):
            session.add_prompt(click(0, i + 1, CLICKS[i]))
        per, threads = [], []
        t = time.perf_counter()
        for _ in session.propagate(direction=Direction.FORWARD, end_frame=frames):
            now = time.perf_counter()
            per.append(now - t)
            threads.append(torch.get_num_threads())
            t = now
        out[f"per_frame_{n_obj}obj_s"] = per[1:]
        out[f"threads_{n_obj}obj"] = threads[1:]  # torch's count after each frame (core/cpu_threads.py)
    return out


def summary(d: dict) -> dict:
    s = {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items() if not k.startswith("per_frame")}
    for n in (1, 3):
        per = d.get(f"per_frame_{n}obj_s")
        if not per:
            continue
        s[f"per_frame_{n}obj_mean_s"] = round(statistics.mean(per), 3)
        s[f"per_frame_{n}obj_last3_s"] = round(statistics.mean(per[-3:]), 3)
    return s


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--official", default=os.environ.get("SAM2_OFFICIAL"),
                    help="the official sam2 checkout (default: $SAM2_OFFICIAL; unset: ours only)")
    ap.add_argument("--official-python", default=os.environ.get("SAM2_OFFICIAL_PYTHON"),
                    help="the interpreter of the official's venv (default: $SAM2_OFFICIAL_PYTHON)")
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads, both sides (0: the official torch's default, ours adapts: core/cpu_threads.py)")
    ap.add_argument("--first-clicks", type=int, default=1,
                    help="ours: first clicks per video, each on a freshly opened video (median reported)")
    ap.add_argument("--long-video", type=float, default=0.0, metavar="MINUTES",
                    help="ours: also the first click on a video this long (720p H.264, made for the run)")
    ap.add_argument("--precision", choices=("fp32", "bf16"), default="fp32",
                    help="ours: bf16 runs as the app does when bfloat16 is chosen (CPU autocast)")
    ap.add_argument("--contend", type=int, default=0, metavar="N",
                    help="run N busy processes (one core each) through the whole benchmark")
    ap.add_argument("--official-first", action="store_true",
                    help="run the official before ours (for interleaved ABBA runs)")
    args = ap.parse_args()
    if args.official and not args.official_python:
        ap.error("the official side needs SAM2_OFFICIAL_PYTHON (or --official-python): see bench/parity/README.md")
    import torch

    from bench.host import host_gflops

    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["MASKLET_THREADS"] = "fixed"
    result: dict = {"frames": args.frames, "threads": torch.get_num_threads(), "model": "sam2.1 tiny, random weights",
                    "precision": args.precision, "contend": args.contend, "cores": os.cpu_count(),
                    "host_gemm_gflops_before": host_gflops()}
    with busy_processes(args.contend):
        run(args, result)
    result["host_gemm_gflops_after"] = host_gflops()
    if "official" in result:
        o, m = result["official"], result["ours"]
        result["speedup_vs_official"] = {
            k: round(o[k] / m[k], 2)
            for k in ("per_frame_1obj_mean_s", "per_frame_3obj_mean_s", "cached_click_s", "first_click_s")
            if k in o and k in m
        }
    print(json.dumps(result, indent=1))


@contextmanager
def busy_processes(n: int) -> Iterator[None]:
    """n other processes, each spinning on one core (``while True: pass``) until the block ends."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    try:
        yield
    finally:
        for p in procs:
            p.kill()
            p.wait()


def run(args: argparse.Namespace, result: dict) -> None:
    """Ours and the official where it is set up (ours first unless --official-first), into ``result``."""
    from core.sam2.config import config_for
    from tests.sam2_helpers import save_random_checkpoint

    with tempfile.TemporaryDirectory() as tmp:
        ckpt = save_random_checkpoint(Path(tmp) / "tiny.pt", config_for("2.1", "tiny"))
        long_video = None
        if args.long_video > 0:
            from bench.long_video import make_long_video

            long_video = Path(tmp) / "long.mp4"
            make_long_video(long_video, args.long_video)
        from core.checkpoints.accelerate import autocast
        from core.checkpoints.runtime import ResolvedRuntime

        def run_ours() -> None:
            with autocast(ResolvedRuntime("cpu", args.precision, False)):
                result["ours"] = summary(ours(ckpt, args.frames, args.first_clicks, long_video))
            print(json.dumps({"ours": result["ours"]}), file=sys.stderr, flush=True)

        def run_official() -> None:
            proc = subprocess.run(
                [args.official_python, "-c", OFFICIAL, args.official, str(ckpt), str(FOLDER), str(args.frames),
                 str(args.threads), json.dumps(CLICKS), str(ROOT)],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            if not lines:
                result["official_error"] = proc.stderr[-2000:]
            else:
                result["official"] = summary(json.loads(lines[-1][7:]))

        order = [run_official, run_ours] if args.official_first else [run_ours, run_official]
        result["order"] = "official, ours" if args.official_first else "ours, official"
        for side in order:
            if side is run_ours or args.official:
                side()


if __name__ == "__main__":
    main()
