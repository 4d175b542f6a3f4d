"""Automatic masks, ours against the official SAM2AutomaticMaskGenerator, on this CPU: wall time and
grid points per second for one image, the same random SAM 2.1 weights and parameters on both
sides, and the check that both gave the same masks (not a test; run by hand in the official
venv, see bench/parity/README.md).

Usage: $SAM2_OFFICIAL_PYTHON bench/auto_mask_speed.py [--size tiny] [--image truck.jpg]
       [--runs 1] [--out JSON]

Default parameters (32 x 32 grid, 64 points a batch). With --runs N > 1 the sides alternate
(ours, official, official, ours, ...) so that a change in the machine's load falls on both.
torch uses every core here (both sides the same count); prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.parity.auto_mask_common import IMAGES, load_rgb, make_models, match, run_official, run_ours, setup, temp_dir  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="tiny")
    parser.add_argument("--image", default="truck.jpg", choices=list(IMAGES))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iou-bias", type=float, default=1.0)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    import torch

    nms = setup()
    image = load_rgb(IMAGES[args.image])
    points = 32 * 32
    times: dict[str, list[float]] = {"ours": [], "official": []}
    with temp_dir() as tmp:
        ours, off = make_models(args.size, args.seed, args.iou_bias, Path(tmp))
        mine = theirs = None
        for run in range(args.runs):
            order = ("ours", "official") if run % 2 == 0 else ("official", "ours")
            for side in order:
                if side == "ours":
                    mine, t = run_ours(ours, image, {})
                else:
                    theirs, t = run_official(off, image, {})
                times[side].append(t)
                print(json.dumps({side: round(t, 1)}), file=sys.stderr, flush=True)
        same = match(mine, theirs)
    best = {side: min(ts) for side, ts in times.items()}
    report = {
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(),
                    "load_average_1min": round(os.getloadavg()[0], 1), "torch": torch.__version__},
        "size": args.size, "image": args.image, "image_hw": list(image.shape[:2]), "points": points, "nms": nms,
        "seconds": {k: [round(x, 1) for x in v] for k, v in times.items()},
        "points_per_second": {k: round(points / v, 2) for k, v in best.items()},
        "ours_vs_official": round(best["official"] / best["ours"], 2),
        "same_masks": same, "filters_ours": vars(mine.stats),
    }
    text = json.dumps(report, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
