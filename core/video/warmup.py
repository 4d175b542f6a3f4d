"""Warming the model up after it loads, so that the first click costs what every click costs."""

from __future__ import annotations

import numpy as np

from core.sam2.model import Sam2Model
from core.types import Prompt, VideoInfo
from core.video.session import VideoSession


class _BlankVideo:
    """A one-frame grey video at the model's input size (a ``FrameSource``)."""

    def __init__(self, size: int) -> None:
        self.info = VideoInfo(width=size, height=size, frame_count=1, fps=1.0)
        self._frame = np.full((size, size, 3), 128, np.uint8)

    def __len__(self) -> int:
        return 1

    def get(self, index: int) -> np.ndarray:
        return self._frame


def warm_up(model: Sam2Model, runs: int = 2) -> None:
    """Click ``runs`` times on a blank frame, each time in a new session (so the encoder runs).

    A process's first clicks are slow (tiny on 2 CPU cores: 2.7, then 2.2, then 1.9 s): oneDNN
    builds its kernels, the heap grows to the encoder's working set, which later clicks reuse
    (``core.allocator.activations_on_heap``), and the heads, the hole filling and the RLE encoder run
    for the first time. The model worker does this once after loading a model.
    """
    size = model.image_size
    click = Prompt(0, 1, np.array([[size / 2, size / 2]], np.float32), np.array([1], np.int32))
    for _ in range(runs):
        VideoSession(model, _BlankVideo(size), feature_cache_frames=1).add_prompt(click)
