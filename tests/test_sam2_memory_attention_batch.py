"""Objects tracked together share the frame's features: the shortcut for that changes nothing."""

from __future__ import annotations

import pytest
import torch

from core.sam2.config import MemoryAttentionConfig
from core.sam2.memory_attention import MemoryAttention


@pytest.mark.slow
def test_expanded_frame_features_give_the_same_fusion_as_copies() -> None:
    torch.manual_seed(0)
    cfg = MemoryAttentionConfig(d_model=32, kv_in_dim=8, num_layers=2, dim_feedforward=64)
    attn = MemoryAttention(cfg).eval()
    hw, batch = 16, 3
    frame = torch.randn(hw, 1, 32)
    frame_pos = torch.randn(hw, 1, 32)
    memory = torch.randn(2 * hw + 4, batch, 8)
    memory_pos = torch.randn(2 * hw + 4, batch, 8)
    with torch.inference_mode():
        shared = attn(frame.expand(-1, batch, -1), memory, frame_pos.expand(-1, batch, -1), memory_pos, 4)
        copies = attn(frame.repeat(1, batch, 1), memory, frame_pos.repeat(1, batch, 1), memory_pos, 4)
        alone = [attn(frame, memory[:, i : i + 1], frame_pos, memory_pos[:, i : i + 1], 4) for i in range(batch)]
    assert shared.shape == (hw, batch, 32)
    assert torch.allclose(shared, copies, atol=1e-6, rtol=0)
    assert torch.allclose(shared, torch.cat(alone, dim=1), atol=1e-6, rtol=0)
