"""SAM2Long (Ding et al., arXiv 2410.16268), implemented from the paper: a constrained memory tree.

The object is tracked along ``num_pathways`` pathways, each with its own memory of past frames
and a cumulative score. On each frame every pathway proposes SAM 2's three masks; a branch
scores its pathway's score plus log(predicted IoU + eps); the ``num_pathways`` best branches become
the pathways for the next frame (the others are pruned). When every pathway is uncertain (all
object-score logits within ``uncertainty`` of 0) the branches kept are taken with different mask
outputs first, so the pathways stay diverse. The frame's mask is the best pathway's.

Memory of a pathway (hook 2): the conditioning frames, then the ``num_maskmem - 1`` most recent of
its frames whose predicted IoU and object score pass the thresholds (locked frames always pass),
at most ``LOOKBACK`` frames back, nearest with the nearest temporal encoding; pointers as SAM 2
reads them, from the pathway's frames. Keys (hook 3): those frames' memory features are
multiplied by weights spaced evenly from ``weight_low`` to ``weight_high`` by object-score rank
(highest score, highest weight); conditioning frames keep 1.

Both directions: a pass starts from one pathway holding the object's memory so far and grows the
tree in the direction of travel; at the end the object's memory is the best pathway's. Conditioning
frames (prompts, corrections) are shared by every pathway.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import torch

from core.allocator import long_lived
from core.sam2.model import ImageFeatures, Sam2Model
from core.video.holes import fill_small_holes
from core.video.memory_policy import Sam2LongMemory
from core.video.policies.base import Locked, MemoryPolicy
from core.video.state import MemoryEntry, ObjectTrack
from core.video.tracker import (
    MemorySelection, condition_on_memory, encode_memory, memory_tokens, run_heads, select_pointers,
)

LOOKBACK = 32  # frames a pathway's memory reaches back (its older frames are dropped)


@dataclass
class Pathway:
    score: float
    entries: dict[int, MemoryEntry]


@dataclass
class Sam2LongState:
    pathways: list[Pathway] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "Sam2LongState":
        return Sam2LongState([Pathway(p.score, dict(p.entries)) for p in self.pathways], dict(self.counts))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


class Sam2LongPolicy(MemoryPolicy):
    config: Sam2LongMemory
    batchable = False  # its pathways are its own batch

    @property
    def corrections_as_conditioning(self) -> bool:
        return True

    def new_state(self) -> Sam2LongState:
        return Sam2LongState()

    def start_pass(self, track: ObjectTrack, start: int, reverse: bool) -> None:
        st: Sam2LongState = track.policy_state
        st.pathways = [Pathway(0.0, dict(track.non_cond))]

    def memory_frames(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                      locked: Locked | None) -> set[int]:
        st: Sam2LongState = track.policy_state
        return {t for p in st.pathways for t in p.entries}

    def select(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
               locked: Locked | None) -> MemorySelection:
        st: Sam2LongState = track.policy_state
        entries = st.pathways[0].entries if st.pathways else track.non_cond
        return self._select(model, track, entries, frame, reverse, num_frames, locked, st)

    def _select(self, model, track, entries, frame, reverse, num_frames, locked, st: Sam2LongState | None) -> MemorySelection:
        cfg = self.config
        num_maskmem = model.config.num_maskmem
        step = -1 if reverse else 1
        spatial = [(e, num_maskmem - 1) for e in track.cond.values()]
        weights = [1.0] * len(spatial)
        picked: list[MemoryEntry] = []
        for d in range(1, LOOKBACK + 1):
            if len(picked) >= num_maskmem - 1:
                break
            t = frame - d * step
            e = entries.get(t)
            if e is None or e.maskmem is None:
                continue
            if (e.iou > cfg.iou_threshold and float(e.score.reshape(-1)[0]) > cfg.object_score_threshold) or (
                locked is not None and locked(t)
            ):
                picked.append(e)
            elif st is not None:
                st.count("memory_frame_rejected")
        # nearest first -> encodings num_maskmem-2 .. (as SAM 2's t_pos = num_maskmem - 1 for the nearest)
        ranks = np.argsort(np.argsort([float(e.score.reshape(-1)[0]) for e in picked], kind="stable"), kind="stable")
        n = len(picked)
        for i, e in enumerate(picked):
            spatial.append((e, i))
            w = cfg.weight_high if n == 1 else cfg.weight_low + (cfg.weight_high - cfg.weight_low) * ranks[i] / (n - 1)
            weights.append(float(w))
        pointers = select_pointers(model, track.cond, entries, frame, reverse, num_frames)
        return MemorySelection(spatial, pointers, weights)

    def track(self, ctx, track: ObjectTrack, frame: int, reverse: bool, feats: ImageFeatures, locked: Locked | None) -> MemoryEntry:
        """One frame of the tree search for one object; stores the best pathway's output."""
        cfg = self.config
        model = ctx.model
        st: Sam2LongState = track.policy_state
        if not st.pathways:
            st.pathways = [Pathway(0.0, dict(track.non_cond))]
        sels = [self._select(model, track, p.entries, frame, reverse, ctx.num_frames, locked, st) for p in st.pathways]
        mems = [memory_tokens(model, s, ctx.num_frames, ctx.memory_pos(feats)) for s in sels]
        groups: dict[tuple[int, int], list[int]] = {}
        for i, m in enumerate(mems):
            groups.setdefault(m.layout, []).append(i)
        outs: dict[int, tuple] = {}
        multimask = model.use_multimask(False, 0)
        for members in groups.values():
            fused = condition_on_memory(model, feats, [mems[i] for i in members], len(members))
            out = run_heads(model, feats, fused, None, None, multimask)
            for j, i in enumerate(members):
                outs[i] = (out, j)
        candidates = []  # (score, pathway index, mask index)
        for i, p in enumerate(st.pathways):
            out, j = outs[i]
            for k in range(out.ious.shape[1]):
                candidates.append((p.score + math.log(float(out.ious[j, k]) + cfg.eps), i, k))
        candidates.sort(key=lambda c: -c[0])
        keep_n = min(cfg.num_pathways, len(candidates))
        scores = [abs(float(outs[i][0].object_score_logits[outs[i][1], 0])) for i in range(len(st.pathways))]
        if max(scores) < cfg.uncertainty:
            st.count("uncertain_frame")
            kept, seen = [], set()
            for c in candidates:
                if c[2] not in seen:
                    kept.append(c)
                    seen.add(c[2])
                if len(kept) == keep_n:
                    break
            kept += [c for c in candidates if c not in kept][: keep_n - len(kept)]
            kept.sort(key=lambda c: -c[0])
        else:
            kept = candidates[:keep_n]
        st.count("branch_pruned", len(candidates) - len(kept))
        new_paths: list[Pathway] = []
        for score, i, k in kept:
            out, j = outs[i]
            low = out.low_res_multimasks[j : j + 1, k : k + 1]
            high = out.high_res_multimasks[j : j + 1, k : k + 1]
            obj_score = out.object_score_logits[j : j + 1]
            token = out.sam_output_tokens[j : j + 1, k] if out.sam_output_tokens is not None and out.sam_output_tokens.shape[1] > 1 else None
            ptr = out.obj_ptr[j : j + 1] if token is None else model.pointer_of(token, obj_score)
            maskmem, pos = encode_memory(model, feats, high, obj_score, binarize=False)
            if ctx.maskmem_pos is None:
                with long_lived():
                    ctx.maskmem_pos = pos.clone()
            pred = fill_small_holes(low, ctx.fill_hole_area)
            with long_lived():
                entry = MemoryEntry(
                    maskmem=maskmem.to(torch.bfloat16).clone(), pred_masks=pred.clone(), obj_ptr=ptr.clone(),
                    score=obj_score.clone(), iou=float(out.ious[j, k]), area=int((pred > 0).sum()),
                )
            parent = st.pathways[i].entries
            step = -1 if reverse else 1
            kept_entries = {t: e for t, e in parent.items() if 0 <= (frame - t) * step < LOOKBACK}
            kept_entries[frame] = entry
            new_paths.append(Pathway(score, kept_entries))
        if kept[0][1] != 0:
            st.count("best_pathway_switched")
        st.pathways = new_paths
        best = new_paths[0].entries[frame]
        track.non_cond[frame] = best
        return best
