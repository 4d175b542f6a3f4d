"""SAM 2's three masks for a single click, as results the annotator can choose from (``Prompt.choice``).

A prompt step SAM 2 answers with several masks (multimask output: one click) keeps one, the best
predicted IoU unless the prompt says which; the others are turned into results here, converted
exactly as the kept one is (hole filling, bilinear resize to the video, threshold at 0), so that
choosing one and giving the click again with that choice shows the very same mask.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.masks import encode
from core.sam2.model import SamHeadsOutput
from core.types import ObjectMask
from core.video.holes import fill_small_holes


def alternative_masks(obj_id: int, out: SamHeadsOutput, fill_hole_area: int,
                      video_size: tuple[int, int]) -> tuple[ObjectMask, ...]:
    """Every multimask output of one object's prompt step (``out``: batch 1, M masks), in SAM 2's
    order, each with its own predicted IoU and the step's object score. video_size: (H, W)."""
    with torch.inference_mode():
        low = out.low_res_multimasks[0][:, None]  # (M, 1, 4h, 4w)
        filled = fill_small_holes(low, fill_hole_area)
        video = F.interpolate(filled, size=video_size, mode="bilinear", align_corners=False)
        binary = (video[:, 0] > 0).cpu().numpy()
        ious = out.ious[0].float().cpu().tolist()
        score = float(out.object_score_logits.reshape(-1)[0])
    return tuple(ObjectMask(obj_id, encode(binary[k]), score, float(ious[k])) for k in range(len(ious)))
