"""Automatic masks, ours against the official SAM2AutomaticMaskGenerator, mask for mask (not a
test; run by hand in the official venv, see bench/parity/README.md).

Usage: $SAM2_OFFICIAL_PYTHON bench/parity/auto_mask_parity.py [--sizes tiny large]
       [--images truck.jpg groceries.jpg bedroom/00000.jpg] [--sets default crops] [--out JSON]

For each size, image and parameter set: both generators on the same random SAM 2.1 weights
(bench/parity/auto_mask_common.py), their masks matched one to one (mask IoU, predicted IoU and
stability score differences), our count of the masks each filter removed, and both wall times.
Prints JSON, and writes it after every case to --out when given.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.parity.auto_mask_common import IMAGES, load_rgb, make_models, match, run_official, run_ours, setup, temp_dir  # noqa: E402

SETS = {
    "default": {},
    # crops: one crop layer (4 crops), 16 points per side on the image and 8 in each crop
    "crops": {"points_per_side": 16, "crop_n_layers": 1, "crop_n_points_downscale_factor": 2},
    # many masks: random weights give nearly whole-image masks above the default thresholds, which
    # box NMS folds into one; looser thresholds keep dozens of distinct masks to match one to one
    "many": {"points_per_side": 16, "pred_iou_thresh": 0.3, "stability_score_thresh": 0.3, "box_nms_thresh": 0.9},
    # every candidate: no threshold, NMS that removes nothing; each of the 768 masks and its two
    # scores compared (pairwise in output order: identical masks make best-IoU matching ambiguous)
    "all": {"points_per_side": 16, "pred_iou_thresh": 0.0, "stability_score_thresh": 0.0, "box_nms_thresh": 1.0},
    # crops with a loose stability threshold: the large model's random masks all fail 0.95, which
    # leaves nothing for the NMS between crops (and crashes the official, see below)
    "crops_loose": {"points_per_side": 16, "crop_n_layers": 1, "crop_n_points_downscale_factor": 2, "stability_score_thresh": 0.3},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=["tiny", "large"])
    parser.add_argument("--images", nargs="+", default=list(IMAGES))
    parser.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iou-bias", type=float, default=1.0, help="added to the IoU head's last bias on both sides")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--no-onednn", action="store_true", help="our linear layers through F.linear (bit-identical image path)")
    args = parser.parse_args()
    import torch

    if args.no_onednn:
        from core.sam2.linear import set_onednn_linear

        set_onednn_linear(False)

    report: dict[str, object] = {"torch": torch.__version__, "nms": setup(), "seed": args.seed, "iou_bias": args.iou_bias, "onednn": not args.no_onednn, "sets": {k: SETS[k] for k in args.sets}, "results": {}}
    with temp_dir() as tmp:
        for size in args.sizes:
            ours, off = make_models(size, args.seed, args.iou_bias, Path(tmp))
            for set_name in args.sets:
                for name in args.images:
                    image = load_rgb(IMAGES[name])
                    try:
                        theirs, t_off = run_official(off, image, SETS[set_name])
                    except Exception as exc:  # noqa: BLE001  (with crops and no mask left the official raises IndexError)
                        theirs, t_off, error = None, None, f"{type(exc).__name__}: {exc}"
                    mine, t_ours = run_ours(ours, image, SETS[set_name])
                    case = match(mine, theirs) if theirs is not None else {"ours": len(mine.masks), "official_error": error, "all_matched": False}
                    case.update(filters=vars(mine.stats), seconds_ours=round(t_ours, 1), seconds_official=None if t_off is None else round(t_off, 1))
                    report["results"][f"{size}/{set_name}/{name}"] = case  # type: ignore[index]
                    print(json.dumps({f"{size}/{set_name}/{name}": case}), file=sys.stderr, flush=True)
                    if args.out:
                        args.out.write_text(json.dumps(report, indent=1))
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
