"""Attention layers: plain multi-head attention, attention with axial rotary encoding (RoPE),
and the mask decoder's two-way transformer. Attention goes through
``F.scaled_dot_product_attention``, except the memory attention's cross-attention on CPU, which
takes the blocked kernel of ``core.sam2.cpu_attention``."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from core.sam2.common import MLP
from core.sam2.cpu_attention import attention_with_low_rank_values, chunked_attention, use_chunked
from core.sam2.linear import Linear
from core.sam2.position_encoding import axial_rope_angles, rotate_pairs_


class Attention(nn.Module):
    """Multi-head attention with projections to ``embedding_dim // downsample_rate`` channels.

    q: (B, Nq, embedding_dim), k and v: (B, Nk, kv_in_dim) -> (B, Nq, embedding_dim).
    """

    def __init__(self, embedding_dim: int, num_heads: int, downsample_rate: int = 1, kv_in_dim: int | None = None) -> None:
        super().__init__()
        self.embedding_dim = embedding_dim
        self.kv_in_dim = kv_in_dim if kv_in_dim is not None else embedding_dim
        self.internal_dim = embedding_dim // downsample_rate
        self.num_heads = num_heads
        if self.internal_dim % num_heads:
            raise ValueError("num_heads must divide the internal dimension")
        self.q_proj = Linear(embedding_dim, self.internal_dim)
        self.k_proj = Linear(self.kv_in_dim, self.internal_dim)
        self.v_proj = Linear(self.kv_in_dim, self.internal_dim)
        self.out_proj = Linear(self.internal_dim, embedding_dim)

    def _heads(self, x: Tensor) -> Tensor:
        b, n, c = x.shape
        return x.reshape(b, n, self.num_heads, c // self.num_heads).transpose(1, 2)

    def _merge(self, x: Tensor) -> Tensor:
        b, h, n, c = x.shape
        return x.transpose(1, 2).reshape(b, n, h * c)

    def forward(self, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
        q = self._heads(self.q_proj(q))
        k = self._heads(self.k_proj(k))
        v = self._heads(self.v_proj(v))
        out = F.scaled_dot_product_attention(q, k, v)
        return self.out_proj(self._merge(out))


class RoPEAttention(Attention):
    """Attention with axial RoPE on a square grid of query tokens.

    The queries are an (s, s) grid flattened row-major. With ``rope_k_repeat`` the keys may be
    several such grids (memories of several frames) followed by ``num_k_exclude_rope`` tokens
    (object pointers) that are not rotated.
    """

    def __init__(
        self,
        embedding_dim: int,
        num_heads: int,
        downsample_rate: int = 1,
        kv_in_dim: int | None = None,
        rope_theta: float = 10000.0,
        rope_k_repeat: bool = False,
    ) -> None:
        super().__init__(embedding_dim, num_heads, downsample_rate, kv_in_dim)
        self.rope_theta = rope_theta
        self.rope_k_repeat = rope_k_repeat
        self._rope_cache: dict[tuple[int, torch.device], tuple[Tensor, Tensor]] = {}

    def _cos_sin(self, n: int, device: torch.device) -> tuple[Tensor, Tensor]:
        key = (n, device)
        cached = self._rope_cache.get(key)
        if cached is None:
            side = math.isqrt(n)
            if side * side != n:
                raise ValueError(f"RoPE attention needs a square grid of queries, got {n} tokens")
            angles = axial_rope_angles(self.internal_dim // self.num_heads, side, side, self.rope_theta)
            cached = (angles.cos().to(device), angles.sin().to(device))
            self._rope_cache[key] = cached
        return cached

    def forward(self, q: Tensor, k: Tensor, v: Tensor, num_k_exclude_rope: int = 0) -> Tensor:
        # The projections are fresh float32 tensors (RoPE runs in float32, as the official
        # complex multiply): they are rotated in place.
        q, k = self.q_proj(q), self.k_proj(k)
        dtype = q.dtype
        q, k = self._heads(q.float()), self._heads(k.float())
        nq = q.shape[-2]
        cos, sin = self._cos_sin(nq, q.device)
        rotate_pairs_(q, cos, sin)
        num_k_rope = k.shape[-2] - num_k_exclude_rope
        if num_k_rope > 0:
            if num_k_rope % nq or (num_k_rope != nq and not self.rope_k_repeat):
                raise ValueError(f"{num_k_rope} rotary keys do not tile {nq} queries")
            # Memories of several frames share the query grid's angles: one (nq, D/2) table,
            # broadcast over the frames.
            rotate_pairs_(k[:, :, :num_k_rope].unflatten(2, (-1, nq)), cos, sin)
        q, k = q.to(dtype), k.to(dtype)
        # Values projected after the softmax pay off when the memories are narrower than a head.
        low_rank = self.kv_in_dim < q.shape[-1]
        if use_chunked(q, k.shape[-2], low_rank):
            if low_rank:
                out = attention_with_low_rank_values(q, k, v, self.v_proj.weight, self.v_proj.bias)
            else:
                out = chunked_attention(q, k, self._heads(self.v_proj(v)))
        else:
            out = F.scaled_dot_product_attention(q, k, self._heads(self.v_proj(v)))
        return self.out_proj(self._merge(out))


class TwoWayAttentionBlock(nn.Module):
    """Tokens self-attend, attend to the image, MLP; then the image attends to the tokens."""

    def __init__(
        self, embedding_dim: int, num_heads: int, mlp_dim: int, attention_downsample_rate: int, skip_first_layer_pe: bool
    ) -> None:
        super().__init__()
        self.self_attn = Attention(embedding_dim, num_heads)
        self.norm1 = nn.LayerNorm(embedding_dim)
        self.cross_attn_token_to_image = Attention(embedding_dim, num_heads, downsample_rate=attention_downsample_rate)
        self.norm2 = nn.LayerNorm(embedding_dim)
        self.mlp = MLP(embedding_dim, mlp_dim, embedding_dim, num_layers=2, activation=nn.ReLU)
        self.norm3 = nn.LayerNorm(embedding_dim)
        self.norm4 = nn.LayerNorm(embedding_dim)
        self.cross_attn_image_to_token = Attention(embedding_dim, num_heads, downsample_rate=attention_downsample_rate)
        self.skip_first_layer_pe = skip_first_layer_pe

    def forward(self, queries: Tensor, keys: Tensor, query_pe: Tensor, key_pe: Tensor) -> tuple[Tensor, Tensor]:
        if self.skip_first_layer_pe:
            queries = self.self_attn(q=queries, k=queries, v=queries)
        else:
            q = queries + query_pe
            queries = queries + self.self_attn(q=q, k=q, v=queries)
        queries = self.norm1(queries)

        q = queries + query_pe
        k = keys + key_pe
        queries = self.norm2(queries + self.cross_attn_token_to_image(q=q, k=k, v=keys))

        queries = self.norm3(queries + self.mlp(queries))

        q = queries + query_pe
        keys = self.norm4(keys + self.cross_attn_image_to_token(q=k, k=q, v=queries))
        return queries, keys


class TwoWayTransformer(nn.Module):
    """The mask decoder's transformer.

    forward(image_embedding (B, C, h, w), image_pe (B, C, h, w), point_embedding (B, N, C))
    -> (tokens (B, N, C), image tokens (B, h*w, C)).
    """

    def __init__(self, depth: int, embedding_dim: int, num_heads: int, mlp_dim: int, attention_downsample_rate: int = 2) -> None:
        super().__init__()
        self.layers = nn.ModuleList(
            TwoWayAttentionBlock(embedding_dim, num_heads, mlp_dim, attention_downsample_rate, skip_first_layer_pe=(i == 0))
            for i in range(depth)
        )
        self.final_attn_token_to_image = Attention(embedding_dim, num_heads, downsample_rate=attention_downsample_rate)
        self.norm_final_attn = nn.LayerNorm(embedding_dim)

    def forward(self, image_embedding: Tensor, image_pe: Tensor, point_embedding: Tensor) -> tuple[Tensor, Tensor]:
        image_embedding = image_embedding.flatten(2).permute(0, 2, 1)
        image_pe = image_pe.flatten(2).permute(0, 2, 1)
        queries, keys = point_embedding, image_embedding
        for layer in self.layers:
            queries, keys = layer(queries=queries, keys=keys, query_pe=point_embedding, key_pe=image_pe)
        q = queries + point_embedding
        k = keys + image_pe
        queries = self.norm_final_attn(queries + self.final_attn_token_to_image(q=q, k=k, v=keys))
        return queries, keys
