"""Filling of small background holes in mask logits (SAM 2's ``fill_hole_area`` post-processing).

The official video predictor fills every 8-connected background component (logits <= 0) whose
area is at most ``max_area`` pixels with the logit 0.1, using a CUDA-only connected-components
kernel (and silently skips the step elsewhere). This is the same operation with OpenCV's
connected components, on any device: the labelling is exact, so results equal the CUDA ones.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

HOLE_FILL_LOGIT = 0.1


def fill_small_holes(logits: torch.Tensor, max_area: int) -> torch.Tensor:
    """Fill small background components of mask logits.

    logits: (N, 1, H, W) float mask logits (any device). max_area: pixels; 0 disables.
    Returns a new tensor (same device, dtype) where every 8-connected component of pixels with
    logit <= 0 and area <= max_area is set to 0.1; ``logits`` itself is left unchanged.
    """
    if max_area <= 0:
        return logits
    if logits.ndim != 4 or logits.shape[1] != 1:
        raise ValueError(f"expected (N, 1, H, W) logits, got shape {tuple(logits.shape)}")
    background = (logits <= 0).squeeze(1).to("cpu", torch.uint8).numpy()
    holes = np.zeros(background.shape, dtype=bool)
    for i, bg in enumerate(background):
        if not bg.any():
            continue
        count, labels, stats, _ = cv2.connectedComponentsWithStats(bg, connectivity=8, ltype=cv2.CV_32S)
        small = stats[:, cv2.CC_STAT_AREA] <= max_area
        small[0] = False  # label 0 is the foreground of the mask, never a hole
        if small[1:count].any():
            holes[i] = small[labels]
    if not holes.any():
        return logits
    hole_mask = torch.from_numpy(holes).to(logits.device).unsqueeze(1)
    return torch.where(hole_mask, torch.tensor(HOLE_FILL_LOGIT, dtype=logits.dtype, device=logits.device), logits)
