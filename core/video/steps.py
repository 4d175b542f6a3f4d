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

from core.allocator import kept_tensor
from core.masks import encode
from core.sam2.model import ImageFeatures, Sam2Model
from core.types import ObjectMask
from core.video.device_preprocess import rle_of
from core.video.holes import fill_small_holes
from core.video.state import MemoryEntry, ObjectTrack, PointInputs
from core.video.tracker import (
    chosen_iou,
    condition_on_memory,
    encode_memory,
    mask_as_output,
    memory_tokens,
    run_heads,
)
from core.video.policies import policy_for
from core.video.policies.base import mask_box


@dataclass
class StepContext:
    """What every step needs besides the objects: the model, the video length, options."""

    model: Sam2Model
    num_frames: int
    fill_hole_area: int
    maskmem_pos: Tensor | None = None  # (1, mem_dim, h, w), set by the first memory encoding
    video_size: tuple[int, int] | None = None  # (H, W), for policies that look at video-size masks

    def memory_pos(self, feats: ImageFeatures) -> Tensor:
        if self.maskmem_pos is None:
            # the encoding depends on the shape only
            h, w = feats.feat_sizes[-1]
            zeros = torch.zeros(1, self.model.mem_dim, h, w, device=self.model.device)
            self.maskmem_pos = self.model.memory_encoder.position_encoding(zeros).to(zeros.dtype)
        return self.maskmem_pos


def _frame_memory(ctx: StepContext, track: ObjectTrack, frame: int, reverse: bool, feats: ImageFeatures, locked=None):
    policy = policy_for(track.memory)
    selection = policy.select(ctx.model, track, frame, reverse, ctx.num_frames, locked)
    return memory_tokens(ctx.model, selection, ctx.num_frames, ctx.memory_pos(feats))


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
    choice: int | None = None,
    alternatives: list | None = None,
) -> MemoryEntry:
    """One object's output for new clicks (``points``) or a mask prompt (``mask``, (1, 1, S, S)).

    choice: which of SAM 2's multimask outputs to keep (Prompt.choice; None: the best predicted
    IoU). alternatives: when given, receives the heads' output of a multimask step (all its masks).

    The memory is not encoded yet (that happens when propagation starts, see ``commit_pending``).
    prev_logits: (1, 1, 4h, 4w) clamped logits of the frame's previous output, fed with clicks.
    """
    model = ctx.model
    picked = None  # (1,) the annotator's choice among the multimask outputs
    with torch.inference_mode():
        if mask is not None and model.config.use_mask_input_as_output_without_sam:
            out = mask_as_output(model, feats, mask)
        else:
            memory = None if is_init_cond else [_frame_memory(ctx, track, frame, reverse, feats)]
            fused = condition_on_memory(model, feats, memory, 1)
            num_points = 0 if points is None else points.count
            pts = None if points is None else (points.coords.to(model.device), points.labels.to(model.device))
            policy = policy_for(track.memory)
            multimask = model.use_multimask(is_init_cond, num_points)
            if choice is not None and multimask:
                picked = torch.tensor([int(choice)], device=model.device)
            out = run_heads(
                model, feats, fused, pts, mask if mask is not None else prev_logits, multimask,
                object_threshold=policy.object_threshold,
                choose=None if picked is None else (lambda ious, masks: picked),
            )
            if alternatives is not None and multimask:
                alternatives.append(out)
            seed = mask_box(out.high_res_masks[0, 0]) if multimask else None
        pred = fill_small_holes(out.low_res_masks, ctx.fill_hole_area if policy_for(track.memory).fills_holes else 0)
        pred = kept_tensor(pred)  # kept across frames: outside the heap of the activations
        entry = MemoryEntry(None, pred, out.obj_ptr, out.object_score_logits, float(chosen_iou(out, picked)[0]), int((pred > 0).sum()))
        if mask is None or not model.config.use_mask_input_as_output_without_sam:
            entry.seed_box = seed
        return entry


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
                    ctx.maskmem_pos = kept_tensor(pos)
                entry.maskmem = kept_tensor(maskmem, torch.bfloat16)
            store[frame] = entry
        temp.clear()
    for frame in track.cond:
        track.non_cond.pop(frame, None)


