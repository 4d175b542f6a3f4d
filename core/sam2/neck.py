"""The image encoder: Hiera trunk + FPN neck (with sine position encodings) + scalp."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from core.sam2.config import HieraConfig, NeckConfig
from core.sam2.hiera import Hiera
from core.sam2.position_encoding import PositionEmbeddingSine


class FpnNeck(nn.Module):
    """Lateral 1x1 convs to d_model; top-down nearest-upsampled sums on ``fpn_top_down_levels``.

    forward(xs: per-stage maps, highest resolution first) -> (features, position encodings),
    both lists of (B, d_model, H_i, W_i) in the same order.
    """

    def __init__(self, cfg: NeckConfig, backbone_channel_list: list[int]) -> None:
        super().__init__()
        if cfg.fuse_type not in ("sum", "avg"):
            raise ValueError(f"fuse_type must be sum or avg, not {cfg.fuse_type!r}")
        self.position_encoding = PositionEmbeddingSine(cfg.d_model, temperature=cfg.pos_temperature)
        self.convs = nn.ModuleList()
        self.backbone_channel_list = list(backbone_channel_list)
        self.d_model = cfg.d_model
        for dim in backbone_channel_list:
            current = nn.Sequential()
            current.add_module("conv", nn.Conv2d(dim, cfg.d_model, kernel_size=1))
            self.convs.append(current)
        self.fpn_interp_model = cfg.fpn_interp_model
        self.fuse_type = cfg.fuse_type
        self.fpn_top_down_levels = list(cfg.fpn_top_down_levels)

    def forward(self, xs: list[torch.Tensor]) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        n = len(self.convs) - 1
        out: list[torch.Tensor] = [xs[0]] * (n + 1)
        pos: list[torch.Tensor] = [xs[0]] * (n + 1)
        prev: torch.Tensor | None = None
        for i in range(n, -1, -1):  # top-down: lowest resolution first
            lateral = self.convs[n - i](xs[i])
            if i in self.fpn_top_down_levels and prev is not None:
                top_down = F.interpolate(
                    prev.to(dtype=torch.float32),
                    scale_factor=2.0,
                    mode=self.fpn_interp_model,
                    align_corners=None if self.fpn_interp_model == "nearest" else False,
                    antialias=False,
                )
                prev = lateral + top_down
                if self.fuse_type == "avg":
                    prev = prev / 2
            else:
                prev = lateral
            out[i] = prev
            pos[i] = self.position_encoding(prev).to(prev.dtype)
        return out, pos


@dataclass
class BackboneOutput:
    """Raw image-encoder output, highest resolution first.

    backbone_fpn: list of (B, d_model, H_i, W_i); vision_pos_enc: matching sine encodings.
    """

    backbone_fpn: list[torch.Tensor]
    vision_pos_enc: list[torch.Tensor]


class ImageEncoder(nn.Module):
    """trunk -> neck, dropping the ``scalp`` lowest-resolution levels."""

    def __init__(self, trunk_cfg: HieraConfig, neck_cfg: NeckConfig) -> None:
        super().__init__()
        self.trunk = Hiera(trunk_cfg)
        self.neck = FpnNeck(neck_cfg, self.trunk.channel_list)
        self.scalp = neck_cfg.scalp

    def forward(self, sample: torch.Tensor) -> BackboneOutput:
        features, pos = self.neck(self.trunk(sample))
        if self.scalp > 0:
            features, pos = features[: -self.scalp], pos[: -self.scalp]
        return BackboneOutput(backbone_fpn=features, vision_pos_enc=pos)
