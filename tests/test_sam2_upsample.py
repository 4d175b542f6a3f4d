"""The mask decoder's 2x2 / stride-2 transposed convs as one matrix product equal the library's."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from core.sam2.mask_decoder import _upsample2x


@pytest.mark.parametrize("bias", [True, False])
def test_upsample_as_a_product_equals_the_transposed_conv(bias):
    torch.manual_seed(0)
    conv = nn.ConvTranspose2d(24, 8, kernel_size=2, stride=2, bias=bias)
    if bias:
        nn.init.normal_(conv.bias)
    x = torch.randn(3, 24, 5, 7)
    with torch.inference_mode():
        got, want = _upsample2x(conv, x), conv(x)
    assert got.shape == want.shape == (3, 8, 10, 14)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
