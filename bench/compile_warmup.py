"""Benchmark the optional torch.compile of the image encoder: warm-up (first frame) against later frames.

Prints JSON. Not collected by pytest. Meant for a CUDA machine (where Masklet offers the
option); ``--force`` compiles on any device so the script can be tried elsewhere.

    .venv/bin/python bench/compile_warmup.py [--checkpoint FILE | --size tiny] [--frames 5] [--force]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from core.checkpoints.accelerate import autocast, compile_modules, probe_devices  # noqa: E402
from core.checkpoints.runtime import DeviceChoice, PrecisionChoice, resolve  # noqa: E402
from core.sam2.checkpoint import load_model  # noqa: E402
from core.sam2.config import Sam2Config, config_for  # noqa: E402
from core.sam2.model import Sam2Model  # noqa: E402


def frame_times(model: Sam2Model, runtime_device: str, image_size: int, frames: int, context: object) -> list[float]:
    """Seconds per ``encode_image`` call on a fresh random frame, synchronised on cuda."""
    times = []
    for i in range(frames):
        images = torch.randn(1, 3, image_size, image_size, generator=torch.Generator().manual_seed(i)).to(runtime_device)
        started = time.perf_counter()
        with torch.inference_mode(), context():  # type: ignore[operator]
            model.encode_image(images)
        if runtime_device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, help="an official-format checkpoint (default: random weights)")
    parser.add_argument("--size", default="tiny", help="tiny | small | base_plus | large | tiny_test")
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument("--force", action="store_true", help="compile even where Masklet would not (not cuda)")
    args = parser.parse_args()
    probe = probe_devices()
    runtime = resolve(DeviceChoice.AUTO, PrecisionChoice.AUTO, True, probe)
    if args.force and not runtime.compile:
        runtime = replace(runtime, compile=True)
    if not runtime.compile:
        print(json.dumps({"skipped": "no CUDA GPU here; pass --force to compile on " + runtime.device}))
        return 0
    config = Sam2Config.tiny_test() if args.size == "tiny_test" else config_for("2.1", args.size)
    results = {"device": runtime.device, "gpu": probe.cuda_name, "precision": runtime.precision, "size": args.size}
    for label in ("eager", "compiled"):
        if args.checkpoint:
            model = load_model(args.checkpoint, runtime.device)
        else:
            model = Sam2Model(config).to(runtime.device).eval()
        if label == "compiled":
            compile_modules(model, runtime)
        times = frame_times(model, runtime.device, model.config.image_size, args.frames, lambda: autocast(runtime))
        results[label] = {"first_frame_s": round(times[0], 3), "later_frames_median_s": round(sorted(times[1:])[len(times[1:]) // 2], 4)}
    print(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
