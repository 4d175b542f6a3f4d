"""Hiera trunk (hierarchical vision transformer with windowed attention and query pooling).

Input (B, 3, S, S) normalised image; output one (B, C_i, S / 4 / 2**i, ...) map per stage,
highest resolution first. State-dict names follow the official ``Hiera``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.sam2.common import MLP
from core.sam2.config import HieraConfig
from core.sam2.linear import Linear


def window_partition(x: torch.Tensor, window: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """(B, H, W, C) -> (B * nWin, window, window, C), zero-padding H and W up to multiples."""
    b, h, w, c = x.shape
    pad_h = (window - h % window) % window
    pad_w = (window - w % window) % window
    if pad_h or pad_w:
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h))
    hp, wp = h + pad_h, w + pad_w
    x = x.view(b, hp // window, window, wp // window, window, c)
    return x.permute(0, 1, 3, 2, 4, 5).reshape(-1, window, window, c), (hp, wp)


def window_unpartition(windows: torch.Tensor, window: int, pad_hw: tuple[int, int], hw: tuple[int, int]) -> torch.Tensor:
    """Inverse of ``window_partition``: back to (B, H, W, C), padding removed."""
    hp, wp = pad_hw
    h, w = hw
    b = windows.shape[0] // (hp * wp // window // window)
    x = windows.reshape(b, hp // window, wp // window, window, window, -1)
    x = x.permute(0, 1, 3, 2, 4, 5).reshape(b, hp, wp, -1)
    if hp > h or wp > w:
        x = x[:, :h, :w, :]
    return x


class PatchEmbed(nn.Module):
    """7x7 stride-4 convolution: (B, 3, S, S) -> (B, S/4, S/4, C) channels last."""

    def __init__(self, embed_dim: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, embed_dim, kernel_size=7, stride=4, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


def _pool(x: torch.Tensor, pool: nn.MaxPool2d) -> torch.Tensor:
    """Max-pool a channels-last (B, H, W, C) map (any strides) -> contiguous (B, H', W', C).

    The common case, a 2x2 window with stride 2 on an even map, is three elementwise maxima
    over strided views: the queries arrive as a slice of the qkv projection (token stride
    3C), which ``max_pool2d`` would first copy into channels-first order (at 1024 px, 12 ms
    against 4 ms for the first pooled block). Same values: a max picks one of its inputs, NaN
    wins.
    """
    b, h, w, c = x.shape
    if pool.kernel_size in (2, (2, 2)) and pool.stride in (2, (2, 2)) and not (h % 2 or w % 2) and not pool.padding:
        v = x.unflatten(2, (w // 2, 2)).unflatten(1, (h // 2, 2))  # (B, H/2, 2, W/2, 2, C)
        out = torch.maximum(v[:, :, 0, :, 0], v[:, :, 0, :, 1])
        torch.maximum(out, v[:, :, 1, :, 0], out=out)
        return torch.maximum(out, v[:, :, 1, :, 1], out=out)
    return pool(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)


class MultiScaleAttention(nn.Module):
    """Multi-head attention on (B, H, W, C), with optional max-pooling of the queries."""

    def __init__(self, dim: int, dim_out: int, num_heads: int, q_pool: nn.MaxPool2d | None = None) -> None:
        super().__init__()
        self.dim_out = dim_out
        self.num_heads = num_heads
        self.q_pool = q_pool
        self.qkv = Linear(dim, dim_out * 3)
        self.proj = Linear(dim_out, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, h, w, _ = x.shape
        qkv = self.qkv(x).reshape(b, h * w, 3, self.num_heads, -1)
        q, k, v = torch.unbind(qkv, 2)
        if self.q_pool is not None:
            q = _pool(q.reshape(b, h, w, -1), self.q_pool)  # a view: (heads, d) are adjacent in qkv
            h, w = q.shape[1:3]
            q = q.reshape(b, h * w, self.num_heads, -1)
        x = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2))
        x = x.transpose(1, 2).reshape(b, h, w, -1)
        return self.proj(x)


class MultiScaleBlock(nn.Module):
    """Pre-norm transformer block; at a stage change it projects and pools the residual too."""

    def __init__(
        self,
        dim: int,
        dim_out: int,
        num_heads: int,
        mlp_ratio: float,
        q_stride: tuple[int, int] | None,
        window_size: int,
    ) -> None:
        super().__init__()
        self.dim = dim
        self.dim_out = dim_out
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.window_size = window_size
        self.q_stride = q_stride
        self.pool = nn.MaxPool2d(kernel_size=q_stride, stride=q_stride) if q_stride else None
        self.attn = MultiScaleAttention(dim, dim_out, num_heads=num_heads, q_pool=self.pool)
        self.norm2 = nn.LayerNorm(dim_out, eps=1e-6)
        self.mlp = MLP(dim_out, int(dim_out * mlp_ratio), dim_out, num_layers=2, activation=nn.GELU)
        if dim != dim_out:
            self.proj = Linear(dim, dim_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.norm1(x)
        if self.dim != self.dim_out:
            shortcut = _pool(self.proj(x), self.pool) if self.pool is not None else self.proj(x)

        window = self.window_size
        if window > 0:
            h, w = x.shape[1], x.shape[2]
            x, pad_hw = window_partition(x, window)
        x = self.attn(x)
        if self.q_stride and self.window_size > 0:
            # queries were pooled: the windows (and the map) shrank by the stride
            window = self.window_size // self.q_stride[0]
            h, w = shortcut.shape[1:3]
            pad_hw = (h + (window - h % window) % window, w + (window - w % window) % window)
        if self.window_size > 0:
            x = window_unpartition(x, window, pad_hw, (h, w))

        # x is a fresh tensor here (attention output), so the residual sums can run in place
        x = x.add_(shortcut)
        return self.mlp(self.norm2(x)).add_(x)


class Hiera(nn.Module):
    """The trunk. ``channel_list``: output channels, lowest resolution first."""

    def __init__(self, cfg: HieraConfig) -> None:
        super().__init__()
        if len(cfg.stages) != len(cfg.window_spec):
            raise ValueError("stages and window_spec must have the same length")
        self.window_spec = cfg.window_spec
        depth = sum(cfg.stages)
        self.stage_ends = [sum(cfg.stages[:i]) - 1 for i in range(1, len(cfg.stages) + 1)]
        q_pool_blocks = [x + 1 for x in self.stage_ends[:-1]][: cfg.q_pool]

        embed_dim = cfg.embed_dim
        num_heads = cfg.num_heads
        self.patch_embed = PatchEmbed(embed_dim)
        self.global_att_blocks = tuple(cfg.global_att_blocks)
        self.pos_embed = nn.Parameter(torch.zeros(1, embed_dim, *cfg.window_pos_embed_bkg_spatial_size))
        self.pos_embed_window = nn.Parameter(torch.zeros(1, embed_dim, cfg.window_spec[0], cfg.window_spec[0]))

        cur_stage = 1
        self.blocks = nn.ModuleList()
        for i in range(depth):
            dim_out = embed_dim
            # the window size lags by one block: a stage's first block keeps the previous size
            window_size = 0 if i in self.global_att_blocks else cfg.window_spec[cur_stage - 1]
            if i - 1 in self.stage_ends:
                dim_out = int(embed_dim * cfg.dim_mul)
                num_heads = int(num_heads * cfg.head_mul)
                cur_stage += 1
            self.blocks.append(
                MultiScaleBlock(
                    dim=embed_dim,
                    dim_out=dim_out,
                    num_heads=num_heads,
                    mlp_ratio=cfg.mlp_ratio,
                    q_stride=cfg.q_stride if i in q_pool_blocks else None,
                    window_size=window_size,
                )
            )
            embed_dim = dim_out
        self.channel_list = [self.blocks[i].dim_out for i in self.stage_ends[::-1]]
        self._pos_cache: tuple[tuple, torch.Tensor] | None = None

    def _get_pos_embed(self, hw: tuple[int, int]) -> torch.Tensor:
        """Background embedding resized to (h, w) plus the tiled window embedding -> (1, h, w, C).

        Without autograd it is cached, keyed by the parameters' identity and version, since it
        depends on nothing else (a bicubic resize per image otherwise).
        """
        # inference tensors (a model built under inference mode) have no version counter
        cacheable = not torch.is_grad_enabled() and not self.pos_embed.is_inference()
        key = None
        if cacheable:
            key = (hw, self.pos_embed.data_ptr(), self.pos_embed._version, self.pos_embed_window._version)
            if self._pos_cache is not None and self._pos_cache[0] == key:
                return self._pos_cache[1]
        pos = F.interpolate(self.pos_embed, size=hw, mode="bicubic")
        win = self.pos_embed_window
        pos = (pos + win.tile([p // q for p, q in zip(pos.shape, win.shape)])).permute(0, 2, 3, 1)
        if key is not None:
            self._pos_cache = (key, pos)
        return pos

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        x = self.patch_embed(x)
        x = x + self._get_pos_embed(x.shape[1:3])
        outputs = []
        for i, blk in enumerate(self.blocks):
            x = blk(x)
            if i in self.stage_ends:
                feats = x.permute(0, 3, 1, 2)
                if not outputs:
                    # The official first stage ends in channels-first memory (its residual sums
                    # inherit the patch embedding's layout); giving the neck's 1x1 conv that same
                    # layout keeps oneDNN on the same kernel, so the features stay bit-identical.
                    feats = feats.contiguous()
                outputs.append(feats)
        return outputs
