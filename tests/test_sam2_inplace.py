"""LayerNorm2d and GELU compute in place outside autograd, to the bit what the out-of-place
formulas give (the official code's), and out of place where autograd needs the inputs."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from core.sam2.common import GELU, LayerNorm2d


def _reference_layer_norm_2d(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, eps: float) -> torch.Tensor:
    u = x.mean(1, keepdim=True)
    s = (x - u).pow(2).mean(1, keepdim=True)
    x = (x - u) / torch.sqrt(s + eps)
    return weight[:, None, None] * x + bias[:, None, None]


def test_layer_norm_2d_in_place_is_the_formula_to_the_bit() -> None:
    torch.manual_seed(0)
    norm = LayerNorm2d(16)
    with torch.no_grad():
        norm.weight.copy_(torch.randn(16))
        norm.bias.copy_(torch.randn(16))
    x = torch.randn(2, 16, 33, 47) * 3 + 1
    want = _reference_layer_norm_2d(x, norm.weight.detach(), norm.bias.detach(), norm.eps)
    before = x.clone()
    with torch.inference_mode():
        got = norm(x)
    assert torch.equal(got, want)
    assert torch.equal(x, before)  # the input is not touched
    with torch.no_grad():
        assert torch.equal(norm(x), want)


def test_layer_norm_2d_keeps_autograd_working() -> None:
    norm = LayerNorm2d(4)
    x = torch.randn(1, 4, 5, 5, requires_grad=True)
    norm(x).sum().backward()
    assert x.grad is not None and norm.weight.grad is not None


def test_gelu_in_place_outside_autograd_only() -> None:
    x = torch.randn(3, 50)
    want = F.gelu(x)
    y = x.clone()
    with torch.inference_mode():
        out = GELU()(y)
    assert torch.equal(out, want) and out.data_ptr() == y.data_ptr()
    z = torch.randn(3, 50, requires_grad=True)
    GELU()(z).sum().backward()
    assert z.grad is not None
