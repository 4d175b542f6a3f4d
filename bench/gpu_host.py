"""GPU checklist job: the host's per-frame work on the device, exact against the CPU path, and its time.

On the device: a frame's model input (PIL's bicubic resize and the normalisation, as torch
operations: core/video/device_preprocess.py) and the masks of 1 and 3 objects from
low-resolution logits (bilinear to the video, threshold, RLE through run boundaries) at 720p and
1080p; each compared bit for bit with the CPU path (PIL, pycocotools), then timed (median of 20,
synchronised), with the host's share (the frame's copy to the device, the boundaries' copy back
and the RLE string) included. Emits one section, "host_on_device".

Decoding on the GPU's video decoder (``VideoFrames.use_gpu_decoder``, NVDEC through PyAV) is
checked and timed too, on bedroom.mp4 (540p) and on the same frames scaled to 1080p and encoded
here: every frame compared bit for bit with the CPU decoder's, and the host's CPU time per frame
(``time.process_time``, all threads: what the host still spends on a frame the GPU decodes)
against the CPU decoder's. Emits "decode_on_device".

  python bench/gpu_host.py          (part of bench/gpu_checklist.py; on a CPU it checks the same
                                     code on CPU tensors)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gpu_common import VIDEO, emit  # noqa: E402
from core.video.device_preprocess import frame_to_model_input, model_input  # noqa: E402
from core.video.preprocess import frame_to_input  # noqa: E402
from bench.host_overhead import stand_in_logits  # noqa: E402
from core.video.steps import to_object_masks  # noqa: E402

DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


class _Output:
    def __init__(self, logits: torch.Tensor) -> None:
        self.pred_masks, self.score, self.iou = logits, torch.ones(1, 1, device=logits.device), 0.9


def _sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def _median_ms(fn, runs: int = 20) -> float:  # noqa: ANN001
    fn()
    _sync()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - t)
    return round(1000 * statistics.median(times), 3)


def main() -> None:
    rng = np.random.default_rng(0)
    out: dict = {"device": str(DEVICE)}
    for name, (h, w) in {"720p": (720, 1280), "1080p": (1080, 1920)}.items():
        frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        frame[: h // 3] = np.where(rng.random((h // 3, w, 1)) > 0.5, 255, 0).astype(np.uint8)
        want = frame_to_input(frame, 1024)
        got = frame_to_model_input(frame, 1024, DEVICE).cpu()
        row = {"model_input_exact": bool(torch.equal(want, got)),
               "model_input_ms": _median_ms(lambda: frame_to_model_input(frame, 1024, DEVICE)),
               "model_input_device_only_ms": _median_ms(
                   lambda f=torch.from_numpy(frame).to(DEVICE): model_input(f, 1024))}
        for n_obj in (1, 3):
            logits = stand_in_logits(n_obj)  # blobs with ragged edges, as a decoder's masks
            host = to_object_masks({k: _Output(logits[k : k + 1]) for k in range(n_obj)}, (h, w), False)
            dev_entries = {k: _Output(logits[k : k + 1].to(DEVICE)) for k in range(n_obj)}
            dev = to_object_masks(dev_entries, (h, w), False)
            row[f"masks_{n_obj}obj_exact"] = all(host[k].rle == dev[k].rle for k in host)
            row[f"masks_{n_obj}obj_ms"] = _median_ms(lambda e=dev_entries: to_object_masks(e, (h, w), False))
        out[name] = row
    emit("host_on_device", out)
    emit("decode_on_device", decode_rows())


def _decode_all(path: Path, frames: int, gpu: bool) -> tuple[list[np.ndarray], dict]:
    """Frames 1..frames-1 read in order; the process's CPU time (all threads) and wall time per frame."""
    from core.frames.video import VideoFrames

    src = VideoFrames(path, cache_mb=0)
    try:
        on_gpu = src.use_gpu_decoder() if gpu else False
        src.get(0)
        cpu, wall = time.process_time(), time.perf_counter()
        got = [src.get(i) for i in range(1, frames)]
        n = frames - 1
        stats = {"gpu_decoding": on_gpu, "host_cpu_ms_per_frame": round(1000 * (time.process_time() - cpu) / n, 3),
                 "wall_ms_per_frame": round(1000 * (time.perf_counter() - wall) / n, 3)}
    finally:
        src.close()
    return got, stats


def decode_rows() -> dict:
    import tempfile

    from bench.host_overhead import make_1080p

    rows: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "bedroom_1080p.mp4"
        make_1080p(big, 60, source=VIDEO)
        for name, path in (("540p", VIDEO), ("1080p", big)):
            cpu_frames, cpu_stats = _decode_all(path, 60, gpu=False)
            gpu_frames, gpu_stats = _decode_all(path, 60, gpu=True)
            rows[name] = {"cpu": cpu_stats, "gpu": gpu_stats,
                          "frames_equal": sum(bool(np.array_equal(a, b)) for a, b in zip(cpu_frames, gpu_frames)),
                          "frames": len(cpu_frames)}
    return rows


if __name__ == "__main__":
    main()
