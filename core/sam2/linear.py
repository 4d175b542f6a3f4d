"""Linear layers that run on oneDNN for float32 inference on x86 CPUs.

PyTorch's float32 matrix products on CPU go to MKL, whose kernels reach about 185 GFLOPS on
the two Zen 4 cores of our development machine; oneDNN's reach about 215 on the same shapes,
and oneDNN also adds the bias and the GELU in the product's epilogue instead of in separate
passes over a result of up to 150 MB. Together the image encoder of tiny runs in about 1.65
instead of 1.85 s (bench/image_encoder.py). The results are the same products summed in
another order: they differ from ``F.linear`` by float32 rounding (about 1e-6 relative).

The fast path is taken only where it pays and is known to work: products of 64 rows or more
(``MIN_ONEDNN_ROWS``) of float32 tensors on an x86-64 CPU,
outside autograd, with oneDNN present and a one-time probe agreeing with ``F.linear``.
Everywhere else (GPUs, bfloat16, training, other CPUs) these are exactly ``F.linear``.
"""

from __future__ import annotations

import platform

import torch
import torch.nn.functional as F
from torch import Tensor, nn

_X86 = platform.machine().lower() in ("x86_64", "amd64")
# Below this many rows a product is too small for oneDNN's per-call set-up to pay (the mask
# decoder's token MLPs: 7 rows, 0.13 against 0.07 ms); those go to F.linear.
MIN_ONEDNN_ROWS = 64
_enabled = True
_probed: bool | None = None


def set_onednn_linear(enabled: bool) -> None:
    """Turn the oneDNN path on or off for the whole process (for comparisons and tests)."""
    global _enabled
    _enabled = enabled


def onednn_linear_available() -> bool:
    """Whether the oneDNN path is used for eligible tensors (enabled, present, probe passed)."""
    return _enabled and _X86 and _probe()


def _probe() -> bool:
    global _probed
    if _probed is None:
        _probed = False
        try:
            if torch.backends.mkldnn.is_available() and hasattr(torch.ops.mkldnn, "_linear_pointwise"):
                gen = torch.Generator().manual_seed(0)
                x, w, b = (torch.randn(s, generator=gen) for s in ((5, 7), (3, 7), (3,)))
                with torch.no_grad():
                    got = _onednn(x, w, b, gelu=True)
                    _probed = bool(torch.allclose(got, F.gelu(F.linear(x, w, b)), rtol=1e-5, atol=1e-6))
        except (RuntimeError, AttributeError):  # a build without the op, or one that rejects it
            _probed = False
    return _probed


def _eligible(x: Tensor, weight: Tensor) -> bool:
    if x.dtype != torch.float32 or weight.dtype != torch.float32 or x.device.type != "cpu":
        return False
    if torch.is_grad_enabled() and (x.requires_grad or weight.requires_grad):
        return False  # the oneDNN op has no backward
    if x.dim() < 1 or x.numel() == 0 or x.numel() < MIN_ONEDNN_ROWS * x.shape[-1]:
        return False
    return onednn_linear_available()


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None, gelu: bool = False) -> Tensor:
    """``x @ weight.T + bias``, then the exact (erf) GELU when ``gelu``.

    x: (..., in_features); weight: (out_features, in_features); bias: (out_features,) or None
    -> (..., out_features).
    """
    if not _eligible(x, weight):
        y = F.linear(x, weight, bias)
        if not gelu:
            return y
        # y is fresh: outside autograd it is activated in place (same kernel, same bits)
        return F.gelu(y) if y.requires_grad else torch.ops.aten.gelu_(y)
    lead = x.shape[:-1]
    x2 = x.reshape(-1, x.shape[-1])
    y = _onednn(x2, weight, bias, gelu)
    return y.view(*lead, weight.shape[0])


def _onednn(x: Tensor, weight: Tensor, bias: Tensor | None, gelu: bool) -> Tensor:
    """x: (N, in) -> (N, out) on oneDNN; the attribute names are those of its post-ops."""
    return torch.ops.mkldnn._linear_pointwise(x, weight, bias, "gelu" if gelu else "none", [], "none" if gelu else "")


class Linear(nn.Linear):
    """``nn.Linear`` (same parameters and state-dict names) computed by ``linear``."""

    def forward(self, x: Tensor) -> Tensor:
        return linear(x, self.weight, self.bias)
