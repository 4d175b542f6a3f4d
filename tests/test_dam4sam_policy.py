"""DAM4SAM's store tests as its released tracker computes them: the VOT toolkit's box IoU of two
masks and the count of each rejected test (core/video/policies/dam4sam.py)."""

from __future__ import annotations

import torch

from core.sam2.model import SamHeadsOutput
from core.video.memory_policy import Dam4samMemory
from core.video.policies import policy_for
from core.video.policies.dam4sam import Dam4samState, _box, _box_iou
from core.video.state import MemoryEntry, ObjectTrack


def test_box_iou_uses_the_vot_rectangle_of_a_mask() -> None:
    import numpy as np

    a = np.zeros((10, 12), bool)
    a[2:5, 3:8] = True  # pixels x 3..7, y 2..4: VOT's rectangle (3, 2, w 4, h 2)
    b = np.zeros((10, 12), bool)
    b[2:6, 3:9] = True  # x 3..8, y 2..5: (3, 2, w 5, h 3)
    # VOT: 8 / 15 (the value vot.region.raster.calculate_overlaps gives); inclusive boxes: 15 / 24
    assert _box_iou(_box(a), _box(b)) == 8 / 15
    assert _box_iou((4, 4, 9, 9), (4, 4, 9, 9)) == 1.0
    assert _box_iou((0, 0, 4, 4), (10, 10, 14, 14)) == 0.0
    # boxes whose joint bounds are one column wide count as identical, as in the toolkit
    assert _box_iou((5, 0, 5, 9), (5, 3, 6, 9)) == 1.0


def _entry(mask: torch.Tensor) -> MemoryEntry:
    return MemoryEntry(torch.zeros(1, 4, 2, 2, dtype=torch.bfloat16), mask[None, None].clone(), torch.zeros(1, 8),
                       torch.tensor([[5.0]]), 0.9, int((mask > 0).sum()))


def _square(x0: int, y0: int, x1: int, y1: int, size: int = 64) -> torch.Tensor:
    m = torch.full((size, size), -5.0)
    m[y0 : y1 + 1, x0 : x1 + 1] = 5.0
    return m


def _heads(masks: list[torch.Tensor], ious: list[float]) -> SamHeadsOutput:
    low = torch.stack(masks)
    return SamHeadsOutput(low[None], low[None], torch.tensor([ious]), low[None, :1], low[None, :1],
                          torch.zeros(1, 8), torch.tensor([[5.0]]))


def test_each_failed_store_test_is_counted_in_the_released_order() -> None:
    policy = policy_for(Dam4samMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    st: Dam4samState = track.policy_state
    obj = _square(10, 10, 20, 20)
    same = [obj, obj, obj]

    def frame(t: int, masks: list[torch.Tensor], ious: list[float]) -> None:
        e = _entry(masks[0])
        track.non_cond[t] = e
        policy.after_frame(track, t, False, e, _heads(masks, ious), 0, (64, 64))

    frame(1, same, [0.9, 0.5, 0.5])  # no area history yet: the ratio test fails
    frame(2, same, [0.7, 0.5, 0.5])  # predicted IoU not above 0.8
    frame(3, [_square(10, 10, 30, 30), obj, obj], [0.9, 0.5, 0.5])  # area 4x the median
    frame(4, same, [0.9, 0.5, 0.5])  # alternatives add nothing to the chosen mask
    near = _square(10, 10, 21, 20)  # one column more: box IoU above 0.7
    frame(5, [obj, near, near], [0.9, 0.5, 0.5])
    far = _square(40, 40, 50, 50)
    frame(6, [obj, far, far], [0.9, 0.5, 0.5])  # a distractor: stored
    frame(8, [obj, far, far], [0.9, 0.5, 0.5])  # within 5 frames of the addition
    frame(9, [torch.full((64, 64), -5.0)] * 3, [0.9, 0.5, 0.5])  # the object is absent
    assert list(st.drm) == [6]
    assert {k: v for k, v in st.counts.items() if k.startswith("store_rejected")} == {
        "store_rejected_area": 2, "store_rejected_iou": 1, "store_rejected_no_alternative": 1,
        "store_rejected_box_iou": 1, "store_rejected_gap": 1, "store_rejected_absent": 1,
    }
