"""The model worker's side of "find objects": the automatic mask generator on one frame, with
progress and cancel (called by annotator.engine_service on the worker thread)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from annotator.auto_objects import FoundMask
from annotator.requests import FindObjectsRequest, FoundObjects
from core.sam2.auto_masks import AutoMaskGenerator, AutoMasksCancelled

if TYPE_CHECKING:
    from annotator.engine_service import CancelFlags, Listener
    from core.sam2.model import Sam2Model


def find_objects(model: "Sam2Model", image: np.ndarray, request: FindObjectsRequest, flags: "CancelFlags",
                 listener: "Listener") -> FoundObjects:
    """The masks of ``image`` (H, W, 3 uint8 RGB), best predicted IoU first."""
    rid = request.request_id

    def progress(done: int, total: int, message: str = "") -> None:
        listener.on_find_progress(rid, done, total)

    try:
        result = AutoMaskGenerator(model, request.params).generate(image, progress, lambda: flags.is_cancelled(rid))
    except AutoMasksCancelled:
        return FoundObjects(rid, request.frame, (), cancelled=True)
    masks = sorted(result.masks, key=lambda m: -m.predicted_iou)
    return FoundObjects(rid, request.frame, tuple(
        FoundMask(m.rle, m.area, m.predicted_iou, m.stability_score, m.point) for m in masks))
