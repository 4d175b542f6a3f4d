"""The memory-policy seam: the three hooks a policy may change, and SAM 2's own behaviour.

A policy is stateless; what it remembers of one object (a filter, a store of frames, pathways)
is that object's ``ObjectTrack.policy_state``, copied with the track, so the engine's checkpoints
(undo, replay) restore it. The hooks, called by ``core.video.steps`` and the session:

1. ``chooser``: the choice among the decoder's multimask outputs on a tracked frame.
2. ``select``: which memory frames (with their temporal encodings) and pointers a step reads.
3. ``MemorySelection.key_weights``: factors on each memory frame's features.

Besides: ``start_pass`` (a propagation pass begins, in a direction), ``visit_conditioning`` (the
pass reaches one of the object's conditioning frames), ``after_frame`` (a tracked frame's
output is stored), ``on_prompt`` (the user prompted the object on a frame) and ``revisions``
(earlier frames of the pass whose output the policy replaces, shown again by the session).
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor

from core.sam2.model import Sam2Model, SamHeadsOutput
from core.video.memory_policy import MemoryPolicyConfig, Sam2Memory
from core.video.state import MemoryEntry, ObjectTrack
from core.video.tracker import MemorySelection, select_memory

Locked = Callable[[int], bool]  # frame -> the object's mask there is locked


class Chooser:
    """A batch's choice among multimask outputs: ``forward_sam_heads``'s ``choose`` argument.

    Calls ``pick(j, ious (M,), masks (M, S, S)) -> int`` per object and remembers the indices.
    """

    def __init__(self, pick: Callable[[int, Tensor, Tensor], int]) -> None:
        self._pick = pick
        self.chosen: Tensor | None = None

    def __call__(self, ious: Tensor, masks: Tensor) -> Tensor:
        idx = [self._pick(j, ious[j], masks[j]) for j in range(ious.shape[0])]
        self.chosen = torch.tensor(idx, dtype=torch.long, device=ious.device)
        return self.chosen


class MemoryPolicy:
    """SAM 2's own tracker: every hook as the official video predictor does it."""

    # objects with this policy may share one memory-attention and heads call
    batchable = True

    def __init__(self, config: MemoryPolicyConfig = Sam2Memory()) -> None:
        self.config = config

    @property
    def object_threshold(self) -> float:
        """Object-score logit above which the object counts as present."""
        return 0.0

    @property
    def corrections_as_conditioning(self) -> bool:
        """Whether a click on a tracked frame makes it a conditioning frame."""
        return False

    @property
    def fills_holes(self) -> bool:
        """Whether a prompt's mask gets SAM 2's small-hole filling (``fill_hole_area``)."""
        return True

    def new_state(self):
        return None

    def start_pass(self, track: ObjectTrack, start: int, reverse: bool) -> None:
        pass

    def visit_conditioning(self, track: ObjectTrack, frame: int, reverse: bool) -> None:
        pass

    def on_prompt(self, track: ObjectTrack, frame: int) -> None:
        pass

    def chooser(self, tracks: list[ObjectTrack], frame: int, reverse: bool) -> Chooser | None:
        return None

    def select(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
               locked: Locked | None) -> MemorySelection:
        return select_memory(model, track, frame, reverse, num_frames)

    def memory_frames(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                      locked: Locked | None) -> set[int]:
        """Non-conditioning frames this policy may read on ``frame`` beyond SAM 2's (kept from eviction)."""
        return set()

    def after_frame(self, track: ObjectTrack, frame: int, reverse: bool, entry: MemoryEntry,
                    out: SamHeadsOutput, j: int, video_size: tuple[int, int] | None) -> None:
        pass

    def revisions(self, track: ObjectTrack, final: bool) -> dict[int, MemoryEntry]:
        """Frames of the current pass whose shown output the policy now replaces (after each
        frame; ``final``: the pass ended). SAM 2 never revises."""
        return {}


def mask_box(mask: Tensor) -> tuple[float, float, float, float]:
    """Pixel bounds (x0, y0, x1, y1) of ``mask > 0`` for a (S, S) logit map; (0, 0, 0, 0) if empty."""
    rows = torch.nonzero((mask > 0).any(dim=1)).flatten()
    if rows.numel() == 0:
        return (0.0, 0.0, 0.0, 0.0)
    cols = torch.nonzero((mask > 0).any(dim=0)).flatten()
    return (float(cols[0]), float(rows[0]), float(cols[-1]), float(rows[-1]))
