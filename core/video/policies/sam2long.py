"""SAM2Long (Ding et al., arXiv 2410.16268): a constrained tree search over memory pathways.

Written from the paper; where the paper leaves a detail open, the choice reproduces what the
released code observably does (bench/parity/sam2long_policy.py compares the two; the list is in
docs/memory_policies.md).

A pass tracks its first frame as SAM 2 does (its memory, the best predicted IoU) and starts
``num_pathways`` identical pathways from it with score 0. On every later frame each pathway
proposes SAM 2's three masks; a branch scores its pathway's score plus log(predicted IoU + eps).
When some pathway's object-score logit is further than ``uncertainty`` from 0 the best
``num_pathways`` branches are kept; otherwise (every pathway uncertain) branches are taken best
first but only one per predicted IoU (to two decimals, signed by presence), and pathways that kept
no branch then add their best one. The kept branches, best first, are the new pathways; the frame
shows the best one's mask. Identical pathways are computed once.

Memory of a pathway (hook 2): the conditioning frames, then its frames whose predicted IoU and
object score pass the thresholds, newest first, scanned back until ``max_obj_ptrs - 1`` pass (at
most ``LOOKBACK`` frames back); the frame just before is always read. The newest
``num_maskmem - 1`` of them are memory frames (nearest, nearest temporal encoding), all but the
oldest give pointers, placed by their rank. Keys (hook 3): memory frames' keys and pointers' keys
are scaled by weights spaced evenly from ``weight_low`` to ``weight_high`` by object-score rank;
conditioning frames rank as a score of ``PROMPT_SCORE``.

After the last frame the best pathway's masks are the output (the paper's video-level choice):
a frame whose mask all pathways share is settled at once, the rest at the end of the pass; the
session shows the revised masks (``revisions``).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import torch

from core.allocator import kept_tensor
from core.sam2.model import ImageFeatures, Sam2Model
from core.video.memory_policy import Sam2LongMemory
from core.video.policies.base import Locked, MemoryPolicy
from core.video.state import MemoryEntry, ObjectTrack
from core.video.tracker import (
    MemorySelection, condition_on_memory, encode_memory, memory_tokens, run_heads, select_memory, select_pointers,
)

LOOKBACK = 32  # frames a pathway's memory reaches back
PROMPT_SCORE = 10.0  # the object-score rank of conditioning frames and their pointers (a sure presence)


@dataclass
class Pathway:
    score: float
    entries: dict[int, MemoryEntry]  # its frames of this pass (and the object's memory before it)
    lineage: int  # pathways with the same number hold the same masks


@dataclass
class Sam2LongState:
    pathways: list[Pathway] = field(default_factory=list)
    shown: dict[int, MemoryEntry] = field(default_factory=dict)  # frames of this pass not settled yet
    counts: dict[str, int] = field(default_factory=dict)

    def copy(self) -> "Sam2LongState":
        return Sam2LongState([Pathway(p.score, dict(p.entries), p.lineage) for p in self.pathways], dict(self.shown),
                             dict(self.counts))

    def count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n


_lineages = itertools.count(1)


def _score(e: MemoryEntry) -> float:
    return float(e.score.reshape(-1)[0])


def rank_weights(scores: list[float], low: float, high: float) -> list[float]:
    """Weights spaced evenly from ``low`` to ``high`` given by rank of ``scores`` (lowest: ``low``).

    One score gets ``low`` (an evenly spaced list of one value starts and ends there)."""
    if not scores:
        return []
    steps = torch.linspace(low, high, len(scores))
    order = torch.argsort(torch.tensor(scores, dtype=torch.float32))
    out = torch.zeros(len(scores))
    out[order] = steps
    return [float(w) for w in out]


def keep_branches(candidates: list[tuple[float, int, int]], values: list[float] | None, keep_n: int,
                  num_pathways: int) -> list[tuple[float, int, int]]:
    """The branches that become the pathways, best first.

    candidates: (score, pathway, mask), sorted best first. values: None when some pathway is
    certain (the ``keep_n`` best are kept); else each candidate's signed predicted IoU: branches
    are taken best first, one per value rounded to 0.01, and if that gives fewer than ``keep_n``
    each pathway without a kept branch adds its best one, in pathway order.
    """
    if values is None:
        return candidates[:keep_n]
    kept, seen = [], set()
    for c, v in zip(candidates, values):
        if round(v, 2) not in seen:
            kept.append(c)
            seen.add(round(v, 2))
        if len(kept) == keep_n:
            return kept
    for i in range(num_pathways):
        if len(kept) == keep_n:
            break
        if all(c[1] != i for c in kept):
            kept.append(next(c for c in candidates if c[1] == i))
    return kept


class Sam2LongPolicy(MemoryPolicy):
    config: Sam2LongMemory
    batchable = False  # its pathways are its own batch

    @property
    def corrections_as_conditioning(self) -> bool:
        return True

    @property
    def fills_holes(self) -> bool:
        return False  # masks stay as predicted, prompts' too (the released code fills no holes)

    def new_state(self) -> Sam2LongState:
        return Sam2LongState()

    def start_pass(self, track: ObjectTrack, start: int, reverse: bool) -> None:
        st: Sam2LongState = track.policy_state
        st.pathways, st.shown = [], {}

    def memory_frames(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
                      locked: Locked | None) -> set[int]:
        st: Sam2LongState = track.policy_state
        return {t for p in st.pathways for t in p.entries}

    def select(self, model: Sam2Model, track: ObjectTrack, frame: int, reverse: bool, num_frames: int,
               locked: Locked | None) -> MemorySelection:
        st: Sam2LongState = track.policy_state
        if not st.pathways:
            return select_memory(model, track, frame, reverse, num_frames)
        return self._select(model, track, st.pathways[0].entries, frame, reverse, num_frames, locked, None)

    def _select(self, model, track, entries, frame, reverse, num_frames, locked, st: Sam2LongState | None) -> MemorySelection:
        cfg = self.config
        step = -1 if reverse else 1
        max_ptrs = min(num_frames, model.config.max_obj_ptrs_in_encoder)
        valid: list[int] = []  # newest first
        for d in range(1, LOOKBACK + 1):
            t = frame - d * step
            e = entries.get(t)
            if e is None or e.maskmem is None:
                continue
            if (e.iou > cfg.iou_threshold and _score(e) > cfg.object_score_threshold) or (locked is not None and locked(t)):
                valid.append(t)
            elif st is not None:
                st.count("memory_frames_failing")
                if d == 1:
                    st.count("last_frame_kept_failing")
            if len(valid) >= max_ptrs - 1:
                break
        last = frame - step
        if last in entries and last not in valid:
            valid.insert(0, last)  # the frame just before is always read
        num_maskmem = model.config.num_maskmem
        frames = valid[: num_maskmem - 1][::-1]  # oldest first, as SAM 2 lays them out
        spatial = [(e, num_maskmem - 1) for e in track.cond.values()]
        spatial += [(entries[t], valid.index(t)) for t in frames]  # the newest gets encoding 0
        pointers = select_pointers(model, track.cond, {}, frame, reverse, num_frames)
        n_cond_ptrs = len(pointers)
        pointers += [(r, entries[valid[r - 1]].obj_ptr) for r in range(1, min(len(valid), max_ptrs))]
        frame_scores = [PROMPT_SCORE] * len(track.cond) + [_score(entries[t]) for t in frames]
        if len(frame_scores) <= 1:
            return MemorySelection(spatial, pointers)
        if st is not None:
            st.count("key_reweighted_steps")
        ptr_scores = [PROMPT_SCORE] * n_cond_ptrs + [_score(entries[valid[r - 1]]) for r in range(1, len(pointers) - n_cond_ptrs + 1)]
        return MemorySelection(
            spatial, pointers, rank_weights(frame_scores, cfg.weight_low, cfg.weight_high),
            rank_weights(ptr_scores, cfg.weight_low, cfg.weight_high),
        )

    def track(self, ctx, track: ObjectTrack, frame: int, reverse: bool, feats: ImageFeatures, locked: Locked | None) -> MemoryEntry:
        """One frame of the tree search for one object; stores and returns the best pathway's output."""
        st: Sam2LongState = track.policy_state
        if not st.pathways:
            best = self._first_frame(ctx, track, frame, reverse, feats)
            lineage = next(_lineages)
            st.pathways = [Pathway(0.0, {**track.non_cond, frame: best}, lineage) for _ in range(self.config.num_pathways)]
        else:
            best = self._branch(ctx, track, frame, reverse, feats, locked, st)
        track.non_cond[frame] = best
        st.shown[frame] = best
        return best

    def _first_frame(self, ctx, track: ObjectTrack, frame: int, reverse: bool, feats: ImageFeatures) -> MemoryEntry:
        """The pass's first tracked frame: SAM 2's memory and choice (the best predicted IoU)."""
        model = ctx.model
        sel = select_memory(model, track, frame, reverse, ctx.num_frames)
        fused = condition_on_memory(model, feats, [memory_tokens(model, sel, ctx.num_frames, ctx.memory_pos(feats))], 1)
        out = run_heads(model, feats, fused, None, None, model.use_multimask(False, 0))
        return self._entry(ctx, feats, out.low_res_masks, out.high_res_masks, out.object_score_logits, out.obj_ptr,
                           float(out.ious.max()))

    def _entry(self, ctx, feats, low, high, obj_score, ptr, iou: float) -> MemoryEntry:
        # a tracked frame's memory from the mask's sigmoid; the mask is kept as predicted (no hole filling)
        maskmem, pos = encode_memory(ctx.model, feats, high, obj_score, binarize=False)
        if ctx.maskmem_pos is None:
            ctx.maskmem_pos = kept_tensor(pos)
        return MemoryEntry(
            maskmem=kept_tensor(maskmem, torch.bfloat16), pred_masks=kept_tensor(low), obj_ptr=kept_tensor(ptr),
            score=kept_tensor(obj_score), iou=iou, area=int((low > 0).sum()),
        )

    def _branch(self, ctx, track, frame, reverse, feats, locked, st: Sam2LongState) -> MemoryEntry:
        cfg = self.config
        model = ctx.model
        st.count("frames_branched")
        sels = [self._select(model, track, p.entries, frame, reverse, ctx.num_frames, locked, st) for p in st.pathways]
        first_of: dict[int, int] = {}  # lineage -> the first pathway holding it (computed once)
        for i, p in enumerate(st.pathways):
            first_of.setdefault(p.lineage, i)
        runs = sorted(set(first_of.values()))
        mems = {i: memory_tokens(model, sels[i], ctx.num_frames, ctx.memory_pos(feats)) for i in runs}
        groups: dict[tuple[int, int], list[int]] = {}
        for i in runs:
            groups.setdefault(mems[i].layout, []).append(i)
        outs: dict[int, tuple] = {}
        multimask = model.use_multimask(False, 0)
        for members in groups.values():
            fused = condition_on_memory(model, feats, [mems[i] for i in members], len(members))
            out = run_heads(model, feats, fused, None, None, multimask)
            for j, i in enumerate(members):
                outs[i] = (out, j)
        result = [outs[first_of[p.lineage]] for p in st.pathways]
        candidates = []  # (score, pathway, mask), best first; ties keep pathway then mask order
        for i, p in enumerate(st.pathways):
            out, j = result[i]
            for k in range(out.ious.shape[1]):
                candidates.append((p.score + math.log(float(out.ious[j, k]) + cfg.eps), i, k))
        candidates.sort(key=lambda c: -c[0])
        presence = [float(out.object_score_logits[j, 0]) for out, j in result]
        uncertain = max(abs(v) for v in presence) <= cfg.uncertainty
        st.count("uncertain_frames" if uncertain else "certain_frames")
        values = None
        if uncertain:  # the predicted IoU of each branch, negative where its pathway sees no object
            values = [float(result[i][0].ious[result[i][1], k]) * (1 if presence[i] > 0 else -1) for _, i, k in candidates]
        kept = keep_branches(candidates, values, min(cfg.num_pathways, len(candidates)), len(st.pathways))
        if uncertain and len({round(v, 2) for v in values}) < len(kept):
            st.count("diversity_fill")
        st.count("branches_pruned", len(candidates) - len(kept))
        made: dict[tuple[int, int], tuple[MemoryEntry, int]] = {}  # (lineage, mask) -> entry, new lineage
        new_paths: list[Pathway] = []
        for score, i, k in kept:
            parent = st.pathways[i]
            key = (parent.lineage, k)
            if key not in made:
                out, j = result[i]
                obj_score = out.object_score_logits[j : j + 1]
                tokens = out.sam_output_tokens
                ptr = model.pointer_of(tokens[j : j + 1, k], obj_score) if tokens is not None and tokens.shape[1] > 1 else out.obj_ptr[j : j + 1]
                entry = self._entry(ctx, feats, out.low_res_multimasks[j : j + 1, k : k + 1],
                                    out.high_res_multimasks[j : j + 1, k : k + 1], obj_score, ptr, float(out.ious[j, k]))
                made[key] = (entry, next(_lineages))
            entry, lineage = made[key]
            new_paths.append(Pathway(score, {**parent.entries, frame: entry}, lineage))
        step = -1 if reverse else 1
        st.pathways = new_paths
        self._forget(st, frame, step)
        return new_paths[0].entries[frame]

    def _forget(self, st: Sam2LongState, frame: int, step: int) -> None:
        """Drop settled frames further back than any memory reads (they are shown already)."""
        for p in st.pathways:
            old = [t for t in p.entries if (frame - t) * step >= LOOKBACK and t not in st.shown]
            for t in old:
                del p.entries[t]

    def revisions(self, track: ObjectTrack, final: bool) -> dict[int, MemoryEntry]:
        """Frames of this pass whose output changes: frames every pathway now shares (settled), or
        with ``final`` (the pass ended) every frame, taken from the best pathway."""
        st: Sam2LongState = track.policy_state
        if not st.pathways:
            st.shown = {}
            return {}
        out: dict[int, MemoryEntry] = {}
        for t, shown in list(st.shown.items()):
            held = {id(p.entries.get(t)) for p in st.pathways}
            if final or len(held) == 1:
                best = st.pathways[0].entries.get(t)
                if best is not None and best is not shown:
                    out[t] = best
                    st.count("final_differs_from_online")
                del st.shown[t]
        return out
