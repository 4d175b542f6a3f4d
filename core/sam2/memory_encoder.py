"""Memory encoder: turns a frame's features and its predicted mask into a memory.

mask (B, 1, S, S) -> mask downsampler (stride 16) -> added to projected pixel features
(B, C, S/16, S/16) -> ConvNeXt fuser -> 1x1 projection to ``out_dim`` channels, plus a sine
position encoding of the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.sam2.common import GELU, LayerNorm2d
from core.sam2.config import MemoryEncoderConfig
from core.sam2.linear import Linear
from core.sam2.position_encoding import PositionEmbeddingSine


class MaskDownSampler(nn.Module):
    """Conv (stride ``stride``) + LayerNorm2d + GELU, repeated to ``total_stride``; then 1x1 to embed_dim.

    Channels grow by stride**2 per step (1 -> 4 -> 16 -> 64 -> 256 for stride 2, total 16).
    """

    def __init__(self, embed_dim: int, kernel_size: int, stride: int, padding: int, total_stride: int) -> None:
        super().__init__()
        num_layers = int(math.log2(total_stride) // math.log2(stride))
        if stride**num_layers != total_stride:
            raise ValueError("total_stride must be a power of stride")
        self.encoder = nn.Sequential()
        c_in = c_out = 1
        for _ in range(num_layers):
            c_out = c_in * stride**2
            self.encoder.append(nn.Conv2d(c_in, c_out, kernel_size=kernel_size, stride=stride, padding=padding))
            self.encoder.append(LayerNorm2d(c_out))
            self.encoder.append(GELU())
            c_in = c_out
        self.encoder.append(nn.Conv2d(c_out, embed_dim, kernel_size=1))

    def forward(self, x: Tensor) -> Tensor:
        return self.encoder(x)


class CXBlock(nn.Module):
    """ConvNeXt block: depthwise conv, LayerNorm, pointwise MLP (x4), layer scale ``gamma``, residual."""

    def __init__(self, dim: int, kernel_size: int, padding: int, layer_scale_init_value: float, use_dwconv: bool) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=kernel_size, padding=padding, groups=dim if use_dwconv else 1)
        self.norm = LayerNorm2d(dim, eps=1e-6)
        self.pwconv1 = Linear(dim, 4 * dim)
        self.act = GELU()
        self.pwconv2 = Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones(dim)) if layer_scale_init_value > 0 else None

    def forward(self, x: Tensor) -> Tensor:
        y = self.norm(self.dwconv(x)).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(y)))
        if self.gamma is not None:
            y = self.gamma * y
        return x + y.permute(0, 3, 1, 2)


class Fuser(nn.Module):
    """A stack of CXBlocks (``layers.i``)."""

    def __init__(self, dim: int, cfg: MemoryEncoderConfig) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            CXBlock(dim, cfg.fuser_kernel_size, cfg.fuser_padding, cfg.layer_scale_init_value, cfg.use_dwconv)
            for _ in range(cfg.fuser_num_layers)
        )

    def forward(self, x: Tensor) -> Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@dataclass
class MemoryEncoding:
    """A frame's encoded memory. vision_features (B, out_dim, h, w); vision_pos_enc (B, out_dim, h, w)."""

    vision_features: Tensor
    vision_pos_enc: Tensor


class MemoryEncoder(nn.Module):
    """forward(pix_feat (B, in_dim, h, w), masks (B, 1, 16h, 16w), skip_mask_sigmoid) -> MemoryEncoding.

    The official code returns {"vision_features": x, "vision_pos_enc": [pos]}; here the same two
    tensors are fields of ``MemoryEncoding`` (pos not wrapped in a list).
    """

    def __init__(self, in_dim: int, cfg: MemoryEncoderConfig) -> None:
        super().__init__()
        self.mask_downsampler = MaskDownSampler(
            in_dim, cfg.mask_kernel_size, cfg.mask_stride, cfg.mask_padding, cfg.mask_total_stride
        )
        self.pix_feat_proj = nn.Conv2d(in_dim, in_dim, kernel_size=1)
        self.fuser = Fuser(in_dim, cfg)
        self.position_encoding = PositionEmbeddingSine(cfg.out_dim, temperature=cfg.pos_temperature)
        self.out_proj: nn.Module = nn.Conv2d(in_dim, cfg.out_dim, kernel_size=1) if cfg.out_dim != in_dim else nn.Identity()

    def forward(self, pix_feat: Tensor, masks: Tensor, skip_mask_sigmoid: bool = False) -> MemoryEncoding:
        if not skip_mask_sigmoid:
            masks = F.sigmoid(masks)
        masks = self.mask_downsampler(masks)
        x = self.pix_feat_proj(pix_feat.to(masks.device)) + masks
        x = self.out_proj(self.fuser(x))
        pos = self.position_encoding(x).to(x.dtype)
        return MemoryEncoding(vision_features=x, vision_pos_enc=pos)
