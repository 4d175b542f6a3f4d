"""Per-object tracking state of a video session and the bounded memory bank.

For every object the session keeps what SAM 2 reads to track it: the outputs of its
conditioning frames (frames with its prompts) and of recent non-conditioning frames. Each
output (:class:`MemoryEntry`) holds the frame's memory features (bfloat16, as the official
predictor stores them), the low-resolution mask logits, the object pointer and object score.

Unlike the official predictor, which keeps every frame's output forever, non-conditioning
outputs are dropped once no tracking step can read them any more (:meth:`ObjectTrack.evict`):
a frame's memory features are read by the next ``num_maskmem - 1`` frames in the direction of
travel and its pointer by the next ``max_obj_ptrs - 1``. Outputs next to "anchors" (the
object's conditioning frames and recent propagation starts) are kept as well, because a
propagation starting there (backward after forward, or again after a new prompt) reads them.
Beyond that, a bounded number of other recent outputs (a budget in MB, see
:class:`SpareMemories`) stays, for correction clicks on recently tracked frames.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace

from typing import Any

import torch

from core.video.memory_policy import MemoryPolicyConfig, Sam2Memory

RECENT_STARTS = 4  # propagation start frames kept as anchors


@dataclass
class MemoryEntry:
    """One object's output on one frame (batch dimension 1 everywhere).

    maskmem: (1, mem_dim, h, w) bfloat16 memory features, None until encoded or once dropped.
    pred_masks: (1, 1, 4h, 4w) float32 low-resolution logits (holes filled), None once dropped.
    obj_ptr: (1, hidden_dim) float32. score: (1, 1) float32 object-presence logit.
    iou: predicted IoU of the chosen mask.
    """

    maskmem: torch.Tensor | None
    pred_masks: torch.Tensor | None
    obj_ptr: torch.Tensor
    score: torch.Tensor
    iou: float
    # positive low-resolution pixels of the mask (-1: not counted); a policy's "object absent"
    area: int = -1
    # a prompt's result: pixel box (x0, y0, x1, y1) at model size of the mask chosen among three
    # (None when the heads gave one); SAMURAI's filter restarts from it
    seed_box: tuple[float, float, float, float] | None = None


@dataclass
class PointInputs:
    """SAM point prompts in model pixels: coords (1, P, 2) float32, labels (1, P) int32."""

    coords: torch.Tensor
    labels: torch.Tensor

    @property
    def count(self) -> int:
        return int(self.labels.shape[1])


@dataclass
class ObjectTrack:
    """Everything the session knows of one object.

    points / masks: the user's prompts per frame (masks: (1, 1, S, S) float 0/1 at model size).
    cond / non_cond: committed outputs (conditioning and not), insertion ordered like the
    official dicts. temp_cond / temp_non_cond: outputs of prompts given since the last
    propagation, whose memory is encoded when propagation starts.
    tracked: frame -> tracked in reverse, for every frame this object has been tracked on.
    """

    obj_id: int
    points: dict[int, PointInputs] = field(default_factory=dict)
    masks: dict[int, torch.Tensor] = field(default_factory=dict)
    cond: dict[int, MemoryEntry] = field(default_factory=dict)
    non_cond: dict[int, MemoryEntry] = field(default_factory=dict)
    temp_cond: dict[int, MemoryEntry] = field(default_factory=dict)
    temp_non_cond: dict[int, MemoryEntry] = field(default_factory=dict)
    tracked: dict[int, bool] = field(default_factory=dict)
    starts: deque[int] = field(default_factory=lambda: deque(maxlen=RECENT_STARTS))
    # the object's memory policy (core.video.memory_policy) and that policy's state (its copy()
    # gives an independent one; None for SAM 2's own, which has none)
    memory: MemoryPolicyConfig = field(default_factory=Sam2Memory)
    policy_state: Any = None

    def copy(self) -> "ObjectTrack":
        """An independent copy sharing the tensors (no step writes into a tensor it did not make;
        steps only set an entry's fields, and every entry is copied)."""

        def entries(store: dict[int, MemoryEntry]) -> dict[int, MemoryEntry]:
            return {frame: replace(entry) for frame, entry in store.items()}

        return ObjectTrack(
            self.obj_id, dict(self.points), dict(self.masks), entries(self.cond), entries(self.non_cond),
            entries(self.temp_cond), entries(self.temp_non_cond), dict(self.tracked),
            deque(self.starts, maxlen=RECENT_STARTS), self.memory,
            None if self.policy_state is None else self.policy_state.copy(),
        )

    def prompted_frames(self) -> set[int]:
        return set(self.points) | set(self.masks)

    def latest_output(self, frame: int, is_cond: bool) -> MemoryEntry | None:
        """The most recent output on ``frame``: pending prompt result first, then committed."""
        temp = self.temp_cond if is_cond else self.temp_non_cond
        out = temp.get(frame)
        if out is None:
            out = self.cond.get(frame)
        if out is None:
            out = self.non_cond.get(frame)
        return out

    def evict(self, position: int, reverse: bool, num_maskmem: int, max_ptrs: int, keep: "set[int] | frozenset[int]" = frozenset()) -> tuple[list[int], list[int]]:
        """Sort non-conditioning outputs by what the next tracking steps can read.

        position: the frame just tracked; reverse: direction of travel. Memory features and
        logits are needed for frames within ``num_maskmem - 1`` behind ``position`` or around an
        anchor, pointers within ``max_ptrs - 1``. Outputs needed for neither and without memory
        features are dropped here. Returns (spare, needed): frames whose memory features are held
        but not needed (the session keeps a bounded number of those, so a correction click on a
        recently tracked frame reads what the official predictor reads) and frames needed.
        keep: frames a memory policy will read beyond these (they count as needed).
        """
        step = -1 if reverse else 1
        anchors = list(self.cond) + list(self.starts)
        mem_reach = max(num_maskmem - 1, 1)
        ptr_reach = max(max_ptrs - 1, mem_reach)
        spare: list[int] = []
        needed: list[int] = []
        for t in list(self.non_cond):
            behind = (position - t) * step
            near_anchor = min((abs(t - a) for a in anchors), default=None)
            if t in keep or 0 <= behind <= mem_reach or (near_anchor is not None and near_anchor <= mem_reach):
                needed.append(t)
                continue
            entry = self.non_cond[t]
            if entry.maskmem is not None:
                spare.append(t)
            elif not (0 <= behind <= ptr_reach or (near_anchor is not None and near_anchor <= ptr_reach)):
                del self.non_cond[t]
        return spare, needed

    def drop_features(self, frame: int) -> None:
        """Forget the memory features and logits of a non-conditioning output (keep its pointer)."""
        entry = self.non_cond.get(frame)
        if entry is not None:
            entry.maskmem = None
            entry.pred_masks = None

    def memory_bytes(self) -> int:
        """Bytes of tensors held for this object (for tests and diagnostics)."""
        total = 0
        for store in (self.cond, self.non_cond, self.temp_cond, self.temp_non_cond):
            for e in store.values():
                for t in (e.maskmem, e.pred_masks, e.obj_ptr, e.score):
                    if t is not None:
                        total += t.numel() * t.element_size()
        return total


class SpareMemories:
    """Least-recently-tracked outputs kept beyond need, at most ``capacity`` (object, frame) pairs."""

    def __init__(self, capacity: int) -> None:
        self.capacity = max(0, capacity)
        self._order: "OrderedDict[tuple[int, int], None]" = OrderedDict()

    def __len__(self) -> int:
        return len(self._order)

    def update(self, obj_id: int, spare: list[int], needed: list[int]) -> list[tuple[int, int]]:
        """Record an object's spare and needed frames; return the pairs over capacity (oldest first)."""
        for t in needed:
            self._order.pop((obj_id, t), None)
        for t in spare:
            if (obj_id, t) not in self._order:
                self._order[(obj_id, t)] = None
        over: list[tuple[int, int]] = []
        while len(self._order) > self.capacity:
            over.append(self._order.popitem(last=False)[0])
        return over

    def copy(self) -> "SpareMemories":
        other = SpareMemories(self.capacity)
        other._order = OrderedDict(self._order)
        return other

    def forget_object(self, obj_id: int) -> None:
        for key in [k for k in self._order if k[0] == obj_id]:
            del self._order[key]

    def clear(self) -> None:
        self._order.clear()
