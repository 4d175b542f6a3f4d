"""GPU checklist job: the host's per-frame work on the device, exact against the CPU path, and its time.

On the device: a frame's model input (PIL's bicubic resize and the normalisation, as torch
operations: core/video/device_preprocess.py) and the masks of 1 and 3 objects from
low-resolution logits (bilinear to the video, threshold, RLE through run boundaries) at 720p and
1080p; each compared bit for bit with the CPU path (PIL, pycocotools), then timed (median of 20,
synchronised), with the host's share (the frame's copy to the device, the boundaries' copy back
and the RLE string) included. Emits one section, "host_on_device".

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

from bench.gpu_common import emit  # noqa: E402
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


if __name__ == "__main__":
    main()
