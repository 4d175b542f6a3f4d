"""Memory attention: conditions the current frame's features on the memory bank.

Each layer: RoPE self-attention over the frame's tokens, RoPE cross-attention to the memory
tokens (spatial memories of several frames, rotated, then object-pointer tokens, not rotated),
then an MLP; pre-norm residuals throughout. Dropout is absent (inference only).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from core.sam2.common import activation_fn
from core.sam2.config import MemoryAttentionConfig
from core.sam2.linear import Linear
from core.sam2.transformer import RoPEAttention


class MemoryAttentionLayer(nn.Module):
    """One layer, batch-first: tgt (B, HW, d_model), memory (B, M, kv_in_dim)."""

    def __init__(self, cfg: MemoryAttentionConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.d_model = d
        self.self_attn = RoPEAttention(d, cfg.num_heads, rope_theta=cfg.rope_theta)
        self.cross_attn_image = RoPEAttention(
            d, cfg.num_heads, kv_in_dim=cfg.kv_in_dim, rope_theta=cfg.rope_theta, rope_k_repeat=True
        )
        self.linear1 = Linear(d, cfg.dim_feedforward)
        self.linear2 = Linear(cfg.dim_feedforward, d)
        self.norm1 = nn.LayerNorm(d)
        self.norm2 = nn.LayerNorm(d)
        self.norm3 = nn.LayerNorm(d)
        self.activation = activation_fn(cfg.activation)
        self.pos_enc_at_attn = cfg.pos_enc_at_attn
        self.pos_enc_at_cross_attn_queries = cfg.pos_enc_at_cross_attn_queries
        self.pos_enc_at_cross_attn_keys = cfg.pos_enc_at_cross_attn_keys

    def forward(
        self,
        tgt: Tensor,
        memory: Tensor,
        pos: Tensor | None,
        query_pos: Tensor | None,
        num_k_exclude_rope: int = 0,
        same_tgt: bool = False,
    ) -> Tensor:
        """tgt (B, HW, C), memory (B, M, C_mem), pos (B, M, C_mem), query_pos (B, HW, C) -> (B, HW, C).

        ``same_tgt``: every batch entry of tgt and query_pos is the same (several objects on one
        frame before any memory was read), so the self-attention runs once for all of them.
        """
        batch = tgt.shape[0]
        if same_tgt:
            tgt = tgt[:1]
            query_pos = query_pos[:1] if query_pos is not None else None
        tgt2 = self.norm1(tgt)
        q = tgt2 + query_pos if self.pos_enc_at_attn else tgt2
        tgt = tgt + self.self_attn(q, q, v=tgt2)
        if same_tgt:
            tgt = tgt.expand(batch, -1, -1)
            query_pos = query_pos.expand(batch, -1, -1) if query_pos is not None else None

        tgt2 = self.norm2(tgt)
        tgt = tgt + self.cross_attn_image(
            q=tgt2 + query_pos if self.pos_enc_at_cross_attn_queries else tgt2,
            k=memory + pos if self.pos_enc_at_cross_attn_keys else memory,
            v=memory,
            num_k_exclude_rope=num_k_exclude_rope,
        )
        hidden = self.linear1(self.norm3(tgt))
        # The hidden layer is the largest tensor here (8x the tokens' size): activate it in place.
        hidden = self.activation(hidden, inplace=not hidden.requires_grad)
        return tgt + self.linear2(hidden)


class MemoryAttention(nn.Module):
    """The stack of layers and a final LayerNorm (sequence-first interface, as the official one).

    forward(curr (HW, B, C), memory (M, B, C_mem), curr_pos (HW, B, C), memory_pos (M, B, C_mem),
    num_obj_ptr_tokens: the last tokens of memory that are object pointers) -> (HW, B, C).
    The spatial memory tokens (M - num_obj_ptr_tokens) must be a whole number of HW grids.
    ``curr`` and ``curr_pos`` may also be one-element lists, as the official code passes them.
    """

    def __init__(self, cfg: MemoryAttentionConfig) -> None:
        super().__init__()
        self.d_model = cfg.d_model
        self.layers = nn.ModuleList(MemoryAttentionLayer(cfg) for _ in range(cfg.num_layers))
        self.num_layers = cfg.num_layers
        self.norm = nn.LayerNorm(cfg.d_model)
        self.pos_enc_at_input = cfg.pos_enc_at_input

    def forward(
        self,
        curr: Tensor | list[Tensor],
        memory: Tensor,
        curr_pos: Tensor | list[Tensor] | None = None,
        memory_pos: Tensor | None = None,
        num_obj_ptr_tokens: int = 0,
    ) -> Tensor:
        if isinstance(curr, list):
            curr = curr[0]
        if isinstance(curr_pos, list):
            curr_pos = curr_pos[0]
        if curr.shape[1] != memory.shape[1]:
            raise ValueError("curr and memory must have the same batch size")
        # Objects tracked together on a frame start from the same (expanded) features: compute
        # what depends on those alone once, up to the first layer's self-attention.
        batch = curr.shape[1]
        same = batch > 1 and curr.stride(1) == 0 and (curr_pos is None or curr_pos.stride(1) == 0)
        if same:
            curr = curr[:, :1]
            curr_pos = curr_pos[:, :1] if curr_pos is not None else None
        output = curr
        if self.pos_enc_at_input and curr_pos is not None:
            output = output + 0.1 * curr_pos
        output = output.transpose(0, 1).expand(batch, -1, -1)
        query_pos = curr_pos.transpose(0, 1).expand(batch, -1, -1) if curr_pos is not None else None
        memory = memory.transpose(0, 1)
        mem_pos = memory_pos.transpose(0, 1) if memory_pos is not None else None
        for i, layer in enumerate(self.layers):
            output = layer(
                output,
                memory,
                pos=mem_pos,
                query_pos=query_pos,
                num_k_exclude_rope=num_obj_ptr_tokens,
                same_tgt=same and i == 0,
            )
        return self.norm(output).transpose(0, 1)
