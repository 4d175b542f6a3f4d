"""A constant-velocity Kalman filter on a box (centre x, y, aspect ratio, height), for SAMURAI.

The 8-dimensional state is (x, y, a, h) and their velocities, one frame per step; position and
velocity noise scale with the box height (1/20 and 1/160 of it), as in the SORT family of
trackers whose filter SAMURAI uses. Boxes are pixel bounds (x0, y0, x1, y1) of the model-size
mask; an empty mask is the box (0, 0, 0, 0), whose IoU with anything is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

POS_WEIGHT = 1.0 / 20
VEL_WEIGHT = 1.0 / 160
EMPTY_BOX = (0.0, 0.0, 0.0, 0.0)

_MOTION = np.eye(8)
_MOTION[:4, 4:] = np.eye(4)
_OBSERVE = np.eye(4, 8)


@dataclass
class BoxFilter:
    """The filter's state: mean (8,) and covariance (8, 8), float64."""

    mean: np.ndarray
    covariance: np.ndarray

    @classmethod
    def start(cls, box: tuple[float, float, float, float]) -> "BoxFilter":
        z = to_xyah(box)
        h = z[3]
        std = [2 * POS_WEIGHT * h, 2 * POS_WEIGHT * h, 1e-2, 2 * POS_WEIGHT * h,
               10 * VEL_WEIGHT * h, 10 * VEL_WEIGHT * h, 1e-5, 10 * VEL_WEIGHT * h]
        return cls(np.r_[z, np.zeros(4)], np.diag(np.square(std)))

    def copy(self) -> "BoxFilter":
        return BoxFilter(self.mean.copy(), self.covariance.copy())

    def predict(self) -> None:
        h = self.mean[3]
        std = [POS_WEIGHT * h, POS_WEIGHT * h, 1e-2, POS_WEIGHT * h, VEL_WEIGHT * h, VEL_WEIGHT * h, 1e-5, VEL_WEIGHT * h]
        self.mean = _MOTION @ self.mean
        self.covariance = _MOTION @ self.covariance @ _MOTION.T + np.diag(np.square(std))

    def update(self, box: tuple[float, float, float, float]) -> None:
        h = self.mean[3]
        innovation_cov = np.diag(np.square([POS_WEIGHT * h, POS_WEIGHT * h, 1e-1, POS_WEIGHT * h]))
        projected_cov = _OBSERVE @ self.covariance @ _OBSERVE.T + innovation_cov
        gain = np.linalg.solve(projected_cov, _OBSERVE @ self.covariance).T  # (8, 4), projected_cov symmetric
        innovation = to_xyah(box) - _OBSERVE @ self.mean
        self.mean = self.mean + gain @ innovation
        self.covariance = self.covariance - gain @ projected_cov @ gain.T

    def box(self) -> tuple[float, float, float, float]:
        """The predicted box as (x0, y0, x1, y1)."""
        x, y, a, h = self.mean[:4]
        return (x - a * h / 2, y - h / 2, x + a * h / 2, y + h / 2)


def to_xyah(box: tuple[float, float, float, float]) -> np.ndarray:
    x0, y0, x1, y1 = box
    h = y1 - y0
    return np.array([(x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / (h if h != 0 else 1), h if h != 0 else 1], dtype=np.float64)


def box_iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """IoU of two (x0, y0, x1, y1) boxes (continuous corners); 0 when ``b`` is the empty box."""
    if tuple(b) == EMPTY_BOX:
        return 0.0
    inter = max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union != 0 else 0.0
