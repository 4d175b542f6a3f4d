"""The pieces of automatic mask generation that are plain array work: point grids, crop boxes,
stability scores, boxes around masks, the crop-edge rule and box non-maximum suppression.

The numbers follow the official SAM 2 ``sam2/utils/amg.py`` and torchvision's CPU ``nms`` (read
for facts, not copied): a result that differs from theirs is a bug. Boxes are x0, y0, x1, y1 in
pixels with x1, y1 the last foreground column and row (inclusive), as the official's.
"""

from __future__ import annotations

import math
from itertools import product

import numpy as np
import torch


def point_grid(n_per_side: int) -> np.ndarray:
    """(n*n, 2) float64 points x, y in [0, 1]: cell centres of an n x n grid, row by row."""
    offset = 1.0 / (2 * n_per_side)
    side = np.linspace(offset, 1.0 - offset, n_per_side)
    xs = np.tile(side[None, :], (n_per_side, 1))
    ys = np.tile(side[:, None], (1, n_per_side))
    return np.stack([xs, ys], axis=-1).reshape(-1, 2)


def layer_point_grids(n_per_side: int, n_layers: int, downscale: int) -> list[np.ndarray]:
    """One grid per crop layer 0..n_layers; layer i has int(n / downscale**i) points per side."""
    return [point_grid(int(n_per_side / (downscale**i))) for i in range(n_layers + 1)]


def crop_boxes(height: int, width: int, n_layers: int, overlap_ratio: float) -> tuple[list[tuple[int, int, int, int]], list[int]]:
    """The crops of an image: ([x0, y0, x1, y1] exclusive ends, layer of each).

    Layer 0 is the whole image; layer i (1..n_layers) has (2**i)**2 crops that overlap by
    ``overlap_ratio`` of the short side scaled by 2 / (2**i) pixels.
    """
    boxes: list[tuple[int, int, int, int]] = [(0, 0, width, height)]
    layers = [0]
    short = min(height, width)
    for layer in range(1, n_layers + 1):
        per_side = 2**layer
        overlap = int(overlap_ratio * short * (2 / per_side))
        crop_w = int(math.ceil((overlap * (per_side - 1) + width) / per_side))
        crop_h = int(math.ceil((overlap * (per_side - 1) + height) / per_side))
        xs = [int((crop_w - overlap) * i) for i in range(per_side)]
        ys = [int((crop_h - overlap) * i) for i in range(per_side)]
        for x0, y0 in product(xs, ys):
            boxes.append((x0, y0, min(x0 + crop_w, width), min(y0 + crop_h, height)))
            layers.append(layer)
    return boxes, layers


def stability_scores(logits: torch.Tensor, mask_threshold: float, offset: float) -> torch.Tensor:
    """(N, H, W) logits -> (N,) float32: pixel count above threshold + offset over the count above
    threshold - offset (the IoU of the two masks, one inside the other). 0/0 gives NaN, which
    fails every threshold, as the official's."""
    inner = (logits > (mask_threshold + offset)).flatten(1).sum(1, dtype=torch.int32)
    outer = (logits > (mask_threshold - offset)).flatten(1).sum(1, dtype=torch.int32)
    return inner / outer


def mask_boxes(masks: torch.Tensor) -> torch.Tensor:
    """(N, H, W) bool -> (N, 4) int64 x0, y0, x1, y1 (inclusive); an empty mask gives zeros."""
    n = masks.shape[0]
    if n == 0:
        return torch.zeros((0, 4), dtype=torch.int64)
    rows = masks.any(dim=2)  # (N, H)
    cols = masks.any(dim=1)  # (N, W)
    boxes = torch.zeros((n, 4), dtype=torch.int64)
    present = rows.any(dim=1)
    if present.any():
        r, c = rows[present], cols[present]
        h, w = r.shape[1], c.shape[1]
        boxes[present, 0] = c.int().argmax(dim=1)
        boxes[present, 1] = r.int().argmax(dim=1)
        boxes[present, 2] = w - 1 - c.flip(1).int().argmax(dim=1)
        boxes[present, 3] = h - 1 - r.flip(1).int().argmax(dim=1)
    return boxes


def near_crop_edge(boxes: torch.Tensor, crop: tuple[int, int, int, int], image_wh: tuple[int, int], atol: float = 20.0) -> torch.Tensor:
    """(N, 4) boxes in crop pixels -> (N,) bool: some side lies within ``atol`` pixels of the
    crop's edge where that edge is not also the image's edge (the mask was probably cut off)."""
    x0, y0, _, _ = crop
    shifted = (boxes + torch.tensor([[x0, y0, x0, y0]], dtype=boxes.dtype)).float()
    crop_t = torch.tensor(crop, dtype=torch.float32)[None]
    image_t = torch.tensor([0, 0, image_wh[0], image_wh[1]], dtype=torch.float32)[None]
    at_crop = torch.isclose(shifted, crop_t, atol=atol, rtol=0)
    at_image = torch.isclose(shifted, image_t, atol=atol, rtol=0)
    return (at_crop & ~at_image).any(dim=1)


def box_nms(boxes: torch.Tensor, scores: torch.Tensor, iou_threshold: float) -> torch.Tensor:
    """Greedy non-maximum suppression: (N, 4) float x0, y0, x1, y1 and (N,) scores -> int64 indices
    kept, best score first (equal scores keep their input order).

    A box is dropped when its IoU with a kept, better box is above ``iou_threshold``; the IoU is
    intersection / (area_a + area_b - intersection) in float32 with areas (x1 - x0) * (y1 - y0),
    as torchvision's CPU kernel computes it (so the same boxes go at the same threshold).
    """
    n = boxes.shape[0]
    if n == 0:
        return torch.zeros((0,), dtype=torch.int64)
    order = torch.sort(scores, descending=True, stable=True).indices
    b = boxes.float()[order]
    x0, y0, x1, y1 = b.unbind(1)
    areas = (x1 - x0) * (y1 - y0)
    # the IoU of every pair (N x N float32); N is at most a few thousand candidate masks
    w = (torch.minimum(x1[:, None], x1[None, :]) - torch.maximum(x0[:, None], x0[None, :])).clamp(min=0)
    h = (torch.minimum(y1[:, None], y1[None, :]) - torch.maximum(y0[:, None], y0[None, :])).clamp(min=0)
    inter = w * h
    over = (inter / (areas[:, None] + areas[None, :] - inter)) > iou_threshold
    suppressed = np.zeros(n, dtype=bool)
    over_np = over.numpy()
    keep: list[int] = []
    for i in range(n):
        if suppressed[i]:
            continue
        keep.append(i)
        suppressed[i + 1 :] |= over_np[i, i + 1 :]
    return order[torch.tensor(keep, dtype=torch.int64)]
