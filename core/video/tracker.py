"""One SAM 2 tracking step for a batch of objects on one frame (the official ``track_step``).

The steps, each a function of the model's modules: gather one object's memory tokens
(conditioning frames, recent frames, object pointers with temporal encodings), condition the
frame's features on them (memory attention, batched over objects with the same memory
layout), run the SAM heads, and encode the result as a new memory.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from core.sam2.model import ImageFeatures, Sam2Model, SamHeadsOutput
from core.video.state import MemoryEntry, ObjectTrack


@dataclass
class MemoryTokens:
    """One object's memory for one frame, sequence first.

    memory: (M, 1, mem_dim) float32 tokens (spatial memories of each frame, then pointer tokens);
    pos: (M, 1, mem_dim) their position encodings; num_ptr_tokens: the trailing pointer tokens.
    """

    memory: Tensor
    pos: Tensor
    num_ptr_tokens: int

    @property
    def layout(self) -> tuple[int, int]:
        """Objects with equal layouts can share one memory-attention call."""
        return (int(self.memory.shape[0]), self.num_ptr_tokens)


def sine_pe_1d(positions: Tensor, dim: int, temperature: float = 10000.0) -> Tensor:
    """1-D sine/cosine encoding: positions (N,) float -> (N, dim), sines then cosines."""
    half = dim // 2
    dim_t = torch.arange(half, dtype=torch.float32, device=positions.device)
    dim_t = temperature ** (2 * (dim_t // 2) / half)
    pe = positions.unsqueeze(-1) / dim_t
    return torch.cat([pe.sin(), pe.cos()], dim=-1)


@dataclass
class MemorySelection:
    """What one object's tracking step reads on one frame: the choice of a memory policy.

    spatial: (entry, index into ``maskmem_tpos_enc``) per memory frame, conditioning frames
    first (SAM 2 gives them index ``num_maskmem - 1``, a frame ``t_pos`` steps back
    ``num_maskmem - t_pos - 1``). pointers: (temporal position, (1, C) object pointer).
    key_weights / pointer_weights: one factor per spatial entry / pointer multiplying its keys
    in memory attention (features plus position; the values stay), None: all 1.
    """

    spatial: list[tuple[MemoryEntry, int]]
    pointers: list[tuple[int, Tensor]]
    key_weights: list[float] | None = None
    pointer_weights: list[float] | None = None


def select_memory(model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int) -> MemorySelection:
    """SAM 2's own selection (the default policy), for ``track`` on ``frame`` (not an initial
    conditioning frame).

    Conditioning frames all (``max_cond_frames_in_attn`` = -1: no limit), then the last
    ``num_maskmem - 1`` frames before ``frame`` in the direction of travel, then the object
    pointers of past conditioning frames and of up to ``max_obj_ptrs - 1`` previous frames.
    """
    cfg = model.config
    num_maskmem = cfg.num_maskmem
    if cfg.max_cond_frames_in_attn != -1 and len(track.cond) > cfg.max_cond_frames_in_attn:
        raise NotImplementedError("max_cond_frames_in_attn is not supported")  # no official config uses it
    if cfg.memory_temporal_stride_for_eval != 1:
        raise NotImplementedError("memory_temporal_stride_for_eval != 1 is not supported")
    spatial: list[tuple[MemoryEntry, int]] = [(entry, num_maskmem - 1) for entry in track.cond.values()]
    for t_pos in range(1, num_maskmem):
        t_rel = num_maskmem - t_pos
        prev = frame + t_rel if reverse else frame - t_rel
        entry = track.non_cond.get(prev)
        if entry is not None and entry.maskmem is not None:
            spatial.append((entry, num_maskmem - t_pos - 1))
    return MemorySelection(spatial, select_pointers(model, track.cond, track.non_cond, frame, reverse, num_frames))


def select_pointers(
    model: Sam2Model, cond: dict[int, MemoryEntry], non_cond: dict[int, MemoryEntry], frame: int, reverse: bool,
    num_frames: int, usable=None,
) -> list[tuple[int, Tensor]]:
    """SAM 2's object pointers: past conditioning frames, then up to ``max_obj_ptrs - 1`` frames
    back in the direction of travel (those with ``usable(entry)`` when given)."""
    cfg = model.config
    if not cfg.use_obj_ptrs_in_encoder:
        return []
    max_ptrs = min(num_frames, cfg.max_obj_ptrs_in_encoder)
    sign = -1 if reverse else 1
    out: list[tuple[int, Tensor]] = []
    for t, entry in cond.items():
        if cfg.only_obj_ptrs_in_the_past_for_eval and not (t >= frame if reverse else t <= frame):
            continue
        out.append(((frame - t) * sign if cfg.use_signed_tpos_enc_to_obj_ptrs else abs(frame - t), entry.obj_ptr))
    for t_diff in range(1, max_ptrs):
        t = frame + t_diff if reverse else frame - t_diff
        if t < 0 or t >= num_frames:
            break
        entry = non_cond.get(t)
        if entry is not None and (usable is None or usable(entry)):
            out.append((t_diff, entry.obj_ptr))
    return out


def gather_memory(
    model: Sam2Model,
    track: ObjectTrack,
    frame: int,
    reverse: bool,
    num_frames: int,
    maskmem_pos: Tensor,
) -> MemoryTokens:
    """The memory tokens SAM 2 reads for ``track`` on ``frame`` (SAM 2's own selection)."""
    return memory_tokens(model, select_memory(model, track, frame, reverse, num_frames), num_frames, maskmem_pos)


def memory_tokens(model: Sam2Model, selection: MemorySelection, num_frames: int, maskmem_pos: Tensor) -> MemoryTokens:
    """A selection as tokens: spatial memories with their temporal encodings, then pointer tokens.

    maskmem_pos: (1, mem_dim, h, w), the memory position encoding (the same for every frame).
    """
    cfg = model.config
    device = model.device
    pos_flat = maskmem_pos.flatten(2).permute(2, 0, 1)  # (hw, 1, mem_dim)
    chunks: list[Tensor] = []
    pos_chunks: list[Tensor] = []
    weights = selection.key_weights
    for i, (entry, tpos_index) in enumerate(selection.spatial):
        assert entry.maskmem is not None
        # stored in bfloat16, read back as float32 (the official code's promotion)
        feats = entry.maskmem.to(device, torch.float32).flatten(2).permute(2, 0, 1)
        pos = pos_flat + model.maskmem_tpos_enc[tpos_index]
        if weights is not None and weights[i] != 1.0:
            pos = _scaled_key_pos(feats, pos, weights[i])
        chunks.append(feats)
        pos_chunks.append(pos)

    num_ptr_tokens = 0
    if selection.pointers:
        max_ptrs = min(num_frames, cfg.max_obj_ptrs_in_encoder)
        positions = [p for p, _ in selection.pointers]
        obj_ptrs = torch.stack([ptr for _, ptr in selection.pointers], dim=0)  # (P, 1, C)
        c, mem_dim = model.hidden_dim, model.mem_dim
        if cfg.add_tpos_enc_to_obj_ptrs:
            t_diff_max = max(max_ptrs - 1, 1)
            tpos_dim = c if cfg.proj_tpos_enc_in_obj_ptrs else mem_dim
            obj_pos = sine_pe_1d(torch.tensor(positions, device=device) / t_diff_max, tpos_dim)
            obj_pos = model.obj_ptr_tpos_proj(obj_pos).unsqueeze(1)  # (P, 1, mem_dim)
        else:
            obj_pos = obj_ptrs.new_zeros(len(positions), 1, mem_dim)
        if mem_dim < c:
            # a pointer becomes c // mem_dim tokens
            split = c // mem_dim
            obj_ptrs = obj_ptrs.reshape(-1, 1, split, mem_dim).permute(0, 2, 1, 3).flatten(0, 1)
            obj_pos = obj_pos.repeat_interleave(split, dim=0)
        if selection.pointer_weights is not None:
            per_token = obj_ptrs.shape[0] // len(positions)  # a pointer's tokens are consecutive
            scale = torch.tensor(selection.pointer_weights, device=device).repeat_interleave(per_token)[:, None, None]
            obj_pos = _scaled_key_pos(obj_ptrs, obj_pos, scale)
        chunks.append(obj_ptrs)
        pos_chunks.append(obj_pos)
        num_ptr_tokens = int(obj_ptrs.shape[0])
    return MemoryTokens(torch.cat(chunks, dim=0), torch.cat(pos_chunks, dim=0), num_ptr_tokens)


def _scaled_key_pos(memory: Tensor, pos: Tensor, weight) -> Tensor:
    """The position that makes memory attention's key ``weight * (memory + pos)`` while its value
    stays ``memory`` (the key is memory + position there)."""
    return weight * (memory + pos) - memory


def condition_on_memory(model: Sam2Model, feats: ImageFeatures, memories: list[MemoryTokens] | None, batch: int) -> Tensor:
    """The frame's lowest-resolution features fused with each object's memory -> (B, C, h, w).

    memories: one per object, all with the same layout; None for initial conditioning frames
    (no memory: the learned no-memory embedding). feats: batch 1, shared by all objects.
    """
    cfg = model.config
    x = feats.vision_feats[-1]  # (hw, 1, C)
    h, w = feats.feat_sizes[-1]
    c = model.hidden_dim
    if cfg.num_maskmem == 0:
        return x.permute(1, 2, 0).reshape(1, c, h, w).expand(batch, -1, -1, -1)
    curr = x.expand(-1, batch, -1)
    curr_pos = feats.vision_pos_embeds[-1].expand(-1, batch, -1)
    if memories is None:
        if cfg.directly_add_no_mem_embed:
            fused = curr + model.no_mem_embed
            return fused.permute(1, 2, 0).reshape(batch, c, h, w)
        memory = model.no_mem_embed.expand(1, batch, model.mem_dim)
        memory_pos = model.no_mem_pos_enc.expand(1, batch, model.mem_dim)
        num_ptr_tokens = 0
    else:
        if len(memories) != batch or len({m.layout for m in memories}) != 1:
            raise ValueError("one memory per object, all with the same layout")
        memory = torch.cat([m.memory for m in memories], dim=1)
        memory_pos = torch.cat([m.pos for m in memories], dim=1)
        num_ptr_tokens = memories[0].num_ptr_tokens
    fused = model.memory_attention(
        curr=curr, curr_pos=curr_pos, memory=memory, memory_pos=memory_pos, num_obj_ptr_tokens=num_ptr_tokens
    )
    return fused.permute(1, 2, 0).reshape(batch, c, h, w)


def high_res_for(feats: ImageFeatures, batch: int) -> list[Tensor] | None:
    if feats.high_res_features is None:
        return None
    return [f.expand(batch, -1, -1, -1) for f in feats.high_res_features]


def run_heads(
    model: Sam2Model,
    feats: ImageFeatures,
    fused: Tensor,
    points: tuple[Tensor, Tensor] | None,
    prev_logits: Tensor | None,
    multimask: bool,
    choose=None,
    object_threshold: float = 0.0,
) -> SamHeadsOutput:
    """SAM heads on memory-conditioned features; points ((B, P, 2), (B, P)) in model pixels.

    choose / object_threshold: a memory policy's choice among the multimask outputs and its
    presence threshold (see ``Sam2Model.forward_sam_heads``).
    """
    coords, labels = points if points is not None else (None, None)
    return model.forward_sam_heads(
        backbone_features=fused,
        point_coords=coords,
        point_labels=labels,
        mask_inputs=prev_logits,
        high_res_features=high_res_for(feats, fused.shape[0]),
        multimask_output=multimask,
        choose=choose,
        object_threshold=object_threshold,
    )


def mask_as_output(model: Sam2Model, feats: ImageFeatures, mask_inputs: Tensor) -> SamHeadsOutput:
    """A mask prompt (1, 1, S, S) 0/1 taken as the output (features not memory-conditioned)."""
    return model.use_mask_as_output(feats.image_embed, high_res_for(feats, 1), mask_inputs)


def chosen_iou(out: SamHeadsOutput, chosen: Tensor | None = None) -> Tensor:
    """(B,) predicted IoU of the mask each object's output uses (the best one under multimask,
    or the ``chosen`` (B,) indices a memory policy picked)."""
    if chosen is not None and out.ious.shape[-1] > 1:
        return out.ious.gather(1, chosen[:, None])[:, 0]
    return out.ious.max(dim=-1).values if out.ious.shape[-1] > 1 else out.ious[:, 0]


def encode_memory(
    model: Sam2Model,
    feats: ImageFeatures,
    high_res_masks: Tensor,
    scores: Tensor,
    binarize: bool,
) -> tuple[Tensor, Tensor]:
    """New memories (official ``_encode_new_memory``) for B objects on one frame.

    high_res_masks: (B, 1, S, S) logits; scores: (B, 1) object-score logits; binarize: use the
    thresholded mask (frames the user prompted, as the video predictor's builder sets) instead
    of its sigmoid. Returns features (B, mem_dim, h, w) float32 and the position encoding
    (1, mem_dim, h, w).
    """
    cfg = model.config
    batch = high_res_masks.shape[0]
    h, w = feats.feat_sizes[-1]
    pix_feat = feats.vision_feats[-1].permute(1, 2, 0).reshape(1, model.hidden_dim, h, w).expand(batch, -1, -1, -1)
    mask_for_mem = (high_res_masks > 0).float() if binarize else torch.sigmoid(high_res_masks)
    if cfg.sigmoid_scale_for_mem_enc != 1.0:
        mask_for_mem = mask_for_mem * cfg.sigmoid_scale_for_mem_enc
    if cfg.sigmoid_bias_for_mem_enc != 0.0:
        mask_for_mem = mask_for_mem + cfg.sigmoid_bias_for_mem_enc
    enc = model.memory_encoder(pix_feat, mask_for_mem, skip_mask_sigmoid=True)
    features = enc.vision_features
    if model.no_obj_embed_spatial is not None:
        absent = 1 - (scores > 0).float()
        features = features + absent[..., None, None] * model.no_obj_embed_spatial[..., None, None]
    return features, enc.vision_pos_enc[:1]
