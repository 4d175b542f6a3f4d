"""Video frame and prompt preprocessing, exactly as SAM 2's video predictor does it.

A frame is resized to ``image_size`` squared as uint8 with PIL's bicubic filter, divided by 255
(in float64, then stored as float32) and normalised with the ImageNet mean and std. Points and
boxes in video pixels are scaled to the model's square input.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

IMAGE_MEAN = (0.485, 0.456, 0.406)
IMAGE_STD = (0.229, 0.224, 0.225)


def frame_to_input(frame: np.ndarray, image_size: int) -> torch.Tensor:
    """(H, W, 3) uint8 RGB frame -> (1, 3, image_size, image_size) float32 normalised tensor."""
    if frame.ndim != 3 or frame.shape[2] != 3 or frame.dtype != np.uint8:
        raise ValueError(f"a frame must be (H, W, 3) uint8 RGB, got {frame.dtype} {frame.shape}")
    resized = np.asarray(Image.fromarray(frame).resize((image_size, image_size), Image.Resampling.BICUBIC))
    # float64 division then float32 storage, as the official loader (numpy / 255.0 into a float32 tensor)
    image = torch.from_numpy(resized / 255.0).permute(2, 0, 1).to(torch.float32)
    mean = torch.tensor(IMAGE_MEAN, dtype=torch.float32)[:, None, None]
    std = torch.tensor(IMAGE_STD, dtype=torch.float32)[:, None, None]
    image -= mean
    image /= std
    return image.unsqueeze(0)


def prompt_to_points(
    points: np.ndarray,
    labels: np.ndarray,
    box: np.ndarray | None,
    video_size: tuple[int, int],
    image_size: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Clicks and an optional box in video pixels -> SAM point inputs in model pixels.

    points: (N, 2) x, y pixels; labels: (N,) 1 positive / 0 negative; box: (4,) x0, y0, x1, y1.
    video_size: (height, width). Returns coords (1, P, 2) float32 and labels (1, P) int32, the
    box first as two corners labelled 2 and 3 (as SAM 2 was trained).
    """
    pts = torch.as_tensor(np.asarray(points, dtype=np.float32).reshape(-1, 2))
    lbl = torch.as_tensor(np.asarray(labels, dtype=np.int32).reshape(-1))
    if len(pts) != len(lbl):
        raise ValueError(f"{len(pts)} points but {len(lbl)} labels")
    if box is not None:
        box_pts = torch.as_tensor(np.asarray(box, dtype=np.float32).reshape(2, 2))
        pts = torch.cat([box_pts, pts], dim=0)
        lbl = torch.cat([torch.tensor([2, 3], dtype=torch.int32), lbl], dim=0)
    height, width = video_size
    pts = pts / torch.tensor([width, height], dtype=torch.float32) * image_size
    return pts.unsqueeze(0), lbl.unsqueeze(0)
