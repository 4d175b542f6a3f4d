"""What the host does per propagated frame around the model, on one core (prints JSON).

Everything of a tracked frame but the network, with the functions the app runs, in the order it
runs them: decode the frame (our frame source, as the engine reads it), turn it into the model's
input (resize to 1024 as SAM 2 does, normalise), [the model: a stand-in returning fixed
low-resolution logits, one blob per object, not timed], masks from those logits at video size
(bilinear, threshold, COCO RLE), the document update of the run (entries, the undo record, the
observed document's signal) and the timeline's update (the lane's frame table and its run-length
summary). The process is pinned to one core and torch to one thread.

Two totals: with the model on this CPU (every stage above on the host), and the host's share
when the model is on a GPU (core/video/device_preprocess.py moves the resize, normalisation,
mask interpolation, threshold and run boundaries to the device, and the GPU's video decoder
decodes; the host keeps laying the decoded NV12 frame out as planar 4:2:0 and converting it to
RGB, handing the frame to torch, the RLE strings from the boundaries, the document and the
timeline).

Videos: 720p is ../shared/data/videos/01_dog.mp4 (a camera recording); 1080p is the same frames
scaled up and encoded here as H.264 (crf 18), so both decode real content.

  .venv/bin/python bench/host_overhead.py [--frames 60] [--objects 1 3] [--sizes 720p 1080p]
      [--out bench/results/host_overhead.json]

Goal (issue 22): at most 4 ms per frame per object at 1080p, so a GPU at 180 frames/s never
waits on the host.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DOG = ROOT.parent / "shared" / "data" / "videos" / "01_dog.mp4"
STAGES = ("decode", "model_input", "masks", "document", "timeline")
# With the model on a GPU, model_input and the masks' interpolation, threshold and run boundaries
# run on the device (core/video/device_preprocess.py), and the video decodes on the GPU's decoder
# (core/frames/video.py: use_gpu_decoder); what stays on the host per frame: the decoded NV12
# frame laid out as planar 4:2:0 and turned into RGB ("gpu_decoded_to_rgb"; the decoder's own
# calls and the frame's download are timed on a GPU by bench/gpu_host.py), and these:
GPU_HOST_STAGES = ("gpu_decoded_to_rgb", "frame_to_tensor", "rle_from_boundaries", "document", "timeline")


@dataclass
class StandInOutput:
    """What to_object_masks reads of the engine's per-object output."""

    pred_masks: object  # (1, 1, 256, 256) float32 torch tensor
    score: object  # (1, 1)
    iou: float


def make_1080p(path: Path, frames: int, source: Path = DOG) -> None:
    """``frames`` frames of ``source`` scaled to 1920 x 1080 and encoded as H.264 (crf 18) at ``path``."""
    import av

    src = av.open(str(source))
    out = av.open(str(path), "w")
    try:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = 1920, 1080, "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "18"}
        for i, frame in enumerate(src.decode(video=0)):
            if i >= frames:
                break
            big = frame.reformat(width=1920, height=1080, format="yuv420p")
            big.pts, big.time_base = i, Fraction(1, 30)
            for p in stream.encode(big):
                out.mux(p)
        for p in stream.encode():
            out.mux(p)
    finally:
        out.close()
        src.close()


def stand_in_logits(n_obj: int, side: int = 256):
    """(n_obj, 1, side, side) float32 logits: an ellipse per object (positive inside), with noise
    so the mask edges are ragged like a real decoder's."""
    import torch

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:side, 0:side].astype(np.float32) / side
    out = []
    for k in range(n_obj):
        cy, cx = 0.3 + 0.2 * k, 0.35 + 0.15 * k
        d = ((yy - cy) / 0.18) ** 2 + ((xx - cx) / 0.12) ** 2
        out.append(4.0 * (1.0 - d) + rng.normal(0, 0.6, d.shape).astype(np.float32))
    return torch.from_numpy(np.stack(out)[:, None].astype(np.float32))


