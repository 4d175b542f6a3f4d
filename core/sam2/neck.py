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

    def forward(
        self, xs: list[torch.Tensor], then: dict[int, nn.Conv2d] | None = None
    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """then: a 1x1 conv to apply after a level's output (level index, highest resolution 0).
        On a level without top-down fusion it is folded into the lateral conv: one conv with the
        product of the two weight matrices, instead of two convs through d_model channels (at
        1024 the lateral conv of level 0 alone is a 96 -> 256 conv over 256 x 256 pixels)."""
        then = then or {}
        n = len(self.convs) - 1
        out: list[torch.Tensor] = [xs[0]] * (n + 1)
        pos: list[torch.Tensor] = [xs[0]] * (n + 1)
        prev: torch.Tensor | None = None
        for i in range(n, -1, -1):  # top-down: lowest resolution first
            fused = i in then and i not in self.fpn_top_down_levels
            lateral = _folded(self.convs[n - i].conv, then[i], xs[i]) if fused else self.convs[n - i](xs[i])
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
            out[i] = prev if fused or i not in then else then[i](prev)
            pos[i] = self.position_encoding(prev).to(prev.dtype)
        return out, pos


def _folded(first: nn.Conv2d, second: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """second(first(x)) for two 1x1 convs, as one conv (weights multiplied in float32 each call,
    so they always follow the loaded weights; 32 x 256 x 96 multiply-adds for level 0)."""
    w1, w2 = first.weight.flatten(1), second.weight.flatten(1)  # (C1, Cin), (C2, C1)
    weight = (w2 @ w1).reshape(w2.shape[0], w1.shape[1], 1, 1)
    bias = second.bias if first.bias is None else w2 @ first.bias + (0 if second.bias is None else second.bias)
    return F.conv2d(x, weight.to(x.dtype), None if bias is None else bias.to(x.dtype))


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

    def forward(self, sample: torch.Tensor, then: dict[int, nn.Conv2d] | None = None) -> BackboneOutput:
        """then: 1x1 convs applied to levels' outputs (FpnNeck.forward)."""
        features, pos = self.neck(self.trunk(sample), then)
        if self.scalp > 0:
            features, pos = features[: -self.scalp], pos[: -self.scalp]
        return BackboneOutput(backbone_fpn=features, vision_pos_enc=pos)
