"""A bounded LRU cache of per-frame image features, shared by every object of a session.

The image encoder is the costly part of a click; keeping the features of the last few frames
used (propagated, clicked, or shown: ``prefetch``) means a click on a recent frame goes straight
to the heads. Features are batch 1; objects expand them. Only what the video engine reads is
kept: the feature maps of every level and the position encoding of the lowest-resolution level,
one copy shared by all frames (it depends on the shape only). The high-resolution levels'
position encodings (80 MB a frame at 1024) are dropped: nothing reads them.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Callable

import numpy as np
import torch

from core.allocator import kept_tensor
from core.frames import quiet_scans
from core.sam2.model import ImageFeatures, Sam2Model
from core.video.device_preprocess import frame_to_model_input


class FeatureCache:
    """frame index -> ImageFeatures for at most ``capacity`` frames (least recently used evicted).

    get_frame(i) returns frame i as (H, W, 3) uint8. ``encoder_runs`` counts image-encoder calls.
    """

    def __init__(self, model: Sam2Model, get_frame: Callable[[int], np.ndarray], capacity: int) -> None:
        if capacity < 1:
            raise ValueError(f"the feature cache must hold at least one frame, got {capacity}")
        self._model = model
        self._get_frame = get_frame
        self.capacity = capacity
        self._items: OrderedDict[int, ImageFeatures] = OrderedDict()
        self._pos: torch.Tensor | None = None
        self.encoder_runs = 0

    def __contains__(self, frame: int) -> bool:
        return frame in self._items

    def __len__(self) -> int:
        return len(self._items)

    def get(self, frame: int) -> ImageFeatures:
        feats = self._items.get(frame)
        if feats is not None:
            self._items.move_to_end(frame)
            return feats
        image = frame_to_model_input(self._get_frame(frame), self._model.image_size, self._model.device)
        with quiet_scans(), torch.inference_mode():  # a video's index scan waits for the encoder
            full = self._model.encode_image(image)
        if self._pos is None or self._pos.shape != full.vision_pos_embeds[-1].shape:
            self._pos = kept_tensor(full.vision_pos_embeds[-1])
        feats = _kept_copy(full, self._pos)
        del full
        self.encoder_runs += 1
        self._items[frame] = feats
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)
        return feats

    def clear(self) -> None:
        self._items.clear()


def _kept_copy(full: ImageFeatures, pos: torch.Tensor) -> ImageFeatures:
    """The encoder's feature maps copied outside the malloc heap (``core.allocator``).

    The cache keeps them for many frames; left where the encoder allocated them, they would sit
    between the next frames' activations and fragment the heap. vision_feats stay views of the
    (B, C, H, W) maps, as the encoder returns them; vision_pos_embeds holds the last level only
    (callers read vision_pos_embeds[-1]).
    """
    maps = [kept_tensor(x.permute(1, 2, 0).unflatten(-1, (h, w))) for x, (h, w) in zip(full.vision_feats, full.feat_sizes)]
    high = maps[:-1] if full.high_res_features is not None else None
    return ImageFeatures([m.flatten(2).permute(2, 0, 1) for m in maps], [pos], full.feat_sizes, high)