def track_frame(
    ctx: StepContext, tracks: list[ObjectTrack], frame: int, reverse: bool, feats: ImageFeatures, locked=None
) -> dict[int, MemoryEntry]:
    """Track several objects on a frame none of them has a prompt on; store and return outputs.

    Objects with the same memory policy whose memories have the same layout go through memory
    attention and the heads together (one batch); each gets a new memory, stored in bfloat16.
    locked(obj_id, frame) -> True: that object's mask there is locked (policies never drop it).
    """
    model = ctx.model
    results: dict[int, MemoryEntry] = {}
    with torch.inference_mode():
        memories = {}
        groups: dict[tuple, list[int]] = {}
        for i, t in enumerate(tracks):
            policy = policy_for(t.memory)
            is_locked = None if locked is None else (lambda f, o=t.obj_id: locked(o, f))
            if not policy.batchable:
                results[t.obj_id] = policy.track(ctx, t, frame, reverse, feats, is_locked)
                continue
            memories[i] = _frame_memory(ctx, t, frame, reverse, feats, is_locked)
            groups.setdefault((memories[i].layout, t.memory), []).append(i)
        for (_, config), members in groups.items():
            policy = policy_for(config)
            batch = [tracks[i] for i in members]
            fused = condition_on_memory(model, feats, [memories[i] for i in members], len(batch))
            chooser = policy.chooser(batch, frame, reverse)
            out = run_heads(
                model, feats, fused, None, None, model.use_multimask(False, 0),
                choose=chooser, object_threshold=policy.object_threshold,
            )
            maskmem, pos = encode_memory(model, feats, out.high_res_masks, out.object_score_logits, binarize=False)
            if ctx.maskmem_pos is None:
                ctx.maskmem_pos = kept_tensor(pos)
            preds = fill_small_holes(out.low_res_masks, ctx.fill_hole_area)
            ious = chosen_iou(out, None if chooser is None else chooser.chosen)
            areas = (preds > 0).flatten(1).sum(1).tolist()
            for j, track in enumerate(batch):
                entry = MemoryEntry(  # kept across frames: outside the heap of the activations
                    maskmem=kept_tensor(maskmem[j : j + 1], torch.bfloat16),
                    pred_masks=kept_tensor(preds[j : j + 1]),
                    obj_ptr=kept_tensor(out.obj_ptr[j : j + 1]),
                    score=kept_tensor(out.object_score_logits[j : j + 1]),
                    iou=float(ious[j]),
                    area=int(areas[j]),
                )
                track.non_cond[frame] = entry
                results[track.obj_id] = entry
                policy.after_frame(track, frame, reverse, entry, out, j, ctx.video_size)
                _reencode_added(ctx, policy, track, feats)
    return results


def _reencode_added(ctx: StepContext, policy, track: ObjectTrack, feats: ImageFeatures) -> None:
    """Frames a policy moved into its conditioning store get their memory again from the
    binarised mask, as a prompted frame's (DAM4SAM; the released code re-encodes them so)."""
    take = getattr(policy, "to_reencode", None)
    if take is None:
        return
    size = ctx.model.image_size
    for entry in take(track):
        high = F.interpolate(entry.pred_masks, size=(size, size), mode="bilinear", align_corners=False)
        maskmem, _ = encode_memory(ctx.model, feats, high, entry.score, binarize=True)
        entry.maskmem = kept_tensor(maskmem, torch.bfloat16)


def to_object_masks(
    entries: dict[int, MemoryEntry], video_size: tuple[int, int], with_logits: bool
) -> dict[int, ObjectMask]:
    """Outputs -> ObjectMask records: logits resized (bilinear) to the video, thresholded at 0, RLE
    (on the outputs' device; the same RLE either way)."""
    if not entries:
        return {}
    ids = list(entries)
    with torch.inference_mode():
        low = torch.cat([entries[i].pred_masks for i in ids], dim=0)
        video = F.interpolate(low, size=video_size, mode="bilinear", align_corners=False)
        on_host = video.device.type == "cpu"
        # On a GPU the masks stay there and only their run boundaries come back (rle_of).
        binary = (video[:, 0] > 0).cpu().numpy() if on_host else video[:, 0] > 0
        low_np = low[:, 0].float().cpu().numpy() if with_logits else None
    out: dict[int, ObjectMask] = {}
    for k, obj_id in enumerate(ids):
        e = entries[obj_id]
        out[obj_id] = ObjectMask(
            obj_id=obj_id,
            rle=encode(binary[k]) if on_host else rle_of(binary[k]),
            object_score=float(e.score.reshape(-1)[0]),
            iou=e.iou,
            low_res_logits=np.ascontiguousarray(low_np[k]) if low_np is not None else None,
        )
    return out
