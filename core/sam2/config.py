"""Typed configurations of SAM 2 (no Hydra): the four sizes of SAM 2.0 and 2.1, and small test models.

The model-level field names follow the official ``SAM2Base`` constructor and the yaml files
``sam2/configs/sam2{,.1}/sam2{,.1}_hiera_{t,s,b+,l}.yaml``; values a yaml leaves out are the
official class defaults. ``sam_mask_decoder_extra_args`` holds what the official builders
(``build_sam2``, ``build_sam2_video_predictor``) switch on: dynamic multimask via stability.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

VERSIONS: tuple[str, ...] = ("2.0", "2.1")
SIZES: tuple[str, ...] = ("tiny", "small", "base_plus", "large")


@dataclass(frozen=True)
class HieraConfig:
    """The Hiera trunk. Stage i has ``embed_dim * dim_mul**i`` channels at stride ``4 * 2**i``."""

    embed_dim: int = 96
    num_heads: int = 1
    stages: tuple[int, ...] = (2, 3, 16, 3)
    global_att_blocks: tuple[int, ...] = (12, 16, 20)
    window_spec: tuple[int, ...] = (8, 4, 14, 7)
    window_pos_embed_bkg_spatial_size: tuple[int, int] = (14, 14)
    q_pool: int = 3
    q_stride: tuple[int, int] = (2, 2)
    dim_mul: float = 2.0
    head_mul: float = 2.0
    mlp_ratio: float = 4.0

    @property
    def channel_list(self) -> tuple[int, ...]:
        """Output channels per stage, lowest resolution first (the neck's ``backbone_channel_list``)."""
        dims = [int(self.embed_dim * self.dim_mul**i) for i in range(len(self.stages))]
        return tuple(reversed(dims))


@dataclass(frozen=True)
class NeckConfig:
    """The FPN neck: 1x1 lateral convs to ``d_model``, nearest top-down fusion on some levels."""

    d_model: int = 256
    fpn_top_down_levels: tuple[int, ...] = (2, 3)
    fpn_interp_model: str = "nearest"
    fuse_type: str = "sum"
    pos_temperature: float = 10000.0
    scalp: int = 1  # lowest-resolution levels dropped after the neck


@dataclass(frozen=True)
class PromptEncoderConfig:
    mask_in_chans: int = 16


@dataclass(frozen=True)
class MaskDecoderConfig:
    """The SAM mask decoder and its two-way transformer (the official hard-coded values)."""

    num_multimask_outputs: int = 3
    transformer_depth: int = 2
    transformer_num_heads: int = 8
    transformer_mlp_dim: int = 2048
    attention_downsample_rate: int = 2
    iou_head_depth: int = 3
    iou_head_hidden_dim: int = 256


@dataclass(frozen=True)
class MaskDecoderExtraArgs:
    """``sam_mask_decoder_extra_args``: the official predictors' builders set these three."""

    dynamic_multimask_via_stability: bool = True
    dynamic_multimask_stability_delta: float = 0.05
    dynamic_multimask_stability_thresh: float = 0.98


@dataclass(frozen=True)
class MemoryAttentionConfig:
    """Memory attention: self-attention (RoPE) on the frame, cross-attention (RoPE) to memories."""

    d_model: int = 256
    num_layers: int = 4
    num_heads: int = 1
    dim_feedforward: int = 2048
    kv_in_dim: int = 64
    rope_theta: float = 10000.0
    pos_enc_at_input: bool = True
    pos_enc_at_attn: bool = False
    pos_enc_at_cross_attn_keys: bool = True
    pos_enc_at_cross_attn_queries: bool = False
    activation: str = "relu"


@dataclass(frozen=True)
class MemoryEncoderConfig:
    """Memory encoder: mask downsampler (stride 16), ConvNeXt fuser, projection to ``out_dim``."""

    out_dim: int = 64
    mask_kernel_size: int = 3
    mask_stride: int = 2
    mask_padding: int = 1
    mask_total_stride: int = 16
    fuser_num_layers: int = 2
    fuser_kernel_size: int = 7
    fuser_padding: int = 3
    layer_scale_init_value: float = 1e-6
    use_dwconv: bool = True
    pos_temperature: float = 10000.0


@dataclass(frozen=True)
class Sam2Config:
    """A whole SAM 2 model. ``version``/``size`` name the preset ("custom" for test models)."""

    version: str = "2.1"
    size: str = "tiny"
    trunk: HieraConfig = field(default_factory=HieraConfig)
    neck: NeckConfig = field(default_factory=NeckConfig)
    prompt_encoder: PromptEncoderConfig = field(default_factory=PromptEncoderConfig)
    mask_decoder: MaskDecoderConfig = field(default_factory=MaskDecoderConfig)
    memory_attention: MemoryAttentionConfig = field(default_factory=MemoryAttentionConfig)
    memory_encoder: MemoryEncoderConfig = field(default_factory=MemoryEncoderConfig)
    sam_mask_decoder_extra_args: MaskDecoderExtraArgs = field(default_factory=MaskDecoderExtraArgs)

    num_maskmem: int = 7
    image_size: int = 1024
    backbone_stride: int = 16
    sigmoid_scale_for_mem_enc: float = 20.0
    sigmoid_bias_for_mem_enc: float = -10.0
    binarize_mask_from_pts_for_mem_enc: bool = False
    use_mask_input_as_output_without_sam: bool = True
    max_cond_frames_in_attn: int = -1
    directly_add_no_mem_embed: bool = True
    use_high_res_features_in_sam: bool = True
    multimask_output_in_sam: bool = True
    multimask_min_pt_num: int = 0
    multimask_max_pt_num: int = 1
    multimask_output_for_tracking: bool = True
    use_multimask_token_for_obj_ptr: bool = True
    iou_prediction_use_sigmoid: bool = True
    memory_temporal_stride_for_eval: int = 1
    non_overlap_masks_for_mem_enc: bool = False
    use_obj_ptrs_in_encoder: bool = True
    max_obj_ptrs_in_encoder: int = 16
    add_tpos_enc_to_obj_ptrs: bool = True
    proj_tpos_enc_in_obj_ptrs: bool = True
    use_signed_tpos_enc_to_obj_ptrs: bool = True
    only_obj_ptrs_in_the_past_for_eval: bool = True
    pred_obj_scores: bool = True
    pred_obj_scores_mlp: bool = True
    fixed_no_obj_ptr: bool = True
    soft_no_obj_ptr: bool = False
    use_mlp_for_obj_ptr_proj: bool = True
    no_obj_embed_spatial: bool = True

    @property
    def hidden_dim(self) -> int:
        return self.neck.d_model

    @property
    def mem_dim(self) -> int:
        return self.memory_encoder.out_dim

    @property
    def feat_size(self) -> int:
        """Side of the lowest-resolution feature map used by the heads (64 at 1024)."""
        return self.image_size // self.backbone_stride

    @property
    def is_preset(self) -> bool:
        return self.version in VERSIONS and self.size in SIZES and self == config_for(self.version, self.size)

    def replace(self, **changes: Any) -> "Sam2Config":
        """A copy with some top-level fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (lists for tuples), suitable for a weights-only checkpoint."""

        def plain(value: Any) -> Any:
            if isinstance(value, tuple):
                return [plain(v) for v in value]
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            return value

        return plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Sam2Config":
        """Inverse of ``to_dict``; unknown keys raise ``ValueError``."""
        nested = {
            "trunk": HieraConfig,
            "neck": NeckConfig,
            "prompt_encoder": PromptEncoderConfig,
            "mask_decoder": MaskDecoderConfig,
            "memory_attention": MemoryAttentionConfig,
            "memory_encoder": MemoryEncoderConfig,
            "sam_mask_decoder_extra_args": MaskDecoderExtraArgs,
        }
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown SAM 2 config fields: {sorted(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key in nested:
                sub = nested[key]
                sub_known = {f.name for f in dataclasses.fields(sub)}
                if not isinstance(value, dict) or set(value) - sub_known:
                    raise ValueError(f"bad SAM 2 config section {key!r}: {value!r}")
                kwargs[key] = sub(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})
            else:
                kwargs[key] = value
        return cls(**kwargs)

    @classmethod
    def tiny_test(cls, image_size: int = 128) -> "Sam2Config":
        """A small model with every module of the real one, for fast tests (about 1.3M parameters).

        image_size must be a multiple of 32. Widths are reduced (hidden 64, memory 32, so each
        object pointer is split into two memory tokens as in the real models, 256 -> 4 x 64).
        """
        if image_size % 32:
            raise ValueError(f"image_size must be a multiple of 32, got {image_size}")
        return cls(
            version="custom",
            size="tiny_test",
            trunk=HieraConfig(
                embed_dim=16,
                num_heads=1,
                stages=(1, 2, 2, 1),
                global_att_blocks=(2, 4),
                window_spec=(8, 4, 4, 2),
                window_pos_embed_bkg_spatial_size=(4, 4),
            ),
            neck=NeckConfig(d_model=64),
            mask_decoder=MaskDecoderConfig(transformer_num_heads=2, transformer_mlp_dim=128, iou_head_hidden_dim=64),
            memory_attention=MemoryAttentionConfig(
                d_model=64, num_layers=2, num_heads=1, dim_feedforward=128, kv_in_dim=32
            ),
            memory_encoder=MemoryEncoderConfig(out_dim=32),
            image_size=image_size,
        )


_TRUNKS: dict[str, HieraConfig] = {
    "tiny": HieraConfig(
        embed_dim=96, num_heads=1, stages=(1, 2, 7, 2), global_att_blocks=(5, 7, 9),
        window_pos_embed_bkg_spatial_size=(7, 7),
    ),
    "small": HieraConfig(
        embed_dim=96, num_heads=1, stages=(1, 2, 11, 2), global_att_blocks=(7, 10, 13),
        window_pos_embed_bkg_spatial_size=(7, 7),
    ),
    "base_plus": HieraConfig(embed_dim=112, num_heads=2),
    "large": HieraConfig(
        embed_dim=144, num_heads=2, stages=(2, 6, 36, 4), global_att_blocks=(23, 33, 43),
        window_spec=(8, 4, 16, 8), window_pos_embed_bkg_spatial_size=(7, 7),
    ),
}


def config_for(version: str, size: str) -> Sam2Config:
    """The official configuration of SAM ``version`` ("2.0" or "2.1") in ``size``.

    size: "tiny", "small", "base_plus" or "large" (hiera_t, hiera_s, hiera_b+, hiera_l).
    """
    if version not in VERSIONS:
        raise ValueError(f"unknown SAM 2 version {version!r}; expected one of {', '.join(VERSIONS)}")
    if size not in _TRUNKS:
        raise ValueError(f"unknown SAM 2 size {size!r}; expected one of {', '.join(SIZES)}")
    cfg = Sam2Config(version=version, size=size, trunk=_TRUNKS[size])
    if version == "2.0":
        cfg = cfg.replace(
            no_obj_embed_spatial=False,
            add_tpos_enc_to_obj_ptrs=False,
            proj_tpos_enc_in_obj_ptrs=False,
            use_signed_tpos_enc_to_obj_ptrs=False,
        )
    return cfg
