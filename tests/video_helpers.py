"""Helpers for the video engine tests: an in-memory frame source and a small random session."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from core.types import Prompt, VideoInfo
from tests.sam2_helpers import random_image, random_model, tiny_test_config


class ListFrames:
    """A FrameSource over a list of (H, W, 3) uint8 frames; counts ``get`` calls."""

    def __init__(self, frames: list[np.ndarray], fps: float = 25.0) -> None:
        self._frames = frames
        h, w = frames[0].shape[:2]
        self._info = VideoInfo(w, h, len(frames), fps)
        self.gets = 0

    @property
    def info(self) -> VideoInfo:
        return self._info

    def __len__(self) -> int:
        return len(self._frames)

    def get(self, index: int) -> np.ndarray:
        self.gets += 1
        return self._frames[index]


def moving_square_video(count: int, height: int = 48, width: int = 64, seed: int = 0) -> ListFrames:
    """A textured background with a bright square moving right by one pixel per frame."""
    base = random_image(height, width, seed)
    frames = []
    for i in range(count):
        f = base.copy()
        x = 8 + (i % (width - 24))
        f[16:32, x : x + 16] = (250, 240, 30)
        frames.append(f)
    return ListFrames(frames)


def click(frame: int, obj_id: int, x: float, y: float, positive: bool = True) -> Prompt:
    return Prompt(frame, obj_id, np.array([[x, y]], np.float32), np.array([1 if positive else 0], np.int32))


def box(frame: int, obj_id: int, x0: float, y0: float, x1: float, y1: float) -> Prompt:
    return Prompt(frame, obj_id, box=np.array([x0, y0, x1, y1], np.float32))


_MODELS: dict[int, object] = {}


def small_model(image_size: int = 128):
    """A cached random tiny-test model (built once per size per test run)."""
    if image_size not in _MODELS:
        _MODELS[image_size] = random_model(tiny_test_config(image_size), seed=1)
    return _MODELS[image_size]


def one_thread():
    """Generator for a module fixture: torch on one thread (the CPU is shared), restored after."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


BEDROOM_FRAMES = Path(__file__).resolve().parents[2] / "shared" / "data" / "frames" / "bedroom"


def copy_bedroom_frames(dest: Path, count: int) -> Path:
    """The first ``count`` JPEGs of the shared bedroom sequence copied into ``dest`` (made here)."""
    dest.mkdir()
    for i in range(count):
        shutil.copy(BEDROOM_FRAMES / f"{i:05d}.jpg", dest / f"{i:05d}.jpg")
    return dest


def as_nv12(frame):  # noqa: ANN001, ANN201 - av.VideoFrame in and out
    """A planar 4:2:0 frame's samples with the chroma interleaved (NV12, as a GPU's decoder
    gives them), same range and matrix tag."""
    import av

    h, w = frame.height, frame.width
    planes = frame.to_ndarray()
    u = planes[h : h + h // 4].reshape(h // 2, w // 2)
    v = planes[h + h // 4 :].reshape(h // 2, w // 2)
    nv = av.VideoFrame.from_ndarray(np.concatenate([planes[:h], np.stack([u, v], -1).reshape(h // 2, w)]), format="nv12")
    nv.color_range, nv.colorspace = frame.color_range, frame.colorspace
    return nv

