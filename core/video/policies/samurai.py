"""SAMURAI (Yang et al., arXiv 2411.11922): motion-aware mask choice and memory selection.

Choice (hook 1): a Kalman filter (``kalman.BoxFilter``) follows the box of the chosen mask.
While fewer than ``stable_frames_threshold`` frames in a row had a predicted IoU above
``stable_ious_threshold`` the best predicted IoU is chosen and the filter only learns; once
stable, each of the three masks scores ``w * IoU(filter box, mask box) + (1 - w) * predicted
IoU`` and the best score wins (a box far from where the object moves loses). A chosen mask with
a predicted IoU below the threshold resets stability (the filter starts again on the next frame).

Memory (hook 2): walking back from the previous frame in the direction of travel, non-conditioning
frames whose chosen mask's predicted IoU and object score pass the thresholds are collected (at
most ``max_memory_candidates``); the previous frame is always one; the last ``num_maskmem - 1``
of them are the memory, nearest with the nearest temporal encoding. As in the released code the
search ends two frames from the video's start (frames 0 and 1 forward). Locked frames always pass.

Both directions: the filter runs in the direction of travel; it restarts at each pass start and on
each conditioning frame the pass reaches (from the box of that frame's prompt result when the
prompt gave three masks, else on the next tracked frame). A correction is a conditioning frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from core.sam2.model import Sam2Model
from core.video.memory_policy import SamuraiMemory
from core.video.policies.base import Chooser, Locked, MemoryPolicy, mask_box
from core.video.policies.kalman import BoxFilter, box_iou
from core.video.state import ObjectTrack
from core.video.tracker import MemorySelection, select_pointers


@dataclass
class SamuraiState:
    """One object's filter, its stable-frame count, filter IoUs of chosen masks, branch counts."""

    filter: BoxFilter | None = None
    stable: int = 0
    kf_iou: dict[int, float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "SamuraiState":
        return SamuraiState(None if self.filter is None else self.filter.copy(), self.stable,
                            dict(self.kf_iou), dict(self.counts))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class SamuraiPolicy(MemoryPolicy):
    config: SamuraiMemory

    @property
    def object_threshold(self) -> float:
        return self.config.min_obj_score_logits

    @property
    def corrections_as_conditioning(self) -> bool:
        return True

    def new_state(self) -> SamuraiState:
        return SamuraiState()

    def start_pass(self, track: ObjectTrack, start: int, reverse: bool) -> None:
        st: SamuraiState = track.policy_state
        st.filter, st.stable = None, 0

    def visit_conditioning(self, track: ObjectTrack, frame: int, reverse: bool) -> None:
        st: SamuraiState = track.policy_state
        seed = track.cond[frame].seed_box
        if seed is None:
            st.filter, st.stable = None, 0
        else:
            st.filter, st.stable = BoxFilter.start(seed), 1
            st.count("filter_started")

    def chooser(self, tracks: list[ObjectTrack], frame: int, reverse: bool) -> Chooser:
        cfg = self.config

        def pick(j: int, ious: Tensor, masks: Tensor) -> int:
            st: SamuraiState = tracks[j].policy_state
            best = int(torch.argmax(ious))
            st.kf_iou.pop(frame, None)  # set below only when the filter takes part in the choice
            if st.filter is None or st.stable == 0:
                st.filter = BoxFilter.start(mask_box(masks[best]))
                st.stable += 1
                st.count("filter_started")
                return best
            st.filter.predict()
            if st.stable < cfg.stable_frames_threshold:
                if float(ious[best]) > cfg.stable_ious_threshold:
                    st.filter.update(mask_box(masks[best]))
                    st.stable += 1
                    st.count("filter_updated")
                else:
                    st.stable = 0
                    st.count("filter_reset")
                return best
            boxes = [mask_box(masks[k]) for k in range(masks.shape[0])]
            predicted = st.filter.box()
            kf = torch.tensor([box_iou(predicted, b) for b in boxes], dtype=torch.float32, device=ious.device)
            weighted = cfg.kf_score_weight * kf + (1 - cfg.kf_score_weight) * ious
            chosen = int(torch.argmax(weighted))
            st.count("motion_choice")
            if chosen != best:
                st.count("motion_changed_choice")
            st.kf_iou[frame] = float(kf[chosen])
            if float(ious[chosen]) < cfg.stable_ious_threshold:
                st.stable = 0
                st.count("filter_reset")
            else:
                st.filter.update(boxes[chosen])
                st.count("filter_updated")
            return chosen

        return Chooser(pick)

    def _memory(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                locked: Locked | None, count: bool) -> list[tuple[int, int]]:
        """(frame, t_pos) of the non-conditioning memories read on ``frame``, oldest first."""
        cfg = self.config
        st: SamuraiState = track.policy_state
        num_maskmem = model.config.num_maskmem
        step = -1 if reverse else 1
        valid: list[int] = []
        t = frame - step
        # the released search stops two frames from the video's start in the direction of travel
        while (t >= 2 if not reverse else t <= num_frames - 3):
            entry = track.non_cond.get(t)
            if entry is not None:
                kf = st.kf_iou.get(t)
                ok = (
                    entry.iou > cfg.memory_bank_iou_threshold
                    and float(entry.score.reshape(-1)[0]) > cfg.memory_bank_obj_score_threshold
                    and (not cfg.use_kf_score_in_memory or kf is None or kf > cfg.memory_bank_kf_score_threshold)
                )
                if ok or (locked is not None and locked(t)):
                    valid.append(t)
                elif count:
                    st.count("memory_frame_rejected")
                if len(valid) >= cfg.max_memory_candidates:
                    break
            t -= step
        valid.reverse()  # oldest first
        if frame - step not in valid:
            valid.append(frame - step)
        out = []
        for t_pos in range(1, num_maskmem):
            idx = t_pos - num_maskmem
            if idx >= -len(valid):
                out.append((valid[idx], t_pos))
        return out

    def memory_frames(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                      locked: Locked | None) -> set[int]:
        return {t for t, _ in self._memory(model, track, frame, reverse, num_frames, locked, count=False)}

    def select(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
               locked: Locked | None) -> MemorySelection:
        num_maskmem = model.config.num_maskmem
        spatial = [(entry, num_maskmem - 1) for entry in track.cond.values()]
        for t, t_pos in self._memory(model, track, frame, reverse, num_frames, locked, count=True):
            entry = track.non_cond.get(t)
            if entry is not None and entry.maskmem is not None:
                spatial.append((entry, num_maskmem - t_pos - 1))
        return MemorySelection(spatial, select_pointers(model, track.cond, track.non_cond, frame, reverse, num_frames))
