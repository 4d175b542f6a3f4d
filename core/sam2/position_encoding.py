"""Position encodings: 2-D sine (neck, memory encoder), random Fourier (prompts), 1-D sine
(object-pointer temporal encoding) and axial rotary encoding (memory attention)."""

from __future__ import annotations

import math

import torch
from torch import nn


class PositionEmbeddingSine(nn.Module):
    """Normalised 2-D sine/cosine encoding of a feature map's grid (no parameters).

    forward(x: (B, *, H, W)) -> (B, num_pos_feats, H, W), y features first then x.
    Cached per (H, W, device): it depends on nothing but the grid.
    """

    def __init__(self, num_pos_feats: int, temperature: float = 10000.0, scale: float = 2 * math.pi) -> None:
        super().__init__()
        if num_pos_feats % 2:
            raise ValueError("num_pos_feats must be even")
        self.num_pos_feats = num_pos_feats // 2
        self.temperature = temperature
        self.scale = scale
        self._cache: dict[tuple[int, int, torch.device], torch.Tensor] = {}

    def _grid(self, h: int, w: int, device: torch.device) -> torch.Tensor:
        key = (h, w, device)
        pos = self._cache.get(key)
        if pos is not None:
            return pos
        eps = 1e-6
        y = torch.arange(1, h + 1, dtype=torch.float32, device=device).view(h, 1).expand(h, w)
        x = torch.arange(1, w + 1, dtype=torch.float32, device=device).view(1, w).expand(h, w)
        y = y / (h + eps) * self.scale
        x = x / (w + eps) * self.scale
        dim_t = torch.arange(self.num_pos_feats, dtype=torch.float32, device=device)
        dim_t = self.temperature ** (2 * (dim_t // 2) / self.num_pos_feats)
        pos_x = x[:, :, None] / dim_t
        pos_y = y[:, :, None] / dim_t
        pos_x = torch.stack((pos_x[:, :, 0::2].sin(), pos_x[:, :, 1::2].cos()), dim=3).flatten(2)
        pos_y = torch.stack((pos_y[:, :, 0::2].sin(), pos_y[:, :, 1::2].cos()), dim=3).flatten(2)
        pos = torch.cat((pos_y, pos_x), dim=2).permute(2, 0, 1).contiguous()
        self._cache[key] = pos
        return pos

    @torch.no_grad()
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pos = self._grid(x.shape[-2], x.shape[-1], x.device)
        return pos.unsqueeze(0).expand(x.shape[0], -1, -1, -1)


class PositionEmbeddingRandom(nn.Module):
    """Random Fourier features of normalised coordinates (the prompt encoder's ``pe_layer``).

    The Gaussian matrix (2, num_pos_feats) is a buffer saved in the checkpoint.
    """

    def __init__(self, num_pos_feats: int = 64) -> None:
        super().__init__()
        self.register_buffer("positional_encoding_gaussian_matrix", torch.randn((2, num_pos_feats)))

    def _pe_encoding(self, coords: torch.Tensor) -> torch.Tensor:
        """coords: (..., 2) in [0, 1] -> (..., 2 * num_pos_feats)."""
        coords = 2 * coords - 1
        coords = coords @ self.positional_encoding_gaussian_matrix
        coords = 2 * math.pi * coords
        return torch.cat([torch.sin(coords), torch.cos(coords)], dim=-1)

    def forward(self, size: tuple[int, int]) -> torch.Tensor:
        """Encoding of the centres of an (h, w) grid -> (C, h, w)."""
        h, w = size
        device = self.positional_encoding_gaussian_matrix.device
        grid = torch.ones((h, w), device=device, dtype=torch.float32)
        y_embed = (grid.cumsum(dim=0) - 0.5) / h
        x_embed = (grid.cumsum(dim=1) - 0.5) / w
        pe = self._pe_encoding(torch.stack([x_embed, y_embed], dim=-1))
        return pe.permute(2, 0, 1)

    def forward_with_coords(self, coords: torch.Tensor, image_size: tuple[int, int]) -> torch.Tensor:
        """coords: (B, N, 2) pixels of the model input, x then y; image_size (H, W) -> (B, N, C)."""
        norm = torch.stack((coords[..., 0] / image_size[1], coords[..., 1] / image_size[0]), dim=-1)
        return self._pe_encoding(norm.float())


def get_1d_sine_pe(pos_inds: torch.Tensor, dim: int, temperature: float = 10000.0) -> torch.Tensor:
    """1-D sine encoding: pos_inds (N,) float -> (N, dim), sines then cosines."""
    pe_dim = dim // 2
    dim_t = torch.arange(pe_dim, dtype=torch.float32, device=pos_inds.device)
    dim_t = temperature ** (2 * (dim_t // 2) / pe_dim)
    pos_embed = pos_inds.unsqueeze(-1) / dim_t
    return torch.cat([pos_embed.sin(), pos_embed.cos()], dim=-1)


def axial_rope_angles(dim: int, end_x: int, end_y: int, theta: float = 10000.0) -> torch.Tensor:
    """Rotation angles of axial RoPE for a row-major (end_y, end_x) grid -> (end_x * end_y, dim // 2).

    The first dim // 4 angles rotate by the x position, the last dim // 4 by the y position.
    """
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 4)[: dim // 4].float() / dim))
    t = torch.arange(end_x * end_y, dtype=torch.float32)
    t_x = t % end_x
    t_y = torch.div(t, end_x, rounding_mode="floor")
    return torch.cat([torch.outer(t_x, freqs), torch.outer(t_y, freqs)], dim=-1)


def rotate_pairs_(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotate consecutive channel pairs of a float32 x (..., N, D) in place (RoPE).

    cos, sin: (N, D // 2), broadcast over the leading dimensions. The same products and sums
    as the official complex multiply, so the same bits, with two half-size temporaries.
    """
    pairs = x.unflatten(-1, (-1, 2))
    x0, x1 = pairs[..., 0], pairs[..., 1]
    x0_sin = x0 * sin
    x0.mul_(cos).sub_(x1 * sin)
    x1.mul_(cos).add_(x0_sin)
    return x
