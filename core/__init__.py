"""Masklet's Qt-free core: SAM 2, the streaming video engine, frames, masks and dataset formats."""

__version__ = "0.1.0"