def run(path: Path, n_obj: int, frames: int) -> dict:
    import torch

    from annotator.document import AnnotationDocument, VideoRef
    from annotator.observed_document import ObservedDocument
    from annotator.session_run import PropagationRun
    from core.frames import open_frames
    from core.frames.colour import frame_to_rgb
    from core.types import FrameResult
    from core.video.device_preprocess import rle_from_boundaries, run_boundaries
    from core.video.preprocess import frame_to_input
    from core.video.steps import to_object_masks
    from ui.timeline_lanes import LaneStore

    source = open_frames(path)
    n = min(frames, len(source))
    h, w = int(source.info.height), int(source.info.width)
    doc = AnnotationDocument(VideoRef(str(path), w, h, len(source), 30.0))
    for k in range(n_obj):
        doc.add_object()
    observed = ObservedDocument(doc)
    lanes = LaneStore()
    ids = sorted(doc.objects)
    lanes.rebuild(doc, ids, len(source))
    logits = stand_in_logits(n_obj)
    outputs = {obj_id: StandInOutput(logits[k : k + 1], torch.ones(1, 1), 0.9) for k, obj_id in enumerate(ids)}
    run_state = PropagationRun(1, tuple(ids))
    totals = dict.fromkeys(STAGES, 0.0)
    gpu_host = dict.fromkeys(("gpu_decoded_to_rgb", "frame_to_tensor", "rle_from_boundaries"), 0.0)
    nv12 = gpu_decoded_frames(path, n)
    source.get(0)  # the first frame opens the decoder: not a per-frame cost
    for i in range(1, n):
        t0 = time.perf_counter()
        frame = source.get_shared(i)  # as the engine reads it (core/video/session.py)
        t1 = time.perf_counter()
        frame_to_input(frame, 1024)
        t2 = time.perf_counter()
        result = FrameResult(i, to_object_masks(outputs, (h, w), with_logits=False))
        t3 = time.perf_counter()
        observed.set_masks(run_state.accept(doc, result))
        t4 = time.perf_counter()
        for obj_id in ids:
            lanes.update(doc, obj_id, [i])
            lanes.runs(obj_id)
        t5 = time.perf_counter()
        for name, dt in zip(STAGES, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
            totals[name] += dt
        # The GPU configuration's host-only steps: the frame handed to torch (the copy to the
        # device is the device's), and the RLE strings from boundaries the device found
        # (found here on the CPU, untimed).
        t6 = time.perf_counter()
        with warnings.catch_warnings():  # the frame is lent read-only, as to the engine
            warnings.simplefilter("ignore", UserWarning)
            torch.from_numpy(np.ascontiguousarray(frame))
        t7 = time.perf_counter()
        gpu_host["frame_to_tensor"] += t7 - t6
        with torch.inference_mode():
            video = torch.nn.functional.interpolate(logits, size=(h, w), mode="bilinear", align_corners=False)[:, 0] > 0
        bounds = [run_boundaries(video[k]) for k in range(n_obj)]
        t8 = time.perf_counter()
        for changes, first in bounds:
            rle_from_boundaries(changes, first, h, w)
        gpu_host["rle_from_boundaries"] += time.perf_counter() - t8
        nv, planar = nv12[i]
        t9 = time.perf_counter()
        frame_to_rgb(nv, planar)
        gpu_host["gpu_decoded_to_rgb"] += time.perf_counter() - t9
    source.close()
    per_frame = {name: round(1000 * v / (n - 1), 3) for name, v in totals.items()}
    per_frame.update({name: round(1000 * v / (n - 1), 3) for name, v in gpu_host.items()})
    total = sum(per_frame[k] for k in STAGES)
    gpu_total = sum(per_frame[k] for k in GPU_HOST_STAGES)
    return {"size": f"{w}x{h}", "objects": n_obj, "frames": n - 1, "ms_per_frame": per_frame,
            "cpu_model": {"total_ms_per_frame": round(total, 2), "ms_per_frame_per_object": round(total / n_obj, 2)},
            "gpu_model_host_share": {"stages": list(GPU_HOST_STAGES), "total_ms_per_frame": round(gpu_total, 2),
                                     "ms_per_frame_per_object": round(gpu_total / n_obj, 2),
                                     "without_decode_ms_per_frame_per_object":
                                         round((gpu_total - per_frame["gpu_decoded_to_rgb"]) / n_obj, 2)}}


def gpu_decoded_frames(path: Path, n: int) -> list:
    """Frames 0..n-1 of ``path`` as a GPU's decoder hands them over (NV12 in host memory), with
    the planar format a CPU decoder gives: H.264 decodes to the same samples on both."""
    import av

    from tests.video_helpers import as_nv12

    out = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            out.append((as_nv12(frame), frame.format.name))
            if len(out) == n:
                break
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--objects", type=int, nargs="+", default=[1, 3])
    ap.add_argument("--sizes", nargs="+", default=["720p", "1080p"], choices=["720p", "1080p"])
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core, the readers' threads too
    import torch

    torch.set_num_threads(1)
    result: dict = {"machine": {"cpu": platform.processor() or platform.machine(), "cores_used": 1,
                                "load_before": os.getloadavg()[0]}, "runs": []}
    with tempfile.TemporaryDirectory() as tmp:
        videos = {"720p": DOG}
        if "1080p" in args.sizes:
            videos["1080p"] = Path(tmp) / "dog_1080p.mp4"
            make_1080p(videos["1080p"], args.frames)
        for size in args.sizes:
            for n_obj in args.objects:
                r = run(videos[size], n_obj, args.frames)
                print(json.dumps(r), file=sys.stderr, flush=True)
                result["runs"].append(r)
    result["machine"]["load_after"] = os.getloadavg()[0]
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
