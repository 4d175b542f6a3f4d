"""Masklet's own SAM 2 in PyTorch: configs, modules, checkpoints, the image predictor, devices."""

from core.sam2.config import Sam2Config, config_for

__all__ = ["Sam2Config", "config_for"]
