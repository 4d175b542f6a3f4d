"""DAM4SAM / "SAM2.1++" (Videnovic et al., CVPR 2025): distractor-aware memory.

Memory (hook 2) has two parts. The DRM: the conditioning frames attended to, at most ``drm_size``:
the nearest one behind the previous frame, the user's conditioning frame nearest to the current
frame, then the nearest others (never the previous frame itself); the DRM's frames are the user's
prompts and the frames the store added. The RAM: the previous frame, then every ``ram_stride``-th
frame before it, each time skipping back past frames where the object is absent (no positive
pixel) or that are in the DRM; its frames get temporal encodings by their order. Object pointers
come from the DRM's past frames and from recent frames where the object is present.

Store (after each tracked frame): the frame joins the DRM when the chosen mask's predicted IoU is
above ``min_iou``, its area (pixels at video size) within ``area_ratio`` of the median of the last
``area_history`` non-empty areas, more than ``min_gap`` frames passed since the last addition,
and an alternative mask, reduced to its largest part outside the chosen mask and joined to it,
has a box whose IoU with the chosen mask's box is at most ``max_alt_box_iou`` (a distractor the
memory should tell apart). Its memory is encoded again from the binarised mask, as a prompt's.

Both directions: "behind" is the direction of travel; the store keeps its frames across passes and
restarts (empty, with no area history) when the object gets a prompt. Locked frames always count
as present; a correction is a conditioning frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from core.sam2.model import Sam2Model, SamHeadsOutput
from core.video.memory_policy import Dam4samMemory
from core.video.policies.base import Locked, MemoryPolicy
from core.video.state import MemoryEntry, ObjectTrack
from core.video.tracker import MemorySelection


@dataclass
class Dam4samState:
    """The store's frames (their outputs), areas of tracked frames, the last addition, counts."""

    drm: dict[int, MemoryEntry] = field(default_factory=dict)
    areas: list[int] = field(default_factory=list)
    last_added: int = -1
    pending: list[int] = field(default_factory=list)  # added frames whose memory is not yet re-encoded
    counts: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "Dam4samState":
        from dataclasses import replace

        return Dam4samState({t: replace(e) for t, e in self.drm.items()}, list(self.areas), self.last_added,
                            list(self.pending), dict(self.counts))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class Dam4samPolicy(MemoryPolicy):
    config: Dam4samMemory

    @property
    def corrections_as_conditioning(self) -> bool:
        return True

    def new_state(self) -> Dam4samState:
        return Dam4samState()

    def on_prompt(self, track: ObjectTrack, frame: int) -> None:
        st: Dam4samState = track.policy_state
        if st.drm or st.areas:
            st.count("store_restarted")
        st.drm.clear()
        st.areas.clear()
        st.pending.clear()
        st.last_added = -1

    # ------------------------------------------------------------------ memory
    def _conditioning(self, track: ObjectTrack, frame: int, reverse: bool) -> tuple[dict[int, MemoryEntry], dict[int, MemoryEntry]]:
        st: Dam4samState = track.policy_state
        every = {**track.cond, **{t: e for t, e in st.drm.items() if e.maskmem is not None}}
        step = -1 if reverse else 1
        prev = frame - step
        selected: dict[int, MemoryEntry] = {}
        behind = [t for t in every if (t - prev) * step < 0]
        if behind:
            t = max(behind, key=lambda t: t * step)
            selected[t] = every[t]
        if track.cond:
            first = min(track.cond, key=lambda t: (abs(t - frame), t))
            selected.setdefault(first, every[first])
        remain = sorted((t for t in every if t not in selected and t != prev), key=lambda t: abs(t - frame))
        for t in remain[: max(0, self.config.drm_size - len(selected))]:
            selected[t] = every[t]
        return selected, {t: e for t, e in every.items() if t not in selected}

    def _ram(self, track: ObjectTrack, frame: int, reverse: bool, slots: int, selected: dict[int, MemoryEntry],
             every_cond: dict[int, MemoryEntry], num_frames: int, locked: Locked | None, counts: Dam4samState | None = None):
        r = self.config.ram_stride
        step = -1 if reverse else 1
        last = num_frames - 1

        def present(t: int, out: MemoryEntry | None) -> bool:
            ok = out is not None and (out.area >= 1 or (locked is not None and locked(t))) and t not in selected
            if counts is not None and out is not None and not ok and t not in selected:
                counts.count("absent_frame_skipped")
            return ok

        def inside(t: int) -> bool:  # the released walk stops before the video's first frame
            return t > 0 if not reverse else t < last

        rows: list[tuple[int, MemoryEntry | None]] = []
        prev = frame
        for i in range(slots):
            if i == 0:
                prev = frame - step
                out = every_cond.get(prev) if prev in every_cond else track.non_cond.get(prev)
                if not present(prev, out):
                    while True:
                        prev -= step
                        if inside(prev):
                            out = track.non_cond.get(prev)
                            if present(prev, out):
                                break
                        else:
                            out = None
                            break
            elif (prev >= 0) if not reverse else (prev <= last):
                prev = ((prev - 1) // r) * r if not reverse else -(-(prev + 1) // r) * r
                out = track.non_cond.get(prev)
                if not present(prev, out):
                    while True:
                        prev -= step * r
                        if inside(prev):
                            out = track.non_cond.get(prev)
                            if present(prev, out):
                                break
                        else:
                            out = None
                            break
            else:
                out = None
            rows.append((prev, out))
        return rows

    def _plan(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int, locked: Locked | None,
              counts: Dam4samState | None = None):
        selected, unselected = self._conditioning(track, frame, reverse)
        every = {**selected, **unselected}
        slots = model.config.num_maskmem - 1 - (len(selected) - 1)
        rows = self._ram(track, frame, reverse, slots, selected, every, num_frames, locked, counts)
        return selected, unselected, rows

    def memory_frames(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                      locked: Locked | None) -> set[int]:
        if not 0 <= frame < num_frames:
            return set()
        _, _, rows = self._plan(model, track, frame, reverse, num_frames, locked)
        return {t for t, out in rows if out is not None}

    def select(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
               locked: Locked | None) -> MemorySelection:
        st: Dam4samState = track.policy_state
        selected, unselected, rows = self._plan(model, track, frame, reverse, num_frames, locked, st)
        step = -1 if reverse else 1
        # the released order: DRM frames (key 0) and RAM frames keyed by frame index, sorted (stably)
        # by key; a DRM frame gets encoding 0, a RAM frame its place in that order (backward: keyed
        # by the mirrored index, so the order is the same seen from the direction of travel)
        last = num_frames - 1
        ram = [((last - t) if reverse else t, out) for t, out in rows]
        items = sorted([(0, e) for e in selected.values()] + ram, key=lambda x: x[0])
        total = len(items)
        spatial: list[tuple[MemoryEntry, int]] = []
        for k, (key, out) in enumerate(items):
            if out is None or out.maskmem is None:
                continue
            spatial.append((out, total - (0 if key == 0 else k) - 1))
        pointers = self._pointers(model, track, selected, unselected, frame, reverse, num_frames)
        return MemorySelection(spatial, pointers)

    def _pointers(self, model, track, selected, unselected, frame, reverse, num_frames):
        cfg = model.config
        if not cfg.use_obj_ptrs_in_encoder:
            return []
        max_ptrs = min(num_frames, cfg.max_obj_ptrs_in_encoder)
        out: list = []
        for t, entry in selected.items():
            if cfg.only_obj_ptrs_in_the_past_for_eval and not (t >= frame if reverse else t <= frame):
                continue
            out.append((abs(frame - t), entry.obj_ptr))
        for t_diff in range(1, max_ptrs):
            t = frame + t_diff if reverse else frame - t_diff
            if t < 0 or t >= num_frames:
                break
            entry = track.non_cond.get(t, unselected.get(t))
            if entry is not None and entry.area >= 1:
                out.append((t_diff, entry.obj_ptr))
        return out

    # ------------------------------------------------------------------ store
    def to_reencode(self, track: ObjectTrack) -> list[MemoryEntry]:
        st: Dam4samState = track.policy_state
        out = [st.drm[t] for t in st.pending if t in st.drm]
        st.pending.clear()
        return out

    def after_frame(self, track: ObjectTrack, frame: int, reverse: bool, entry: MemoryEntry,
                    out: SamHeadsOutput, j: int, video_size: tuple[int, int] | None) -> None:
        cfg = self.config
        st: Dam4samState = track.policy_state
        assert video_size is not None
        chosen = F.interpolate(entry.pred_masks, size=video_size, mode="bilinear", align_corners=False)[0, 0] > 0
        n = int(chosen.sum())
        st.areas.append(n)
        ratio = -1.0
        if len(st.areas) > 1 and n >= 1:
            ratio = n / float(np.median([a for a in st.areas[-300:] if a >= 1][-cfg.area_history:]))
        ious = out.ious[j]
        if ious.numel() < 2:
            return
        best = int(torch.argmax(ious))
        # the released tracker's tests, all needed; the first that fails is counted
        failed = next((name for name, ok in (
            ("store_rejected_absent", n >= 1),
            ("store_rejected_iou", float(ious[best]) > cfg.min_iou),
            ("store_rejected_area", 1 - cfg.area_ratio <= ratio <= 1 + cfg.area_ratio),
            ("store_rejected_gap", abs(frame - st.last_added) > cfg.min_gap or st.last_added == -1),
        ) if not ok), None)
        if failed is not None:
            st.count(failed)
            return
        st.count("store_candidate")
        video = F.interpolate(out.low_res_multimasks[j : j + 1], size=video_size, mode="bilinear", align_corners=False)[0] > 0
        chosen_np = chosen.cpu().numpy()
        box = _box(chosen_np)
        alt_ious = []
        for k in range(video.shape[0]):
            if k == best:
                continue
            alt = np.logical_and(video[k].cpu().numpy(), ~chosen_np).astype(np.uint8)
            if alt.sum() < 1:
                continue
            alt = _largest_component(alt)
            alt_ious.append(_box_iou(box, _box(np.logical_or(alt, chosen_np))))
        if not alt_ious:
            st.count("store_rejected_no_alternative")
        elif min(alt_ious) > cfg.max_alt_box_iou:
            st.count("store_rejected_box_iou")
        else:
            st.last_added = frame
            track.non_cond.pop(frame, None)
            st.drm[frame] = entry
            st.pending.append(frame)
            st.count("distractor_frame_stored")


def _largest_component(mask: np.ndarray) -> np.ndarray:
    _, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return labels == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))


def _box(mask: np.ndarray) -> tuple[int, int, int, int]:
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]), int(rows[-1])


def _box_iou(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """IoU of the boxes of two masks given by their pixel bounds (x0, y0, x1, y1, inclusive), as
    the released tracker measures it with the VOT toolkit: a mask's box is the rectangle (x0, y0,
    width x1 - x0, height y1 - y0), so it covers the pixels x0..x1-1, y0..y1-1; two boxes whose
    joint bounds are a single row or column count as identical (1.0)."""
    if max(a[2], b[2]) - 1 <= min(a[0], b[0]) or max(a[3], b[3]) - 1 <= min(a[1], b[1]):
        return 1.0
    iw = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / float(union) if union > 0 else 0.0
