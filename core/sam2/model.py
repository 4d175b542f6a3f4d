"""``Sam2Model``: every SAM 2 module under the official state-dict names, and the image-level
steps that the image predictor and the video engine build on.

Attributes (as in the checkpoint): image_encoder, mask_downsample, memory_attention,
memory_encoder, sam_prompt_encoder, sam_mask_decoder, obj_ptr_proj, obj_ptr_tpos_proj and the
parameters maskmem_tpos_enc, no_mem_embed, no_mem_pos_enc, no_obj_ptr, no_obj_embed_spatial.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.sam2.common import MLP
from core.sam2.config import Sam2Config
from core.sam2.linear import Linear
from core.sam2.mask_decoder import MaskDecoder
from core.sam2.memory_attention import MemoryAttention
from core.sam2.memory_encoder import MemoryEncoder, MemoryEncoding
from core.sam2.neck import ImageEncoder
from core.sam2.prompt_encoder import PromptEncoder

# mask logit standing for "no object here" (the official NO_OBJ_SCORE)
NO_OBJ_SCORE = -1024.0


@dataclass
class ImageFeatures:
    """One encoded image batch, prepared as the official ``_prepare_backbone_features`` does.

    vision_feats: per level, highest resolution first, (H_i * W_i, B, C) (levels 0 and 1 are
      already through the decoder's conv_s0 / conv_s1 when high-res features are used, so they
      have C/8 and C/4 channels).
    vision_pos_embeds: the matching sine encodings, (H_i * W_i, B, hidden_dim).
    feat_sizes: (H_i, W_i) per level, e.g. [(256, 256), (128, 128), (64, 64)] at 1024.
    high_res_features: [(B, C/8, 4h, 4w), (B, C/4, 2h, 2w)] for the mask decoder, or None.
    """

    vision_feats: list[Tensor]
    vision_pos_embeds: list[Tensor]
    feat_sizes: list[tuple[int, int]]
    high_res_features: list[Tensor] | None

    @property
    def image_embed(self) -> Tensor:
        """The lowest-resolution level as (B, C, h, w), without any memory conditioning."""
        x = self.vision_feats[-1]
        h, w = self.feat_sizes[-1]
        return x.permute(1, 2, 0).reshape(x.shape[1], x.shape[2], h, w)


@dataclass
class SamHeadsOutput:
    """The official ``_forward_sam_heads`` outputs (M = 3 with multimask output, else 1).

    low_res_multimasks (B, M, 4h, 4w) logits; high_res_multimasks (B, M, S, S);
    ious (B, M); low_res_masks (B, 1, 4h, 4w) and high_res_masks (B, 1, S, S): the best-IoU
    mask; obj_ptr (B, hidden_dim); object_score_logits (B, 1). With object-score prediction, the
    masks of an absent object (score <= 0) are NO_OBJ_SCORE everywhere.
    """

    low_res_multimasks: Tensor
    high_res_multimasks: Tensor
    ious: Tensor
    low_res_masks: Tensor
    high_res_masks: Tensor
    obj_ptr: Tensor
    object_score_logits: Tensor
    # (B, T, C) the decoder's output tokens (T = 4 with multimask), for a memory policy that
    # needs the pointer of another mask than the chosen one (core.video.policies.sam2long)
    sam_output_tokens: Tensor | None = None


class Sam2Model(nn.Module):
    """SAM 2 (eval only). Build with random weights or load a checkpoint via core.sam2.checkpoint."""

    def __init__(self, config: Sam2Config) -> None:
        super().__init__()
        cfg = config
        self.config = cfg
        self.image_size = cfg.image_size
        self.hidden_dim = cfg.hidden_dim
        self.mem_dim = cfg.mem_dim
        self.num_maskmem = cfg.num_maskmem
        self.num_feature_levels = 3 if cfg.use_high_res_features_in_sam else 1
        if cfg.memory_attention.d_model != cfg.hidden_dim:
            raise ValueError("memory_attention.d_model must equal neck.d_model")
        if cfg.proj_tpos_enc_in_obj_ptrs and not cfg.add_tpos_enc_to_obj_ptrs:
            raise ValueError("proj_tpos_enc_in_obj_ptrs needs add_tpos_enc_to_obj_ptrs")
        if cfg.fixed_no_obj_ptr and not (cfg.pred_obj_scores and cfg.use_obj_ptrs_in_encoder):
            raise ValueError("fixed_no_obj_ptr needs pred_obj_scores and use_obj_ptrs_in_encoder")

        # parameters first: the state dict lists them first, as the official checkpoints do
        self.maskmem_tpos_enc = nn.Parameter(torch.zeros(cfg.num_maskmem, 1, 1, self.mem_dim))
        self.no_mem_embed = nn.Parameter(torch.zeros(1, 1, self.hidden_dim))
        self.no_mem_pos_enc = nn.Parameter(torch.zeros(1, 1, self.hidden_dim))
        self.no_obj_ptr: nn.Parameter | None = None
        if cfg.pred_obj_scores and cfg.use_obj_ptrs_in_encoder:
            self.no_obj_ptr = nn.Parameter(torch.zeros(1, self.hidden_dim))
        self.no_obj_embed_spatial: nn.Parameter | None = None
        if cfg.no_obj_embed_spatial:
            self.no_obj_embed_spatial = nn.Parameter(torch.zeros(1, self.mem_dim))
        for p in (self.maskmem_tpos_enc, self.no_mem_embed, self.no_mem_pos_enc, self.no_obj_ptr, self.no_obj_embed_spatial):
            if p is not None and not p.is_meta:
                nn.init.trunc_normal_(p, std=0.02)

        self.image_encoder = ImageEncoder(cfg.trunk, cfg.neck)
        if cfg.use_obj_ptrs_in_encoder:
            # brings a mask prompt to stride 4 and to the logit scale, to get a pointer from SAM
            self.mask_downsample = nn.Conv2d(1, 1, kernel_size=4, stride=4)
        self.memory_attention = MemoryAttention(cfg.memory_attention)
        self.memory_encoder = MemoryEncoder(self.hidden_dim, cfg.memory_encoder)

        side = cfg.feat_size
        self.sam_prompt_encoder = PromptEncoder(
            embed_dim=self.hidden_dim,
            image_embedding_size=(side, side),
            input_image_size=(cfg.image_size, cfg.image_size),
            mask_in_chans=cfg.prompt_encoder.mask_in_chans,
        )
        self.sam_mask_decoder = MaskDecoder(
            self.hidden_dim,
            cfg.mask_decoder,
            cfg.sam_mask_decoder_extra_args,
            use_high_res_features=cfg.use_high_res_features_in_sam,
            iou_prediction_use_sigmoid=cfg.iou_prediction_use_sigmoid,
            pred_obj_scores=cfg.pred_obj_scores,
            pred_obj_scores_mlp=cfg.pred_obj_scores_mlp,
            use_multimask_token_for_obj_ptr=cfg.use_multimask_token_for_obj_ptr,
        )
        self.obj_ptr_proj: nn.Module = nn.Identity()
        if cfg.use_obj_ptrs_in_encoder:
            d = self.hidden_dim
            self.obj_ptr_proj = MLP(d, d, d, 3) if cfg.use_mlp_for_obj_ptr_proj else Linear(d, d)
        self.obj_ptr_tpos_proj: nn.Module = nn.Identity()
        if cfg.proj_tpos_enc_in_obj_ptrs:
            self.obj_ptr_tpos_proj = Linear(self.hidden_dim, self.mem_dim)
        self.eval()

    @property
    def device(self) -> torch.device:
        return self.no_mem_embed.device

    # ---------------------------------------------------------------- image encoder
    def encode_image(self, images: Tensor) -> ImageFeatures:
        """images: (B, 3, S, S) normalised -> ``ImageFeatures`` (official forward_image + prepare)."""
        then = None
        if self.config.use_high_res_features_in_sam:
            # The decoder's projections of the two high-resolution levels, applied once here
            # rather than on every click, folded into the neck's lateral convs.
            then = {0: self.sam_mask_decoder.conv_s0, 1: self.sam_mask_decoder.conv_s1}
        out = self.image_encoder(images, then)
        fpn = list(out.backbone_fpn)
        levels = self.num_feature_levels
        maps = fpn[-levels:]
        pos = out.vision_pos_enc[-levels:]
        feat_sizes = [(x.shape[-2], x.shape[-1]) for x in pos]
        return ImageFeatures(
            vision_feats=[x.flatten(2).permute(2, 0, 1) for x in maps],
            vision_pos_embeds=[x.flatten(2).permute(2, 0, 1) for x in pos],
            feat_sizes=feat_sizes,
            high_res_features=maps[:-1] if levels > 1 else None,
        )

    # ---------------------------------------------------------------- SAM heads
    def forward_sam_heads(
        self,
        backbone_features: Tensor,
        point_coords: Tensor | None = None,
        point_labels: Tensor | None = None,
        mask_inputs: Tensor | None = None,
        high_res_features: list[Tensor] | None = None,
        multimask_output: bool = False,
        choose: "Callable[[Tensor, Tensor], Tensor] | None" = None,
        object_threshold: float = 0.0,
    ) -> SamHeadsOutput:
        """Prompt encoder + mask decoder + object pointer (official ``_forward_sam_heads``).

        backbone_features: (B, C, h, w), the (memory-conditioned) lowest-resolution features.
        point_coords: (B, N, 2) float, pixels of the S x S model input, x then y; point_labels
          (B, N) int: 1 positive, 0 negative, 2/3 box corners, -1 padding. None: no points.
        mask_inputs: (B, 1, H, W) mask logits/probabilities; resized (bilinear, antialiased) to
          (4h, 4w) when it has another size. high_res_features: ImageFeatures.high_res_features.
        choose(ious (B, M), high_res_multimasks (B, M, S, S)) -> (B,) long: which of the multimask
          outputs each object uses (a memory policy's choice, core.video.policies); None: the best
          predicted IoU. object_threshold: object-score logit above which the object counts as
          present (0 in SAM 2; a memory policy may lower it).
        """
        b = backbone_features.size(0)
        device = backbone_features.device
        side = self.config.feat_size
        if backbone_features.shape[1:] != (self.hidden_dim, side, side):
            raise ValueError(f"backbone_features must be (B, {self.hidden_dim}, {side}, {side}), got {tuple(backbone_features.shape)}")
        if point_coords is None:
            point_coords = torch.zeros(b, 1, 2, device=device)
            point_labels = -torch.ones(b, 1, dtype=torch.int32, device=device)
        elif point_labels is None or point_coords.size(0) != b or point_labels.size(0) != b:
            raise ValueError("point_coords and point_labels must both be given with batch size B")

        sam_mask_prompt = None
        if mask_inputs is not None:
            if mask_inputs.dim() != 4 or mask_inputs.shape[:2] != (b, 1):
                raise ValueError(f"mask_inputs must be (B, 1, H, W), got {tuple(mask_inputs.shape)}")
            if mask_inputs.shape[-2:] != self.sam_prompt_encoder.mask_input_size:
                sam_mask_prompt = F.interpolate(
                    mask_inputs.float(),
                    size=self.sam_prompt_encoder.mask_input_size,
                    align_corners=False,
                    mode="bilinear",
                    antialias=True,
                )
            else:
                sam_mask_prompt = mask_inputs

        sparse, dense = self.sam_prompt_encoder(points=(point_coords, point_labels), boxes=None, masks=sam_mask_prompt)
        low_res_multimasks, ious, sam_output_tokens, object_score_logits = self.sam_mask_decoder(
            image_embeddings=backbone_features,
            image_pe=self.sam_prompt_encoder.get_dense_pe(),
            sparse_prompt_embeddings=sparse,
            dense_prompt_embeddings=dense,
            multimask_output=multimask_output,
            repeat_image=False,
            high_res_features=high_res_features,
        )
        is_obj_appearing = object_score_logits > object_threshold
        if self.config.pred_obj_scores:
            # the memory sees a hard choice between object and no object, as the mask does
            low_res_multimasks = torch.where(is_obj_appearing[:, None, None], low_res_multimasks, NO_OBJ_SCORE)
        low_res_multimasks = low_res_multimasks.float()
        high_res_multimasks = F.interpolate(
            low_res_multimasks, size=(self.image_size, self.image_size), mode="bilinear", align_corners=False
        )

        sam_output_token = sam_output_tokens[:, 0]
        if multimask_output:
            best = torch.argmax(ious, dim=-1) if choose is None else choose(ious, high_res_multimasks)
            batch = torch.arange(b, device=device)
            low_res_masks = low_res_multimasks[batch, best].unsqueeze(1)
            high_res_masks = high_res_multimasks[batch, best].unsqueeze(1)
            if sam_output_tokens.size(1) > 1:
                sam_output_token = sam_output_tokens[batch, best]
        else:
            low_res_masks, high_res_masks = low_res_multimasks, high_res_multimasks

        obj_ptr = self.obj_ptr_proj(sam_output_token)
        if self.config.pred_obj_scores:
            obj_ptr = self._no_object_pointer(obj_ptr, object_score_logits.sigmoid() if self.config.soft_no_obj_ptr else is_obj_appearing.float())
        return SamHeadsOutput(
            low_res_multimasks=low_res_multimasks,
            high_res_multimasks=high_res_multimasks,
            ious=ious,
            low_res_masks=low_res_masks,
            high_res_masks=high_res_masks,
            obj_ptr=obj_ptr,
            object_score_logits=object_score_logits,
            sam_output_tokens=sam_output_tokens,
        )

    def pointer_of(self, token: Tensor, object_score_logits: Tensor, object_threshold: float = 0.0) -> Tensor:
        """The object pointer (B, C) of one decoder output token (B, C), as ``forward_sam_heads``
        makes it for the token it chose."""
        obj_ptr = self.obj_ptr_proj(token)
        if self.config.pred_obj_scores:
            appearing = object_score_logits > object_threshold
            obj_ptr = self._no_object_pointer(obj_ptr, object_score_logits.sigmoid() if self.config.soft_no_obj_ptr else appearing.float())
        return obj_ptr

    def _no_object_pointer(self, obj_ptr: Tensor, appearing: Tensor) -> Tensor:
        """Blend in the learned no-object pointer where the object is absent; appearing (B, 1) in [0, 1]."""
        if self.config.fixed_no_obj_ptr:
            obj_ptr = appearing * obj_ptr
        if self.no_obj_ptr is None:
            return obj_ptr
        return obj_ptr + (1 - appearing) * self.no_obj_ptr

    def use_mask_as_output(
        self, backbone_features: Tensor, high_res_features: list[Tensor] | None, mask_inputs: Tensor
    ) -> SamHeadsOutput:
        """A mask prompt taken as the output itself (official ``_use_mask_as_output``).

        mask_inputs: (B, 1, S, S) binary (bool or float) mask at the model input size. Logits are
        +10 / -10; the object pointer comes from SAM run on the downsampled mask.
        """
        out_scale, out_bias = 20.0, -10.0
        mask_f = mask_inputs.float()
        high_res_masks = mask_f * out_scale + out_bias
        low_res_masks = F.interpolate(
            high_res_masks,
            size=(high_res_masks.size(-2) // 4, high_res_masks.size(-1) // 4),
            align_corners=False,
            mode="bilinear",
            antialias=True,
        )
        ious = mask_inputs.new_ones(mask_inputs.size(0), 1).float()
        if not self.config.use_obj_ptrs_in_encoder:
            obj_ptr = torch.zeros(mask_inputs.size(0), self.hidden_dim, device=mask_inputs.device)
        else:
            obj_ptr = self.forward_sam_heads(
                backbone_features=backbone_features,
                mask_inputs=self.mask_downsample(mask_f),
                high_res_features=high_res_features,
            ).obj_ptr
        # presence follows the given mask, not SAM's object score
        appearing = torch.any(mask_f.flatten(1) > 0.0, dim=1)[..., None].float()
        object_score_logits = out_scale * appearing + out_bias
        if self.config.pred_obj_scores:
            obj_ptr = self._no_object_pointer(obj_ptr, appearing)
        return SamHeadsOutput(
            low_res_multimasks=low_res_masks,
            high_res_multimasks=high_res_masks,
            ious=ious,
            low_res_masks=low_res_masks,
            high_res_masks=high_res_masks,
            obj_ptr=obj_ptr,
            object_score_logits=object_score_logits,
        )

    def use_multimask(self, is_init_cond_frame: bool, num_points: int) -> bool:
        """Whether the heads give 3 masks for this step (official ``_use_multimask``; a box counts as 2 points)."""
        cfg = self.config
        return (
            cfg.multimask_output_in_sam
            and (is_init_cond_frame or cfg.multimask_output_for_tracking)
            and cfg.multimask_min_pt_num <= num_points <= cfg.multimask_max_pt_num
        )

    # ---------------------------------------------------------------- memory
    def encode_new_memory(
        self,
        current_vision_feats: list[Tensor],
        feat_sizes: list[tuple[int, int]],
        pred_masks_high_res: Tensor,
        object_score_logits: Tensor,
        is_mask_from_pts: bool,
    ) -> MemoryEncoding:
        """A frame's memory from its features and predicted mask (official ``_encode_new_memory``).

        current_vision_feats / feat_sizes: as in ImageFeatures (only the last level is used, not
        memory-conditioned); pred_masks_high_res (B, 1, S, S) logits; object_score_logits (B, 1).
        Returns features (B, mem_dim, h, w) with the no-object embedding added where the object
        is absent, and their position encoding (B, mem_dim, h, w; a read-only expanded view).
        """
        cfg = self.config
        x = current_vision_feats[-1]
        h, w = feat_sizes[-1]
        pix_feat = x.permute(1, 2, 0).reshape(x.size(1), self.hidden_dim, h, w)
        if cfg.non_overlap_masks_for_mem_enc:
            pred_masks_high_res = apply_non_overlapping_constraints(pred_masks_high_res)
        if cfg.binarize_mask_from_pts_for_mem_enc and is_mask_from_pts:
            mask_for_mem = (pred_masks_high_res > 0).float()
        else:
            mask_for_mem = torch.sigmoid(pred_masks_high_res)
        if cfg.sigmoid_scale_for_mem_enc != 1.0:
            mask_for_mem = mask_for_mem * cfg.sigmoid_scale_for_mem_enc
        if cfg.sigmoid_bias_for_mem_enc != 0.0:
            mask_for_mem = mask_for_mem + cfg.sigmoid_bias_for_mem_enc
        enc = self.memory_encoder(pix_feat, mask_for_mem, skip_mask_sigmoid=True)
        if self.no_obj_embed_spatial is not None:
            absent = 1 - (object_score_logits > 0).float()
            enc.vision_features = enc.vision_features + absent[..., None, None] * self.no_obj_embed_spatial[..., None, None]
        return enc


def apply_non_overlapping_constraints(pred_masks: Tensor) -> Tensor:
    """Keep only the highest-scoring object at each pixel: others are clamped to at most -10.

    pred_masks: (num_objects, 1, H, W) logits.
    """
    if pred_masks.size(0) == 1:
        return pred_masks
    max_obj = torch.argmax(pred_masks, dim=0, keepdim=True)
    objs = torch.arange(pred_masks.size(0), device=pred_masks.device)[:, None, None, None]
    return torch.where(max_obj == objs, pred_masks, torch.clamp(pred_masks, max=-10.0))
