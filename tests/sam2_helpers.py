"""Shared test helpers: SAM 2 models with random weights where every tensor is non-zero.

Used by the SAM 2, video engine, CLI, download and UI tests. Deterministic: the same seed and
config give the same weights on every machine.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from core.sam2.checkpoint import save_checkpoint
from core.sam2.common import LayerNorm2d
from core.sam2.config import Sam2Config
from core.sam2.model import Sam2Model


def tiny_test_config(image_size: int = 128) -> Sam2Config:
    """The small every-module config (about 0.86M tensors' elements) used by fast tests."""
    return Sam2Config.tiny_test(image_size)


@torch.no_grad()
def randomize_(model: Sam2Model, seed: int = 0) -> Sam2Model:
    """Overwrite every tensor with deterministic noise of a sensible scale, none zero.

    Linear/conv weights: N(0, 1/fan_in); norms: weight 1 + N(0, 0.1^2); biases and loose
    parameters (embeddings, position embeddings, layer scales): small normal noise.
    """
    gen = torch.Generator().manual_seed(seed)

    def normal(t: torch.Tensor, std: float, mean: float = 0.0) -> None:
        t.copy_(torch.randn(t.shape, generator=gen) * std + mean)

    done: set[int] = set()
    for module in model.modules():
        if isinstance(module, (nn.LayerNorm, LayerNorm2d)):
            normal(module.weight, 0.1, 1.0)
            normal(module.bias, 0.1)
            done.update({id(module.weight), id(module.bias)})
        elif isinstance(module, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d)):
            w = module.weight
            fan_in = w.shape[1] * math.prod(w.shape[2:]) if not isinstance(module, nn.ConvTranspose2d) else w.shape[0] * math.prod(w.shape[2:])
            normal(w, 1.0 / math.sqrt(fan_in))
            done.add(id(w))
            if module.bias is not None:
                normal(module.bias, 0.05)
                done.add(id(module.bias))
        elif isinstance(module, nn.Embedding):
            normal(module.weight, 0.5)
            done.add(id(module.weight))
    for name, tensor in model.state_dict(keep_vars=True).items():
        if id(tensor) in done:
            continue
        if name.endswith("positional_encoding_gaussian_matrix"):
            normal(tensor, 1.0)
        else:
            normal(tensor, 0.1)
    return model


def random_model(config: Sam2Config | None = None, seed: int = 0) -> Sam2Model:
    """A Sam2Model of ``config`` (default: ``tiny_test_config()``) with ``randomize_`` weights, eval mode, CPU."""
    model = Sam2Model(config if config is not None else tiny_test_config())
    return randomize_(model, seed).eval()


def save_random_checkpoint(path: str | Path, config: Sam2Config | None = None, seed: int = 0) -> Path:
    """Write a random model in the official file format (plus the config for non-official configs)."""
    p = Path(path)
    save_checkpoint(random_model(config, seed), p)
    return p


def random_image(height: int, width: int, seed: int = 0) -> np.ndarray:
    """(height, width, 3) uint8 RGB noise with some smooth structure."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([(xx * 255 // max(width - 1, 1)), (yy * 255 // max(height - 1, 1)), ((xx + yy) % 256)], axis=-1)
    noise = rng.integers(0, 64, size=(height, width, 3))
    return ((base + noise) % 256).astype(np.uint8)
