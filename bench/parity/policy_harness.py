"""Pieces the parity scripts share: a JPEG folder as our engine's frames, our model at the parity
input size, the official hole filling on the CPU, per-video settings from the environment.

Imports of our code and of the reference's happen inside the functions: the reference side runs
in the official venv, the other side in ours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def per_video(spec: str, video: str) -> float:
    """A setting from "0.5" (every video) or "bedroom=0.6,dog=0.5" (per video)."""
    if "=" not in spec:
        return float(spec)
    return float(dict(part.split("=") for part in spec.split(","))[video])


class JpegFrames:
    """A folder's JPEGs, sorted by name, as the engine's frame source (RGB, uint8 (H, W, 3))."""

    def __init__(self, folder: Path) -> None:
        from PIL import Image

        from core.types import VideoInfo

        self.paths = sorted(Path(folder).glob("*.jpg"))
        w, h = Image.open(self.paths[0]).size
        self.info = VideoInfo(w, h, len(self.paths), 24.0)

    def __len__(self) -> int:
        return len(self.paths)

    def get(self, i: int) -> np.ndarray:
        from PIL import Image

        return np.asarray(Image.open(self.paths[i]).convert("RGB"))


def parity_model(checkpoint: Path, image_size: int):
    """Our model from ``checkpoint`` (official format), run at ``image_size`` with the same weights."""
    from core.sam2.checkpoint import load_model
    from core.sam2.model import Sam2Model

    model = load_model(checkpoint)
    if image_size != model.image_size:
        resized = Sam2Model(model.config.replace(image_size=image_size))
        resized.load_state_dict(model.state_dict())
        model = resized.eval()
    return model


def fill_holes_cpu(mask, max_area: int):
    """The official CUDA kernel's hole filling, labelled on the CPU with OpenCV: background
    components (8-connected, logits <= 0) of at most ``max_area`` pixels set to 0.1.
    mask: (N, 1, H, W) float logits on any device; the result stays on it."""
    import cv2
    import torch

    bg = (mask <= 0).squeeze(1).to("cpu", torch.uint8).numpy()
    holes = np.zeros(bg.shape, bool)
    for i, b in enumerate(bg):
        _, labels, stats, _ = cv2.connectedComponentsWithStats(b, connectivity=8)
        small = stats[:, cv2.CC_STAT_AREA] <= max_area
        small[0] = False
        holes[i] = small[labels]
    return torch.where(torch.from_numpy(holes).to(mask.device)[:, None], 0.1, mask)
