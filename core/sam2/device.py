"""Choice of device and precision: cuda (bf16 autocast, TF32), then mps, then cpu (float32)."""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch


def pick_device(preference: str = "auto") -> torch.device:
    """"auto" picks cuda, then mps, then cpu; "cuda"/"mps"/"cpu" are checked and refused if absent."""
    pref = preference.lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if pref.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError("device 'cuda' asked for, but this PyTorch sees no CUDA GPU")
        return torch.device(pref)
    if pref == "mps":
        if not _mps_available():
            raise ValueError("device 'mps' asked for, but Apple's Metal backend is not available")
        return torch.device("mps")
    if pref == "cpu":
        return torch.device("cpu")
    raise ValueError(f"unknown device {preference!r}; expected auto, cuda, mps or cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def compute_dtype(device: torch.device) -> torch.dtype:
    """The dtype the heavy layers run in: bfloat16 on CUDA, float32 elsewhere."""
    return torch.bfloat16 if device.type == "cuda" else torch.float32


def autocast(device: torch.device) -> ContextManager[object]:
    """bf16 autocast on CUDA; a no-op elsewhere (weights stay float32)."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def enable_tf32(device: torch.device) -> bool:
    """Turn on TF32 matmuls/convolutions on Ampere or newer GPUs; returns whether it did."""
    if device.type != "cuda" or not torch.cuda.is_available():
        return False
    index = device.index if device.index is not None else torch.cuda.current_device()
    if torch.cuda.get_device_properties(index).major < 8:
        return False
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
    return True
