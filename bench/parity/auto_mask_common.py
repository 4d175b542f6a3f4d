"""Shared by bench/parity/auto_mask_parity.py and bench/auto_mask_speed.py (not a test; run in the
official SAM 2's venv, see bench/parity/README.md): the same random SAM 2.1 weights on both sides,
a reference NMS kernel for the official's torchvision call, both generators on one image, and
the one-to-one matching of their masks.

Random weights rarely give masks that pass the default thresholds (predicted IoU > 0.8,
stability >= 0.95): the IoU head's last bias is raised by ``iou_bias`` (same checkpoint on both
sides; every tensor stays non-zero) so that a fraction of the masks passes each filter.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.parity.official import import_official  # noqa: E402
from core.masks import encode  # noqa: E402
from core.sam2.auto_masks import AutoMaskGenerator  # noqa: E402
from core.sam2.auto_params import AutoMaskParams  # noqa: E402
from core.sam2.checkpoint import load_model, save_checkpoint  # noqa: E402
from core.sam2.config import config_for  # noqa: E402
from tests.sam2_helpers import random_model  # noqa: E402

YAML = {"tiny": "t", "small": "s", "base_plus": "b+", "large": "l"}
DATA = ROOT.parent / "shared" / "data"
IMAGES = {"truck.jpg": DATA / "images" / "truck.jpg", "groceries.jpg": DATA / "images" / "groceries.jpg", "bedroom/00000.jpg": DATA / "frames" / "bedroom" / "00000.jpg"}
_LIB = None


def load_rgb(path: Path) -> np.ndarray:
    from PIL import Image

    return np.array(Image.open(path).convert("RGB"))


def reference_nms(dets: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """torchvision's CPU nms as a plain loop (written from its documented rule, independent of
    ours): stable descending score order, areas (x1 - x0) * (y1 - y0), drop IoU > threshold."""
    if dets.numel() == 0:
        return torch.zeros((0,), dtype=torch.int64)
    order = torch.sort(scores, stable=True, descending=True).indices.tolist()
    d = dets.float()
    x0, y0, x1, y1 = (d[:, i] for i in range(4))
    areas = (x1 - x0) * (y1 - y0)
    suppressed = [False] * len(order)
    keep = []
    for a, i in enumerate(order):
        if suppressed[a]:
            continue
        keep.append(i)
        for b in range(a + 1, len(order)):
            j = order[b]
            if suppressed[b]:
                continue
            w = torch.clamp(torch.minimum(x1[i], x1[j]) - torch.maximum(x0[i], x0[j]), min=0)
            h = torch.clamp(torch.minimum(y1[i], y1[j]) - torch.maximum(y0[i], y0[j]), min=0)
            inter = w * h
            if float(inter / (areas[i] + areas[j] - inter)) > iou_threshold:
                suppressed[b] = True
    return torch.tensor(keep, dtype=torch.int64)


def install_reference_nms() -> str:
    """Give torchvision::nms a CPU kernel when its own (a CUDA build's) cannot load; -> which runs."""
    global _LIB
    import torchvision  # noqa: F401  (defines the schema through the shared fix)

    try:
        torch.ops.torchvision.nms(torch.zeros((1, 4)), torch.zeros(1), 0.5)
        return "torchvision"
    except (NotImplementedError, RuntimeError):
        _LIB = torch.library.Library("torchvision", "IMPL")
        _LIB.impl("nms", reference_nms, "CPU")
        import torchvision.extension

        torchvision.extension._has_ops = lambda: True  # its ops check looks for the C++ library only
        return "reference (bench/parity/auto_mask_common.py)"


def make_models(size: str, seed: int, iou_bias: float, tmp: Path):  # noqa: ANN201
    """(ours, official) SAM 2.1 ``size`` with the same random weights, IoU head bias raised."""
    from sam2.build_sam import build_sam2

    model = random_model(config_for("2.1", size), seed=seed)
    with torch.no_grad():
        model.sam_mask_decoder.iou_prediction_head.layers[-1].bias.add_(iou_bias)
    ckpt = tmp / f"{size}_{seed}.pt"
    save_checkpoint(model, ckpt)
    ours = load_model(ckpt)
    off = build_sam2(f"configs/sam2.1/sam2.1_hiera_{YAML[size]}.yaml", None, device="cpu")
    off.load_state_dict(torch.load(ckpt, map_location="cpu", weights_only=True)["model"], strict=True)
    return ours, off.eval()


def run_official(off, image: np.ndarray, params: dict) -> tuple[list[dict], float]:  # noqa: ANN001
    from sam2.automatic_mask_generator import SAM2AutomaticMaskGenerator

    gen = SAM2AutomaticMaskGenerator(off, output_mode="binary_mask", **params)
    t0 = time.perf_counter()
    out = gen.generate(image)
    return out, time.perf_counter() - t0


def run_ours(ours, image: np.ndarray, params: dict):  # noqa: ANN001, ANN201
    gen = AutoMaskGenerator(ours, AutoMaskParams(**params))
    t0 = time.perf_counter()
    out = gen.generate(image)
    return out, time.perf_counter() - t0


def match(result, official: list[dict]) -> dict[str, object]:  # noqa: ANN001
    """One-to-one matching by mask IoU (each official mask to its best of ours, all distinct)."""
    from pycocotools import mask as mask_utils

    mine = result.masks
    res: dict[str, object] = {"ours": len(mine), "official": len(official)}
    if not mine or not official:
        res["all_matched"] = len(mine) == len(official)
        return res
    a = [m.rle._coco() for m in mine]
    b = [encode(o["segmentation"])._coco() for o in official]
    ious = np.asarray(mask_utils.iou(a, b, [0] * len(b))).reshape(len(a), len(b))  # (ours, official)
    empty_a = np.array([m.area == 0 for m in mine])
    empty_b = np.array([not o["segmentation"].any() for o in official])
    ious[np.ix_(empty_a, empty_b)] = 1.0  # two empty masks are the same mask (pycocotools says 0)
    best = ious.argmax(axis=0)
    matched_iou = ious[best, np.arange(len(official))]
    d_iou = [abs(mine[i].predicted_iou - o["predicted_iou"]) for i, o in zip(best, official)]
    d_stab = [abs(mine[i].stability_score - o["stability_score"]) for i, o in zip(best, official)]
    d_point = [float(np.abs(np.subtract(mine[i].point, o["point_coords"][0])).max()) for i, o in zip(best, official)]
    res.update(
        one_to_one=len(set(best.tolist())) == len(official) == len(mine),
        min_mask_iou=float(matched_iou.min()),
        max_abs_diff_predicted_iou=float(max(d_iou)),
        max_abs_diff_stability=float(max(d_stab)),
        max_abs_diff_point=max(d_point),
        same_order=bool((best == np.arange(len(official))).all()),
    )
    if len(mine) == len(official):  # the same order on both sides: mask i against mask i
        diag = ious[np.arange(len(mine)), np.arange(len(mine))]
        res.update(
            pairwise_min_mask_iou=float(diag.min()),
            pairwise_max_abs_diff_predicted_iou=float(max(abs(m.predicted_iou - o["predicted_iou"]) for m, o in zip(mine, official))),
            pairwise_max_abs_diff_stability=float(np.nanmax([abs(m.stability_score - o["stability_score"]) for m, o in zip(mine, official)])),
        )
        if not res["one_to_one"]:  # identical masks among the candidates: match in order instead
            res["one_to_one"] = True
            res["min_mask_iou"] = res["pairwise_min_mask_iou"]
            res["max_abs_diff_predicted_iou"] = res["pairwise_max_abs_diff_predicted_iou"]
            res["max_abs_diff_stability"] = res["pairwise_max_abs_diff_stability"]
    res["all_matched"] = bool(res["one_to_one"] and res["min_mask_iou"] >= 0.999 and res["max_abs_diff_predicted_iou"] <= 1e-4 and res["max_abs_diff_stability"] <= 1e-4)
    return res


def setup() -> str:
    import_official()
    torch.set_grad_enabled(False)
    return install_reference_nms()


def temp_dir() -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory()
