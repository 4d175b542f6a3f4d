"""The blocked CPU attention equals the library attention it replaces."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from core.sam2 import transformer
from core.sam2.cpu_attention import attention_with_low_rank_values, chunked_attention, use_chunked
from core.sam2.position_encoding import rotate_pairs_
from core.sam2.transformer import RoPEAttention


def _qkv(b: int, h: int, nq: int, nk: int, d: int, dv: int, scale: float = 1.0, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(b, h, nq, d, generator=g) * scale
    k = torch.randn(b, h, nk, d, generator=g) * scale
    v = torch.randn(b, h, nk, dv, generator=g)
    return q, k, v


@pytest.mark.parametrize(
    ("b", "h", "nq", "nk", "d", "dv"),
    [(1, 1, 64, 3000, 32, 32), pytest.param(3, 2, 100, 2500, 16, 8, marks=pytest.mark.slow), (2, 1, 17, 1024, 8, 24),
     (1, 4, 300, 5, 8, 8)],
)
def test_matches_sdpa(b: int, h: int, nq: int, nk: int, d: int, dv: int) -> None:
    q, k, v = _qkv(b, h, nq, nk, d, dv)
    # Small blocks so several query and key blocks (and the online rescaling) are exercised.
    got = chunked_attention(q, k, v, block_bytes=4 * 16 * 1024)
    want = F.scaled_dot_product_attention(q, k, v)
    assert got.shape == want.shape
    assert torch.allclose(got, want, atol=2e-6, rtol=0)


@pytest.mark.slow
def test_wide_score_range_and_shared_value_head() -> None:
    # Scores spanning hundreds of units: most exponentials would be denormal or zero, and the
    # row maximum often sits in a later key block than the first.
    q, k, v = _qkv(2, 2, 50, 4000, 16, 8, scale=6.0, seed=1)
    shared = v[:, :1]
    got = chunked_attention(q, k, shared, block_bytes=4 * 8 * 1024)
    library = F.scaled_dot_product_attention(q, k, shared.expand(-1, 2, -1, -1))
    # Scores this large carry float32 rounding of ~1e-5 into either kernel: judge both against
    # a float64 reference instead of against each other.
    exact = F.scaled_dot_product_attention(q.double(), k.double(), shared.expand(-1, 2, -1, -1).double())
    ours_err = (got.double() - exact).abs().max().item()
    library_err = (library.double() - exact).abs().max().item()
    assert ours_err <= 1.5 * library_err + 1e-6


def test_low_rank_values_equal_projected_values() -> None:
    g = torch.Generator().manual_seed(2)
    b, h, dh, c, nq, nk = 2, 2, 16, 6, 40, 2000
    q = torch.randn(b, h, nq, dh, generator=g)
    k = torch.randn(b, h, nk, dh, generator=g)
    memory = torch.randn(b, nk, c, generator=g)
    weight = torch.randn(h * dh, c, generator=g)
    bias = torch.randn(h * dh, generator=g)
    v = (memory @ weight.T + bias).reshape(b, nk, h, dh).transpose(1, 2)
    got = attention_with_low_rank_values(q, k, memory, weight, bias)
    want = F.scaled_dot_product_attention(q, k, v)
    assert torch.allclose(got, want, atol=1e-5, rtol=0)


def test_only_float32_cpu_with_many_keys_or_narrow_values_takes_the_blocked_path() -> None:
    q = torch.zeros(1, 1, 4, 8)
    assert use_chunked(q, 28_736)
    assert not use_chunked(q, 4_096)
    assert use_chunked(q, 4_096, low_rank_values=True)
    assert not use_chunked(q.bfloat16(), 28_736)
    assert not use_chunked(q.bfloat16(), 4_096, low_rank_values=True)


def test_rope_cross_attention_same_with_either_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(3)
    attn = RoPEAttention(32, 1, kv_in_dim=8, rope_k_repeat=True).eval()
    q = torch.randn(2, 64, 32)
    memory = torch.randn(2, 3 * 64 + 4, 8)
    with torch.inference_mode():
        monkeypatch.setattr(transformer, "use_chunked", lambda q, nk, low_rank=False: False)
        want = attn(q, memory, memory, num_k_exclude_rope=4)
        monkeypatch.setattr(transformer, "use_chunked", lambda q, nk, low_rank=False: True)
        got = attn(q, memory, memory, num_k_exclude_rope=4)
    assert torch.allclose(got, want, atol=2e-6, rtol=0)


def test_in_place_rope_is_the_complex_multiply_bit_for_bit() -> None:
    # The official code rotates by multiplying complex numbers; ours rotates real pairs in place.
    g = torch.Generator().manual_seed(4)
    x = torch.randn(2, 1, 3 * 16, 8, generator=g)
    angles = torch.rand(16, 4, generator=g) * 6.0
    cos, sin = angles.cos(), angles.sin()
    got = rotate_pairs_(x.clone().unflatten(2, (3, 16)), cos, sin).flatten(2, 3)
    pairs = x.unflatten(-1, (-1, 2))
    x0, x1 = pairs[..., 0], pairs[..., 1]
    c, s = cos.repeat(3, 1), sin.repeat(3, 1)
    want = torch.stack((x0 * c - x1 * s, x0 * s + x1 * c), dim=-1).flatten(-2)
    assert torch.equal(got, want)
