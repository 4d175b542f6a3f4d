"""Benchmark of Masklet's SAM 2 image path on CPU (or another device): image-encoder time,
click-to-mask time on an already encoded image, peak memory. Prints JSON.

Usage: python bench/image_encoder.py [--size tiny] [--runs 5] [--device cpu]
With SAM2_OFFICIAL set and run by the reference venv's interpreter (bench/parity/README.md:
``$SAM2_OFFICIAL_PYTHON bench/image_encoder.py --runs 8``), the official encoder is timed in the
same run on the same weights and input, alternating with ours, and the ratio ours/official is
reported (< 1 means ours is faster). Without SAM2_OFFICIAL: ours only.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.sam2.config import config_for  # noqa: E402
from core.sam2.device import autocast, pick_device  # noqa: E402
from core.sam2.image_predictor import Sam2ImagePredictor, preprocess_image  # noqa: E402
from tests.sam2_helpers import random_model  # noqa: E402

YAML = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def timed(fn) -> float:  # noqa: ANN001
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def timed_cpu(fn) -> tuple[float, float]:  # noqa: ANN001
    """(wall seconds, CPU seconds of this process): CPU time is less disturbed by other load."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn()
    return time.perf_counter() - t0, time.process_time() - c0


def encoder_gflop(model, x: torch.Tensor) -> dict[str, float]:  # noqa: ANN001
    """GFLOP of one encoder run by kind (a multiply and an add counted apart): the linear layers,
    convolutions, attention and other matrix products, counted from the shapes of the calls the
    encoder makes (the elementwise work is left out). The encoder's time on a host cannot go
    below this arithmetic divided by the host's rate for large products."""
    from math import prod

    from torch.utils._python_dispatch import TorchDispatchMode

    counts = {"linear": 0.0, "conv": 0.0, "attention": 0.0, "matmul": 0.0}
    aten = torch.ops.aten

    class Count(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
            out = func(*args, **(kwargs or {}))
            if func in (aten.linear.default, torch.ops.mkldnn._linear_pointwise.default):  # core/sam2/linear.py
                counts["linear"] += 2 * out.numel() * args[1].shape[1]
            elif func is aten.conv2d.default:
                w = args[1]
                counts["conv"] += 2 * out.numel() * prod(w.shape[1:])
            elif func is aten.scaled_dot_product_attention.default:
                q, k, v = args[:3]
                counts["attention"] += 2 * q.numel() * k.shape[-2] + 2 * q.shape[:-1].numel() * k.shape[-2] * v.shape[-1]
            elif func is aten.matmul.default:
                counts["matmul"] += 2 * out.numel() * args[0].shape[-1]
            return out

    with torch.inference_mode(), Count():  # the calls as the encoder makes them
        model.encode_image(x)
    return {k: v / 1e9 for k, v in counts.items()}


def build_official(path: str, size: str, state_dict: dict):  # noqa: ANN201, ANN001
    from bench.parity.official import import_official

    import_official(path)
    from sam2.build_sam import build_sam2

    model = build_sam2(f"configs/sam2.1/sam2.1_hiera_{YAML[size]}.yaml", None, device="cpu")
    model.load_state_dict(state_dict, strict=True)
    return model.eval()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny", choices=list(YAML))
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    device = pick_device(args.device)
    rss_start = peak_rss_mb()
    from core.allocator import activations_on_heap

    activations_on_heap()  # as every VideoSession sets it (core/allocator.py): a run reuses the last one's pages
    model = random_model(config_for("2.1", args.size), seed=0).to(device)
    image = np.asarray(np.random.default_rng(0).integers(0, 256, (768, 1024, 3)), dtype=np.uint8)
    x = preprocess_image(image, model.image_size, device)

    def ours() -> None:
        with torch.inference_mode(), autocast(device):
            model.encode_image(x)
        if device.type == "cuda":
            torch.cuda.synchronize()

    official_model = None
    official_path = os.environ.get("SAM2_OFFICIAL")
    ours()  # warm-up
    rss_ours = peak_rss_mb()
    gflop = encoder_gflop(model, x) if device.type == "cpu" else None
    from bench.host import host_gflops

    host_before = host_gflops() if device.type == "cpu" else None

    predictor = Sam2ImagePredictor(model)
    set_image_s = timed(lambda: predictor.set_image(image))
    clicks = [timed(lambda: predictor.predict(points=[[500 + 7 * i, 400]], labels=[1])) for i in range(max(args.runs, 5))]
    rss_ours = max(rss_ours, peak_rss_mb())

    if official_path and device.type == "cpu":
        official_model = build_official(official_path, args.size, model.state_dict())

        def official() -> None:
            with torch.no_grad():
                official_model.forward_image(x)

        official()  # warm-up
    ours_times, official_times, ours_cpu, official_cpu = [], [], [], []
    for i in range(args.runs):  # alternate (ABBA), so that both see the same machine load
        order = [("ours", ours), ("official", official)] if official_model is not None else [("ours", ours)]
        for name, fn in order if i % 2 == 0 else order[::-1]:
            wall, cpu = timed_cpu(fn)
            (ours_times if name == "ours" else official_times).append(wall)
            (ours_cpu if name == "ours" else official_cpu).append(cpu)

    result: dict[str, object] = {
        "model": f"sam2.1 {args.size} (random weights)",
        "device": str(device),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "input": f"{model.image_size}x{model.image_size}",
        "encoder_s_median": round(statistics.median(ours_times), 3),
        "encoder_s_min": round(min(ours_times), 3),
        "encoder_s_all": [round(t, 3) for t in ours_times],
        "encoder_cpu_s_median": round(statistics.median(ours_cpu), 3),
        "encoder_gflop": None if gflop is None else {k: round(v, 1) for k, v in gflop.items()},
        # the encoder's arithmetic rate against the host's for one large product before and after:
        # how far the encoder (and so a first click) is from this host's floor
        "encoder_gflops_median": None if gflop is None else round(sum(gflop.values()) / statistics.median(ours_times), 1),
        "host_gemm_gflops_before": host_before,
        "host_gemm_gflops_after": host_gflops() if device.type == "cpu" else None,
        "set_image_s": round(set_image_s, 3),
        "click_to_mask_ms_median": round(1000 * statistics.median(clicks), 1),
        "peak_rss_mb_ours": round(rss_ours, 1),
        "rss_mb_before_model": round(rss_start, 1),
    }
    if official_times:
        result["official_encoder_s_median"] = round(statistics.median(official_times), 3)
        result["official_encoder_s_min"] = round(min(official_times), 3)
        result["official_encoder_s_all"] = [round(t, 3) for t in official_times]
        result["ratio_ours_over_official_median"] = round(statistics.median(ours_times) / statistics.median(official_times), 3)
        result["ratio_ours_over_official_min"] = round(min(ours_times) / min(official_times), 3)
        result["official_encoder_cpu_s_median"] = round(statistics.median(official_cpu), 3)
        result["ratio_ours_over_official_cpu_median"] = round(statistics.median(ours_cpu) / statistics.median(official_cpu), 3)
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
