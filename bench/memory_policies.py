"""Cost per frame of each memory policy against plain SAM 2, in one run (issue 18).

The same random SAM 2.1 model (tiny config unless --size, random weights whose objects are
present), the same bedroom frames, 1 and 3 objects clicked on frame 0, propagated forward over
--frames frames with each policy in turn. Image features are computed once before timing (every
policy reads the same cached features), so the times are the tracking work a policy changes:
memory attention, the heads, the memory encoder and the policy's own decisions. The order of the
policies is rotated between --repeats rounds; the median per-frame time is reported.

  .venv/bin/python bench/memory_policies.py --image-size 256 --frames 8 --repeats 2 --out bench/results/memory_policies_256.json
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FRAMES = ROOT.parent / "shared" / "data" / "frames" / "bedroom"
CLICKS = [(480.0, 300.0), (200.0, 300.0), (760.0, 200.0)]


def main() -> None:
    import torch
    from PIL import Image

    from core.sam2.config import config_for
    from core.types import Direction, Prompt, VideoInfo
    from core.video import VideoSession
    from core.video.memory_policy import POLICY_NAMES, parse_policy
    from tests.sam2_helpers import random_model

    ap = argparse.ArgumentParser()
    ap.add_argument("--size", default="tiny")
    ap.add_argument("--frames", type=int, default=12)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--image-size", type=int, default=1024)
    ap.add_argument("--object-score-bias", type=float, default=6.0,
                    help="the object-score head's last bias: 6 makes objects certain (|logit| > 2: SAM2Long keeps one "
                         "lineage while the pathways agree), about 1 uncertain (SAM2Long branches on every frame)")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args()
    paths = sorted(FRAMES.glob("*.jpg"))[: args.frames]
    images = [np.asarray(Image.open(p).convert("RGB")) for p in paths]

    class Frames:
        info = VideoInfo(images[0].shape[1], images[0].shape[0], len(images), 24.0)

        def __len__(self) -> int:
            return len(images)

        def get(self, i: int) -> np.ndarray:
            return images[i]

    model = random_model(config_for("2.1", args.size).replace(image_size=args.image_size), seed=0)
    head = model.sam_mask_decoder.pred_obj_score_head
    last = head.layers[-1] if hasattr(head, "layers") else head
    with torch.no_grad():
        last.bias.fill_(args.object_score_bias)  # objects present (random weights alone give empty masks)
    session = VideoSession(model, Frames(), feature_cache_frames=len(images) + 1)
    for i in range(len(images)):
        session.prefetch_features(i)
    times: dict[str, list[float]] = {}
    policies = list(POLICY_NAMES)
    for r in range(args.repeats):
        order = policies[r % len(policies):] + policies[: r % len(policies)]
        for n in (1, 3):
            for name in order:
                session.reset()
                for k in range(n):
                    session.set_memory_policy(k + 1, parse_policy(name))
                    x, y = CLICKS[k]
                    session.add_prompt(Prompt(0, k + 1, np.array([[x, y]], np.float32), np.array([1], np.int32)))
                t0 = time.perf_counter()
                done = sum(1 for _ in session.propagate(0, Direction.FORWARD))
                per_frame = (time.perf_counter() - t0) / max(done - 1, 1)
                times.setdefault(f"{name}/{n}", []).append(per_frame)
                print(name, n, f"{per_frame * 1000:.0f} ms/frame", flush=True)
    result = {
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
                   f"{torch.get_num_threads()} threads; shared with other work (loaded)",
        "model": f"SAM 2.1 {args.size}, random weights, {args.image_size}", "frames": len(images), "repeats": args.repeats,
        "object_score_bias": args.object_score_bias,
        "median_s_per_frame": {k: statistics.median(v) for k, v in times.items()},
    }
    for n in (1, 3):
        base = result["median_s_per_frame"][f"sam2/{n}"]
        result[f"relative_to_sam2_{n}_objects"] = {
            name: round(result["median_s_per_frame"][f"{name}/{n}"] / base, 3) for name in policies
        }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
