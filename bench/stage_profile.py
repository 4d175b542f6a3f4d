"""Where the time of a propagated frame goes, per stage, ours and the official (prints JSON).

The same run as bench/video_speed.py (random SAM 2.1 tiny weights, bedroom frames, clicks on frame
0, forward over --frames frames), with the four stages of a tracked frame timed where they are
called: the image encoder, memory attention, the mask decoder and the memory encoder; "other" is
the rest of the frame (frame decoding and resizing, prompt encoder, mask upsampling, RLE, policy
bookkeeping). Per stage: wall seconds, CPU seconds of the whole process (all threads; spinning
threads count), minor page faults, voluntary and involuntary context switches, summed over the
frames (frame 0, the prompted one, excluded) and divided by their number.

  .venv/bin/python bench/stage_profile.py [--frames 6] [--objects 1] [--threads N] [--contend N]
      [--official DIR --official-python PY]

Both sides' models have the four modules under the same names (image_encoder, memory_attention,
sam_mask_decoder, memory_encoder); ``instrument`` replaces each module's ``forward`` on the
instance, so every call, through ``__call__`` or not, is timed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

STAGES = ("image_encoder", "memory_attention", "sam_mask_decoder", "memory_encoder")
FIELDS = ("wall_s", "cpu_s", "minflt", "nvcsw", "nivcsw")


def _sample() -> tuple[float, ...]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime + r.ru_stime, r.ru_minflt, r.ru_nvcsw, r.ru_nivcsw


class StageClock:
    """Sums of FIELDS per stage since the last ``reset``; nested calls count in the outer stage."""

    def __init__(self) -> None:
        self.totals = {name: [0.0] * len(FIELDS) for name in (*STAGES, "frame")}
        self._depth = 0

    def reset(self) -> None:
        for v in self.totals.values():
            v[:] = [0.0] * len(FIELDS)

    def wrap(self, name: str, fn):
        def timed(*args, **kwargs):
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            start = _sample()
            try:
                return fn(*args, **kwargs)
            finally:
                end = _sample()
                self._depth -= 1
                tot = self.totals[name]
                for i in range(len(FIELDS)):
                    tot[i] += end[i] - start[i]

        return timed

    def add_frame(self, start: tuple[float, ...], end: tuple[float, ...]) -> None:
        tot = self.totals["frame"]
        for i in range(len(FIELDS)):
            tot[i] += end[i] - start[i]

    def report(self, frames: int) -> dict:
        out = {name: {f: round(v / frames, 4) for f, v in zip(FIELDS, tot)} for name, tot in self.totals.items()}
        other = [out["frame"][f] - sum(out[s][f] for s in STAGES) for f in FIELDS]
        out["other"] = {f: round(v, 4) for f, v in zip(FIELDS, other)}
        return out


def instrument(model, clock: StageClock) -> None:
    for name in STAGES:
        module = getattr(model, name)
        module.forward = clock.wrap(name, module.forward)


def timed_frames(frames_iter, clock: StageClock) -> int:
    """Run the propagation iterator, the first frame (the prompted one) untimed; frames timed."""
    n = 0
    start = _sample()
    for k, _ in enumerate(frames_iter):
        end = _sample()
        if k == 0:
            clock.reset()
        else:
            clock.add_frame(start, end)
            n += 1
        start = _sample()
    return n


OFFICIAL = r'''
import json, sys
import numpy as np, torch
sys.path.insert(0, sys.argv[1])
from bench.stage_profile import StageClock, instrument, timed_frames
from bench.parity.official import import_official
import_official(sys.argv[2])
from sam2.build_sam import build_sam2_video_predictor
ckpt, folder, frames, n_obj, threads = sys.argv[3], sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
clicks = json.loads(sys.argv[8])
if threads: torch.set_num_threads(threads)
torch.set_grad_enabled(False)
p = build_sam2_video_predictor("configs/sam2.1/sam2.1_hiera_t.yaml", ckpt, device="cpu")
state = p.init_state(folder)
for i in range(n_obj):
    p.add_new_points_or_box(state, 0, i + 1, points=np.array([clicks[i]], np.float32), labels=np.array([1], np.int32))
clock = StageClock(); instrument(p, clock)
n = timed_frames(((f, m) for f, _, m in p.propagate_in_video(state, max_frame_num_to_track=frames)), clock)
print("RESULT " + json.dumps(clock.report(n)))
'''


def ours(ckpt: Path, frames: int, n_obj: int) -> dict:
    from bench.video_speed import CLICKS, FOLDER, click
    from core.frames import open_frames
    from core.sam2.checkpoint import load_model
    from core.types import Direction
    from core.video import VideoSession, warm_up

    model = load_model(ckpt)
    warm_up(model, runs=2)
    session = VideoSession(model, open_frames(FOLDER))
    for i in range(n_obj):
        session.add_prompt(click(0, i + 1, CLICKS[i]))
    clock = StageClock()
    instrument(model, clock)
    n = timed_frames(session.propagate(direction=Direction.FORWARD, end_frame=frames), clock)
    return clock.report(n)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--objects", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0,
                    help="torch threads, both sides (0: the official torch's default, ours adapts: core/cpu_threads.py)")
    ap.add_argument("--contend", type=int, default=0, metavar="N", help="N busy processes through the run")
    ap.add_argument("--official", default=os.environ.get("SAM2_OFFICIAL"))
    ap.add_argument("--official-python", default=os.environ.get("SAM2_OFFICIAL_PYTHON"))
    ap.add_argument("--sides", default="ours,official", help="which sides to run, comma-separated")
    args = ap.parse_args()
    import torch

    from bench.video_speed import CLICKS, FOLDER, busy_processes
    from core.sam2.config import config_for
    from tests.sam2_helpers import save_random_checkpoint

    if args.threads:
        torch.set_num_threads(args.threads)
        os.environ["MASKLET_THREADS"] = "fixed"
    sides = args.sides.split(",")
    result: dict = {"frames": args.frames, "objects": args.objects, "threads": torch.get_num_threads(),
                    "contend": args.contend, "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory() as tmp, busy_processes(args.contend):
        ckpt = save_random_checkpoint(Path(tmp) / "tiny.pt", config_for("2.1", "tiny"))
        if "ours" in sides:
            result["ours"] = ours(ckpt, args.frames, args.objects)
            print(json.dumps({"ours": result["ours"]["frame"]}), file=sys.stderr, flush=True)
        if "official" in sides and args.official and args.official_python:
            proc = subprocess.run(
                [args.official_python, "-c", OFFICIAL, str(ROOT), args.official, str(ckpt), str(FOLDER),
                 str(args.frames), str(args.objects), str(args.threads), json.dumps(CLICKS)],
                capture_output=True, text=True, check=False,
            )
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
            result["official" if lines else "official_error"] = (
                json.loads(lines[-1][7:]) if lines else proc.stderr[-2000:])
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
