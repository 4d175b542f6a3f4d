"""The session's model steps: a prompt on one frame, committing prompts, tracking a frame.

Each function works on :class:`ObjectTrack` records and the shared frame features; the
session (core.video.session) decides which to call. All run under ``torch.inference_mode``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from core.allocator import long_lived
from core.masks import encode
from core.sam2.model import ImageFeatures, Sam2Model
from core.types import ObjectMask
from core.video.holes import fill_small_holes
from core.video.state import MemoryEntry, ObjectTrack, PointInputs
from core.video.tracker import (
    chosen_iou,
    condition_on_memory,
    encode_memory,
    gather_memory,
    mask_as_output,
    run_heads,
)


@dataclass
class StepContext:
    """What every step needs besides the objects: the model, the video length, options."""

    model: Sam2Model
    num_frames: int
    fill_hole_area: int
    maskmem_pos: Tensor | None = None  # (1, mem_dim, h, w), set by the first memory encoding

    def memory_pos(self, feats: ImageFeatures) -> Tensor:
        if self.maskmem_pos is None:
            # the encoding depends on the shape only
            h, w = feats.feat_sizes[-1]
            zeros = torch.zeros(1, self.model.mem_dim, h, w, device=self.model.device)
            self.maskmem_pos = self.model.memory_encoder.position_encoding(zeros).to(zeros.dtype)
        return self.maskmem_pos


def _frame_memory(ctx: StepContext, track: ObjectTrack, frame: int, reverse: bool, feats: ImageFeatures):
    return gather_memory(ctx.model, track, frame, reverse, ctx.num_frames, ctx.memory_pos(feats))


def prompt_step(
    ctx: StepContext,
    track: ObjectTrack,
    frame: int,
    feats: ImageFeatures,
    points: PointInputs | None,
    mask: Tensor | None,
    is_init_cond: bool,
    reverse: bool,
    prev_logits: Tensor | None,
) -> MemoryEntry:
    """One object's output for new clicks (``points``) or a mask prompt (``mask``, (1, 1, S, S)).

    The memory is not encoded yet (that happens when propagation starts, see ``commit_pending``).
    prev_logits: (1, 1, 4h, 4w) clamped logits of the frame's previous output, fed with clicks.
    """
    model = ctx.model
    with torch.inference_mode():
        if mask is not None and model.config.use_mask_input_as_output_without_sam:
            out = mask_as_output(model, feats, mask)
        else:
            memory = None if is_init_cond else [_frame_memory(ctx, track, frame, reverse, feats)]
            fused = condition_on_memory(model, feats, memory, 1)
            num_points = 0 if points is None else points.count
            pts = None if points is None else (points.coords.to(model.device), points.labels.to(model.device))
            out = run_heads(
                model, feats, fused, pts, mask if mask is not None else prev_logits, model.use_multimask(is_init_cond, num_points)
            )
        pred = fill_small_holes(out.low_res_masks, ctx.fill_hole_area)
        with long_lived():  # kept across frames: outside the heap of the activations
            pred = pred.clone()
        return MemoryEntry(None, pred, out.obj_ptr, out.object_score_logits, float(chosen_iou(out)[0]))


def commit_pending(ctx: StepContext, track: ObjectTrack, features_of) -> None:
    """Encode the memories of the object's new prompt outputs and commit them (official preflight).

    features_of(frame) -> ImageFeatures. Prompted frames are encoded from their (hole-filled)
    logits, binarised as the video predictor does for frames the user interacted with.
    """
    model = ctx.model
    size = model.image_size
    for temp, store in ((track.temp_non_cond, track.non_cond), (track.temp_cond, track.cond)):
        for frame, entry in temp.items():
            if entry.maskmem is None:
                feats = features_of(frame)
                with torch.inference_mode():
                    high = F.interpolate(entry.pred_masks, size=(size, size), mode="bilinear", align_corners=False)
                    maskmem, pos = encode_memory(model, feats, high, entry.score, binarize=True)
                if ctx.maskmem_pos is None:
                    with long_lived():
                        ctx.maskmem_pos = pos.clone()
                with long_lived():
                    entry.maskmem = maskmem.to(torch.bfloat16)
            store[frame] = entry
        temp.clear()
    for frame in track.cond:
        track.non_cond.pop(frame, None)


def track_frame(
    ctx: StepContext, tracks: list[ObjectTrack], frame: int, reverse: bool, feats: ImageFeatures
) -> dict[int, MemoryEntry]:
    """Track several objects on a frame none of them has a prompt on; store and return outputs.

    Objects whose memories have the same layout go through memory attention and the heads
    together (one batch); each gets a new memory, stored in bfloat16.
    """
    model = ctx.model
    results: dict[int, MemoryEntry] = {}
    with torch.inference_mode():
        memories = [_frame_memory(ctx, t, frame, reverse, feats) for t in tracks]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, mem in enumerate(memories):
            groups.setdefault(mem.layout, []).append(i)
        for members in groups.values():
            batch = [tracks[i] for i in members]
            fused = condition_on_memory(model, feats, [memories[i] for i in members], len(batch))
            out = run_heads(model, feats, fused, None, None, model.use_multimask(False, 0))
            maskmem, pos = encode_memory(model, feats, out.high_res_masks, out.object_score_logits, binarize=False)
            if ctx.maskmem_pos is None:
                with long_lived():
                    ctx.maskmem_pos = pos.clone()
            preds = fill_small_holes(out.low_res_masks, ctx.fill_hole_area)
            ious = chosen_iou(out)
            maskmem = maskmem.to(torch.bfloat16)
            for j, track in enumerate(batch):
                with long_lived():  # kept across frames: outside the heap of the activations
                    entry = MemoryEntry(
                        maskmem=maskmem[j : j + 1].clone(),
                        pred_masks=preds[j : j + 1].clone(),
                        obj_ptr=out.obj_ptr[j : j + 1].clone(),
                        score=out.object_score_logits[j : j + 1].clone(),
                        iou=float(ious[j]),
                    )
                track.non_cond[frame] = entry
                results[track.obj_id] = entry
    return results


def to_object_masks(
    entries: dict[int, MemoryEntry], video_size: tuple[int, int], with_logits: bool
) -> dict[int, ObjectMask]:
    """Outputs -> ObjectMask records: logits resized (bilinear) to the video, thresholded at 0, RLE."""
    if not entries:
        return {}
    ids = list(entries)
    with torch.inference_mode():
        low = torch.cat([entries[i].pred_masks for i in ids], dim=0)
        video = F.interpolate(low, size=video_size, mode="bilinear", align_corners=False)
        binary = (video[:, 0] > 0).cpu().numpy()
        low_np = low[:, 0].float().cpu().numpy() if with_logits else None
    out: dict[int, ObjectMask] = {}
    for k, obj_id in enumerate(ids):
        e = entries[obj_id]
        out[obj_id] = ObjectMask(
            obj_id=obj_id,
            rle=encode(binary[k]),
            object_score=float(e.score.reshape(-1)[0]),
            iou=e.iou,
            low_res_logits=np.ascontiguousarray(low_np[k]) if low_np is not None else None,
        )
    return out
