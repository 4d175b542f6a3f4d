"""core.sam2.linear: oneDNN linear layers agree with F.linear and step aside where they must."""

from __future__ import annotations

import platform

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import core.sam2.linear as lin
from core.sam2.common import MLP

ON_X86 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.fixture(autouse=True)
def _restore():
    yield
    lin.set_onednn_linear(True)


@pytest.fixture
def calls(monkeypatch):
    """Counts the products that took the oneDNN path."""
    lin.onednn_linear_available()  # the one-time probe runs before counting starts
    seen: list[tuple[tuple[int, ...], bool]] = []
    real = lin._onednn

    def spy(x, weight, bias, gelu):
        seen.append((tuple(x.shape), gelu))
        return real(x, weight, bias, gelu)

    monkeypatch.setattr(lin, "_onednn", spy)
    return seen


def _rand(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.skipif(not ON_X86, reason="the oneDNN path is used on x86-64 only")
def test_this_machine_takes_the_onednn_path(calls):
    assert lin.onednn_linear_available()
    with torch.inference_mode():
        lin.linear(_rand(64, 8), _rand(3, 8))
    assert calls == [((64, 8), False)]


def test_small_products_take_f_linear(calls):
    x, w, b = _rand(2, 31, 8), _rand(3, 8, seed=1), _rand(3, seed=2)  # 62 rows
    with torch.inference_mode():
        got = lin.linear(x, w, b, gelu=True)
    assert calls == []
    assert torch.equal(got, F.gelu(F.linear(x, w, b)))


@pytest.mark.parametrize("shape", [(7, 16), (2, 5, 16), (1, 3, 4, 16), (300, 16)])
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("gelu", [False, True])
def test_matches_f_linear(shape, with_bias, gelu):
    x, w, b = _rand(*shape), _rand(24, 16, seed=1), _rand(24, seed=2) if with_bias else None
    want = F.linear(x, w, b)
    want = F.gelu(want) if gelu else want
    with torch.inference_mode():
        got = lin.linear(x, w, b, gelu=gelu)
    assert got.shape == (*shape[:-1], 24)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)


def test_non_contiguous_input():
    x = _rand(16, 6).t()  # (6, 16) transposed view
    w = _rand(5, 16, seed=1)
    with torch.inference_mode():
        torch.testing.assert_close(lin.linear(x, w), F.linear(x, w), rtol=1e-5, atol=1e-5)


def test_disabled_is_exactly_f_linear(calls):
    lin.set_onednn_linear(False)
    x, w, b = _rand(50, 32), _rand(40, 32, seed=1), _rand(40, seed=2)
    with torch.inference_mode():
        assert torch.equal(lin.linear(x, w, b), F.linear(x, w, b))
        assert torch.equal(lin.linear(x, w, b, gelu=True), F.gelu(F.linear(x, w, b)))
    assert calls == []


def test_autograd_and_other_dtypes_use_f_linear(calls):
    layer = lin.Linear(8, 4)
    x = _rand(3, 8).requires_grad_()
    layer(x).sum().backward()  # the oneDNN op has no backward: this must not take it
    assert x.grad is not None and layer.weight.grad is not None
    with torch.inference_mode():
        y = layer.to(torch.bfloat16)(_rand(3, 8).bfloat16())
    assert y.dtype == torch.bfloat16
    assert calls == []


def test_failed_probe_falls_back(monkeypatch, calls):
    monkeypatch.setattr(lin, "_probed", False)
    assert not lin.onednn_linear_available()
    x, w = _rand(9, 8), _rand(3, 8, seed=1)
    with torch.inference_mode():
        assert torch.equal(lin.linear(x, w), F.linear(x, w))
    assert calls == []


def test_linear_module_keeps_state_dict_names():
    assert list(lin.Linear(3, 2).state_dict()) == list(nn.Linear(3, 2).state_dict())


@pytest.mark.parametrize("activation", [nn.GELU, nn.ReLU])
def test_mlp_fused_gelu_matches_unfused(activation, calls):
    torch.manual_seed(0)
    mlp = MLP(16, 64, 16, num_layers=3, activation=activation).eval()
    x = _rand(2, 40, 16)  # 80 rows: large enough for the oneDNN path
    with torch.inference_mode():
        lin.set_onednn_linear(False)
        want = mlp(x)
        lin.set_onednn_linear(True)
        got = mlp(x)
    torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-5)
    if ON_X86:
        # GELU goes into the hidden layers' products; ReLU is applied after them
        assert [g for _, g in calls] == [activation is nn.GELU] * 2 + [False]
