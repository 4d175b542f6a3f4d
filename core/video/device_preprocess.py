"""The host's per-frame work moved next to the model: exact copies of the CPU path in torch ops.

On a GPU the network takes a few milliseconds a frame, and the CPU path around it would take
longer: PIL's bicubic resize of a 1080p frame alone takes tens of milliseconds on one core. Here
the same steps run as torch operations on the model's device, giving bit-identical results:

- ``resize_like_pil``: PIL's 8-bit bicubic resampling (``Image.resize(..., BICUBIC)``, Pillow's
  Resample.c): per axis, filter weights computed in double precision, normalised, turned into
  22-bit fixed point, applied with integer sums that start at half a unit, shifted and clipped;
  horizontal pass first, then vertical. Integer arithmetic is exact on every device.
- ``model_input``: that resize, then the division by 255 in float64, float32 storage and the
  ImageNet normalisation in float32 (``core.video.preprocess.frame_to_input``'s operations, in
  its order; IEEE division and subtraction round the same everywhere).
- ``rle_of``: COCO RLE of a boolean mask through its run boundaries, found on the device, so only
  the boundaries (a few hundred integers) come back to the host, not the mask.
"""

from __future__ import annotations

import math
import warnings
from functools import lru_cache

import numpy as np
import torch
from pycocotools import mask as mask_utils
from torch import Tensor

from core.masks import Rle
from core.video.preprocess import IMAGE_MEAN, IMAGE_STD, frame_to_input

PRECISION_BITS = 32 - 8 - 2  # Pillow's fixed point for 8-bit images


def _bicubic(x: float) -> float:
    """Pillow's bicubic filter (a = -0.5), operation for operation."""
    a = -0.5
    if x < 0.0:
        x = -x
    if x < 1.0:
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1
    if x < 2.0:
        return (((x - 5) * x + 8) * x - 4) * a
    return 0.0


@lru_cache(maxsize=32)
def resample_weights(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """Taps of Pillow's bicubic resampling of one axis from ``in_size`` to ``out_size`` pixels.

    Returns (index, weight), both (out_size, ksize): the input pixel of each tap (int64; unused
    taps point at a valid pixel with weight 0) and its fixed-point weight (int32, 2**22 = 1).
    """
    scale = in_size / out_size
    filterscale = max(scale, 1.0)
    support = 2.0 * filterscale
    ksize = int(math.ceil(support)) * 2 + 1
    index = np.zeros((out_size, ksize), np.int64)
    weight = np.zeros((out_size, ksize), np.int32)
    ss = 1.0 / filterscale
    for xx in range(out_size):
        center = 0.0 + (xx + 0.5) * scale
        xmin = max(int(center - support + 0.5), 0)
        xmax = min(int(center + support + 0.5), in_size) - xmin
        taps = [_bicubic((x + xmin - center + 0.5) * ss) for x in range(xmax)]
        total = 0.0
        for w in taps:  # in order, as C does (Python's sum() compensates rounding)
            total += w
        for x, w in enumerate(taps):
            k = w / total if total != 0.0 else w
            weight[xx, x] = int(-0.5 + k * (1 << PRECISION_BITS)) if k < 0 else int(0.5 + k * (1 << PRECISION_BITS))
            index[xx, x] = xmin + x
        index[xx, xmax:] = xmin
    return index, weight


def _resample_axis(image: Tensor, axis: int, out_size: int) -> Tensor:
    """image: (H, W, C) uint8 on any device -> the same with ``axis`` (0 or 1) resampled."""
    index, weight = resample_weights(image.shape[axis], out_size)
    idx = torch.from_numpy(index).to(image.device)
    w = torch.from_numpy(weight).to(image.device)
    shape = [1, 1, 1]
    shape[axis] = out_size
    src = image.to(torch.int32)
    acc = torch.full([out_size if a == axis else image.shape[a] for a in range(3)], 1 << (PRECISION_BITS - 1),
                     dtype=torch.int32, device=image.device)
    for k in range(index.shape[1]):
        acc += src.index_select(axis, idx[:, k]) * w[:, k].reshape(shape)
    return (acc >> PRECISION_BITS).clamp_(0, 255).to(torch.uint8)


def resize_like_pil(image: Tensor, height: int, width: int) -> Tensor:
    """(H, W, 3) uint8 -> (height, width, 3) uint8, equal to PIL's ``resize((width, height), BICUBIC)``."""
    if image.dtype != torch.uint8 or image.dim() != 3:
        raise ValueError(f"expected an (H, W, C) uint8 image, got {image.dtype} {tuple(image.shape)}")
    if image.shape[1] != width:
        image = _resample_axis(image, 1, width)
    if image.shape[0] != height:
        image = _resample_axis(image, 0, height)
    return image


def model_input(frame: Tensor, image_size: int) -> Tensor:
    """(H, W, 3) uint8 RGB on the model's device -> (1, 3, S, S) float32, equal to ``frame_to_input``."""
    resized = resize_like_pil(frame, image_size, image_size)
    image = (resized.to(torch.float64) / 255.0).permute(2, 0, 1).to(torch.float32)
    mean = torch.tensor(IMAGE_MEAN, dtype=torch.float32, device=frame.device)[:, None, None]
    std = torch.tensor(IMAGE_STD, dtype=torch.float32, device=frame.device)[:, None, None]
    image -= mean
    image /= std
    return image.unsqueeze(0)


def frame_to_model_input(frame: np.ndarray, image_size: int, device: torch.device) -> Tensor:
    """(H, W, 3) uint8 RGB frame -> (1, 3, S, S) float32 on ``device``: PIL on the host for a CPU
    model, the same numbers computed on the device otherwise (only the uint8 frame is copied)."""
    if device.type == "cpu":
        return frame_to_input(frame, image_size)
    return device_model_input(frame, image_size, device)


def device_model_input(frame: np.ndarray, image_size: int, device: torch.device) -> Tensor:
    """``frame_to_model_input``'s branch for a model off the CPU (any device works; CPU in tests)."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"a frame must be (H, W, 3) uint8 RGB, got {frame.dtype} {frame.shape}")
    with warnings.catch_warnings():
        # a frame lent read-only by the frame cache: only read here, by the copy to the device
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        host = torch.from_numpy(np.ascontiguousarray(frame))
    return model_input(host.to(device), image_size)


def rle_of(mask: Tensor) -> Rle:
    """(H, W) bool mask on any device -> its COCO RLE, equal to ``core.masks.encode``."""
    h, w = mask.shape
    return rle_from_boundaries(*run_boundaries(mask), h, w)


def run_boundaries(mask: Tensor) -> tuple[np.ndarray, bool]:
    """The device's part of ``rle_of``: the positions (int64, column-major order) where an
    (H, W) bool mask changes value, and whether its first pixel is set. Only these come back."""
    flat = mask.t().reshape(-1)  # COCO runs go down the columns
    changes = (torch.nonzero(flat[1:] != flat[:-1]).flatten() + 1).cpu().numpy()
    return changes, bool(flat[0]) if flat.numel() else False


def rle_from_boundaries(changes: np.ndarray, first_set: bool, h: int, w: int) -> Rle:
    """The host's part of ``rle_of``: COCO RLE from the run boundaries."""
    bounds = np.concatenate(([0], changes, [h * w]))
    counts = np.diff(bounds).tolist()
    if first_set:
        counts.insert(0, 0)  # COCO counts start with a run of background
    coco = mask_utils.frPyObjects({"counts": counts, "size": [h, w]}, h, w)
    return Rle(int(h), int(w), bytes(coco["counts"]))
