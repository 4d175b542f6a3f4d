"""Device and precision choice."""

from __future__ import annotations

import contextlib

import pytest
import torch

from core.sam2.device import autocast, compute_dtype, enable_tf32, pick_device


def test_auto_prefers_cuda_then_mps_then_cpu() -> None:
    device = pick_device("auto")
    if torch.cuda.is_available():
        assert device.type == "cuda"
    elif torch.backends.mps.is_available():
        assert device.type == "mps"
    else:
        assert device == torch.device("cpu")


def test_explicit_choices() -> None:
    assert pick_device("cpu") == torch.device("cpu")
    assert pick_device("CPU") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU"):
            pick_device("cuda")


def test_cpu_runs_float32_without_autocast() -> None:
    cpu = torch.device("cpu")
    assert compute_dtype(cpu) == torch.float32
    assert isinstance(autocast(cpu), contextlib.nullcontext)
    assert enable_tf32(cpu) is False
    assert compute_dtype(torch.device("cuda")) == torch.bfloat16
