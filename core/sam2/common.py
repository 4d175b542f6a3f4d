"""Small building blocks shared by the SAM 2 modules: an MLP and a channels-first LayerNorm."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.sam2.linear import Linear, linear


class MLP(nn.Module):
    """``num_layers`` linear layers with an activation between them (state-dict names ``layers.i``).

    x: (..., input_dim) -> (..., output_dim); optional sigmoid on the output.
    """

    def __init__(
        self,
        input_dim: int,
        hidden_dim: int,
        output_dim: int,
        num_layers: int,
        activation: type[nn.Module] = nn.ReLU,
        sigmoid_output: bool = False,
    ) -> None:
        super().__init__()
        self.num_layers = num_layers
        dims_in = [input_dim] + [hidden_dim] * (num_layers - 1)
        dims_out = [hidden_dim] * (num_layers - 1) + [output_dim]
        self.layers = nn.ModuleList(Linear(i, o) for i, o in zip(dims_in, dims_out))
        self.sigmoid_output = sigmoid_output
        self.act = activation()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        last = self.num_layers - 1
        # the exact GELU can run in the product's epilogue (core.sam2.linear)
        fuse = type(self.act) is nn.GELU and self.act.approximate == "none"
        for i, layer in enumerate(self.layers):
            if i < last and fuse:
                x = linear(x, layer.weight, layer.bias, gelu=True)
                continue
            x = layer(x)
            if i < last:
                x = self._activate(x)
        if self.sigmoid_output:
            x = torch.sigmoid(x)
        return x

    def _activate(self, x: torch.Tensor) -> torch.Tensor:
        # A linear layer's output is fresh: outside autograd the hidden activations (the
        # largest tensors of the image encoder) are activated in place, same kernel, same bits.
        if x.requires_grad:
            return self.act(x)
        if type(self.act) is nn.ReLU:
            return x.relu_()
        if type(self.act) is nn.GELU and self.act.approximate == "none":
            return torch.ops.aten.gelu_(x)
        return self.act(x)


class LayerNorm2d(nn.Module):
    """LayerNorm over the channels of a (B, C, H, W) tensor (biased variance, as in ConvNeXt)."""

    def __init__(self, num_channels: int, eps: float = 1e-6) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(num_channels))
        self.bias = nn.Parameter(torch.zeros(num_channels))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = x.mean(1, keepdim=True)
        d = x - u
        s = d.pow(2).mean(1, keepdim=True)
        if torch.is_grad_enabled() and (d.requires_grad or self.weight.requires_grad or self.bias.requires_grad):
            x = d / torch.sqrt(s + self.eps)
            return self.weight[:, None, None] * x + self.bias[:, None, None]
        # The same operations on d in place: two full-size temporaries instead of five (the mask
        # downsampler's are 4 MB each, fresh pages every frame while tracking: core/allocator.py).
        return d.div_(torch.sqrt(s + self.eps)).mul_(self.weight[:, None, None]).add_(self.bias[:, None, None])


class GELU(nn.GELU):
    """nn.GELU, in place outside autograd (the same kernel: the result is the same to the bit)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(x) if x.requires_grad else torch.ops.aten.gelu_(x)


def _gelu(x: torch.Tensor, inplace: bool = False) -> torch.Tensor:
    """F.gelu with F.relu's signature; in place with the same kernel (as ``MLP._activate``)."""
    return torch.ops.aten.gelu_(x) if inplace else F.gelu(x)


def activation_fn(name: str):  # noqa: ANN201 - returns a functional activation
    """relu/gelu by name (the memory attention's ``activation``): f(x, inplace=False)."""
    if name == "relu":
        return F.relu
    if name == "gelu":
        return _gelu
    raise ValueError(f"activation must be relu or gelu, not {name!r}")
