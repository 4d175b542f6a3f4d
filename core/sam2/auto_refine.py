"""Optional steps of automatic masks: the one-step mask-prompt refinement (``use_m2m``) and the
removal of small holes and islands from low-resolution logits (``min_mask_region_area``)."""

from __future__ import annotations

from typing import Callable

import cv2
import numpy as np
import torch

# what a filled hole / removed island is set to, relative to the mask threshold (the official's)
REGION_FILL_MARGIN = 10.0


def refine_with_mask(
    decode: Callable[..., tuple[torch.Tensor, torch.Tensor]],
    coords: torch.Tensor,
    low_res: torch.Tensor,
    embed: torch.Tensor,
    high_res: list[torch.Tensor] | None,
    batch: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each mask's click again, with its own low-res logits (N, 4h, 4w, clamped to +-32) as the
    mask prompt and one output mask. coords: (N, 2) model-input pixels. -> (N, 4h, 4w), (N,)."""
    outs, ious = [], []
    for start in range(0, coords.shape[0], batch):
        lr, iou = decode(coords[start : start + batch], embed, high_res, low_res[start : start + batch, None], False)
        outs.append(lr[:, 0])
        ious.append(iou[:, 0])
    if not outs:
        return low_res, torch.zeros(0, device=low_res.device)
    return torch.cat(outs), torch.cat(ious)


def fill_small_regions(low_res: torch.Tensor, max_area: int, threshold: float) -> torch.Tensor:
    """(N, h, w) logits -> the same with every 8-connected background component (logit <=
    threshold) of at most ``max_area`` pixels set to threshold + 10 and every such foreground
    component set to threshold - 10 (components found on the input logits)."""
    if max_area <= 0 or low_res.shape[0] == 0:
        return low_res
    fg = (low_res > threshold).cpu().numpy()
    holes = np.zeros(fg.shape, dtype=bool)
    islands = np.zeros(fg.shape, dtype=bool)
    for i, mask in enumerate(fg):
        for region, out in ((~mask, holes), (mask, islands)):
            if not region.any():
                continue
            _, labels, stats, _ = cv2.connectedComponentsWithStats(region.astype(np.uint8), connectivity=8, ltype=cv2.CV_32S)
            small = stats[:, cv2.CC_STAT_AREA] <= max_area
            small[0] = False  # label 0: the pixels outside the region
            out[i] = small[labels]
    result = low_res.clone()
    result[torch.from_numpy(holes).to(low_res.device)] = threshold + REGION_FILL_MARGIN
    result[torch.from_numpy(islands).to(low_res.device)] = threshold - REGION_FILL_MARGIN
    return result
