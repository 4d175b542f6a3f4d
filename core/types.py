"""Typed records that cross the boundaries between core, the worker and the UI."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Callable, Protocol

import numpy as np

from core.masks import Rle


@dataclass(frozen=True)
class Prompt:
    """What the annotator gave SAM 2 for one object on one frame.

    points: (N, 2) float32, pixels of the original frame, x then y.
    labels: (N,) int32, 1 positive, 0 negative.
    box: (4,) float32 (x0, y0, x1, y1) pixels, or None.
    choice: which of SAM 2's three masks for these clicks the annotator chose (0..2), for
    prompts SAM 2 answers with three (a single click); None: the one of best predicted IoU.
    """

    frame: int
    obj_id: int
    points: np.ndarray = field(default_factory=lambda: np.zeros((0, 2), np.float32))
    labels: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int32))
    box: np.ndarray | None = None
    choice: int | None = None

    @property
    def is_empty(self) -> bool:
        return len(self.points) == 0 and self.box is None


class Direction(str, Enum):
    FORWARD = "forward"
    BACKWARD = "backward"
    BOTH = "both"


@dataclass(frozen=True)
class ObjectMask:
    """One object's result on one frame.

    rle: the binary mask at video resolution (logits > 0).
    object_score: the object-presence logit (> 0 means present).
    iou: the mask decoder's predicted IoU for the chosen mask.
    low_res_logits: (256, 256) float32 logits, only when asked for.
    """

    obj_id: int
    rle: Rle
    object_score: float
    iou: float
    low_res_logits: np.ndarray | None = None

    @property
    def present(self) -> bool:
        return self.object_score > 0


@dataclass(frozen=True)
class FrameResult:
    """Every requested object's mask on one finished frame.

    alternatives: after a prompt SAM 2 answered with three masks, obj_id -> those three in
    SAM 2's order (the one in ``objects`` is the chosen one); empty otherwise.
    """

    frame: int
    objects: dict[int, ObjectMask]
    alternatives: dict[int, tuple[ObjectMask, ...]] = field(default_factory=dict)


class ProgressCallback(Protocol):
    """Qt-free progress report: ``done`` of ``total`` units; ``message`` is human readable."""

    def __call__(self, done: int, total: int, message: str = "") -> None: ...


CancelCheck = Callable[[], bool]


@dataclass(frozen=True)
class VideoInfo:
    """What a frame source knows of its video. duration: seconds."""

    width: int
    height: int
    frame_count: int
    fps: float

    @property
    def duration(self) -> float:
        return self.frame_count / self.fps if self.fps > 0 else 0.0


class FrameSource(Protocol):
    """Random access to decoded frames; implementations live in core.frames.

    get(i) returns frame i as an (H, W, 3) uint8 RGB array, identical whether reached by
    seeking or by decoding from the start.
    """

    @property
    def info(self) -> VideoInfo: ...

    def __len__(self) -> int: ...

    def get(self, index: int) -> np.ndarray: ...
