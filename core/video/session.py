"""``VideoSession``: SAM 2 video object tracking for an annotator, on long videos.

Semantics follow the official video predictor (December 2024): each object is tracked on its
own; frames with a user prompt for an object are its conditioning frames; propagation tracks
every other frame from memories. Differences are about resources only: frames are decoded
and encoded on demand (an LRU cache of image features), objects on a frame share its features
and are batched, finished masks leave as RLE, and memories no tracking step can read are
dropped (see core.video.state), so memory stays flat however long the video.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Collection, Iterator

import numpy as np
import torch
import torch.nn.functional as F

from core.sam2.model import ImageFeatures, Sam2Model
from core.types import Direction, FrameResult, FrameSource, ObjectMask, Prompt
from core.allocator import activations_on_heap
from core.cpu_threads import adaptive_enabled, shared_threads
from core.video.alternatives import alternative_masks
from core.video.features import FeatureCache
from core.video.legs import Leg, Pass, passes
from core.video.memory_policy import MemoryPolicyConfig
from core.video.policies import policy_for
from core.video.preprocess import prompt_to_points
from core.video.state import ObjectTrack, PointInputs, SpareMemories
from core.video.steps import StepContext, commit_pending, prompt_step, to_object_masks, track_frame


# frames decoded ahead of the tracker, asked for every READ_AHEAD_FRAMES frames
READ_AHEAD_FRAMES = 8

class VideoSession:
    """Interactive tracking of any number of objects in one video.

    model: a SAM 2 model (eval). frames: random access to the video's frames.
    feature_cache_frames: frames whose image features stay cached (about 16 MB each for 1024).
    keep_logits: also keep each result's (256, 256) low-resolution logits in the session.
    fill_hole_area: background holes up to this many low-resolution pixels become foreground.
    corrections_as_conditioning: a click on an already tracked frame makes it a conditioning
    frame (the official ``add_all_frames_to_correct_as_cond``; off by default as there).
    spare_memory_mb: memory features (and logits) of tracked frames kept beyond what tracking
    needs, most recent first, so that a correction click on such a frame sees the same memories
    as in the official predictor (which keeps all); 0 keeps only what tracking needs.
    adapt_threads: on the CPU, set torch's thread count between frames from how many threads
    other programs keep busy (core.cpu_threads); None: unless ``MASKLET_THREADS`` says
    otherwise. False keeps the caller's count (a batch worker given its share of the cores).
    """

    def __init__(
        self,
        model: Sam2Model,
        frames: FrameSource,
        *,
        feature_cache_frames: int = 16,
        keep_logits: bool = False,
        fill_hole_area: int = 8,
        corrections_as_conditioning: bool = False,
        spare_memory_mb: float = 32.0,
        adapt_threads: bool | None = None,
    ) -> None:
        activations_on_heap()  # core/allocator.py: clicks and frames reuse the pages of the last
        self.model = model
        adapt = adaptive_enabled() if adapt_threads is None else adapt_threads
        self._threads = shared_threads() if adapt and model.device.type == "cpu" else None
        self.frames = frames
        self.num_frames = len(frames)
        if self.num_frames < 1:
            raise ValueError("the video has no frames")
        info = frames.info
        self.video_size = (int(info.height), int(info.width))
        self.keep_logits = keep_logits
        self.corrections_as_conditioning = corrections_as_conditioning
        self._ctx = StepContext(model, self.num_frames, fill_hole_area, video_size=self.video_size)
        # The model input only reads the frame: core.frames' sources can lend it without a copy.
        self._features = FeatureCache(model, getattr(frames, "get_shared", frames.get), feature_cache_frames)
        self._tracks: dict[int, ObjectTrack] = {}
        cfg = model.config
        side = cfg.image_size // cfg.backbone_stride
        # bf16 memory features + float32 low-resolution logits of one object on one frame
        entry_bytes = 2 * model.mem_dim * side * side + 4 * (4 * side) ** 2
        self._spare = SpareMemories(int(spare_memory_mb * 2**20) // entry_bytes)
        self._results: dict[int, dict[int, ObjectMask]] = {}

    # ------------------------------------------------------------------ queries
    @property
    def object_ids(self) -> list[int]:
        return list(self._tracks)

    @property
    def encoder_runs(self) -> int:
        """How many times the image encoder ran (cache misses)."""
        return self._features.encoder_runs

    def frame_result(self, frame: int) -> FrameResult:
        """Every object's latest mask on ``frame`` (objects without one are absent)."""
        return FrameResult(frame, {o: r[frame] for o, r in self._results.items() if frame in r})

    def object_results(self, obj_id: int) -> dict[int, ObjectMask]:
        """frame -> latest mask of ``obj_id`` (a copy)."""
        return dict(self._results.get(obj_id, {}))

    def track_state(self, obj_id: int) -> ObjectTrack:
        """The object's tracking state (read it only; for diagnostics and tests)."""
        return self._tracks[obj_id]

    def has_features(self, frame: int) -> bool:
        """Whether ``frame``'s image features are cached (a prompt there needs no encoder run)."""
        return frame in self._features

    def memory_bytes(self) -> int:
        """Bytes of tracking tensors held for all objects (image features not included)."""
        return sum(t.memory_bytes() for t in self._tracks.values())

    def memory_policy(self, obj_id: int) -> MemoryPolicyConfig:
        """The object's memory policy (SAM 2's own for an object the session does not know)."""
        track = self._tracks.get(obj_id)
        return track.memory if track is not None else policy_for_default()

    def set_memory_policy(self, obj_id: int, config: MemoryPolicyConfig) -> None:
        """Track ``obj_id`` with the memory policy ``config`` (core.video.memory_policy) from now on.

        A different policy starts with a fresh state (its filter, store or pathways); the same
        one is left as it is. The object's prompts and memories so far stay.
        """
        track = self._track(obj_id, create=True)
        if track.memory != config:
            track.memory = config
            track.policy_state = policy_for(config).new_state()

    # ------------------------------------------------------------------ prompts
    def prefetch_features(self, frame: int) -> None:
        """Compute and cache the image features of ``frame`` (call when a frame is shown)."""
        self._check_frame(frame)
        self._features.get(frame)

    def add_prompt(self, prompt: Prompt, *, clear_old: bool = True) -> FrameResult:
        """Clicks and/or a box for one object on one frame; returns that object's new mask there.

        clear_old: replace the object's clicks on this frame (else the clicks are appended; a box
        always replaces). The first click on a new frame gives the best of SAM's three masks.
        """
        self._check_frame(prompt.frame)
        if prompt.is_empty:
            raise ValueError("a prompt needs at least one click or a box")
        if prompt.box is not None and not clear_old:
            raise ValueError("a box replaces the frame's clicks: use clear_old=True")
        coords, labels = prompt_to_points(
            prompt.points, prompt.labels, prompt.box, self.video_size, self.model.image_size
        )
        track = self._track(prompt.obj_id, create=True)
        frame = prompt.frame
        old = track.points.get(frame)
        if not clear_old and old is not None:
            coords = torch.cat([old.coords, coords], dim=1)
            labels = torch.cat([old.labels, labels], dim=1)
        points = PointInputs(coords, labels)
        track.points[frame] = points
        track.masks.pop(frame, None)
        return self._prompt(track, frame, points=points, mask=None, choice=prompt.choice)

    def add_mask(self, frame: int, obj_id: int, mask: np.ndarray) -> FrameResult:
        """A mask prompt (e.g. after a brush edit): (H, W) bool at video resolution."""
        self._check_frame(frame)
        mask = np.asarray(mask)
        if mask.shape != self.video_size:
            raise ValueError(f"the mask must be {self.video_size[0]}x{self.video_size[1]} (the video size), got {mask.shape}")
        size = self.model.image_size
        m = torch.from_numpy(mask.astype(bool)).float()[None, None].to(self.model.device)
        if m.shape[-2:] != (size, size):
            m = F.interpolate(m, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
            m = (m >= 0.5).float()
        track = self._track(obj_id, create=True)
        track.masks[frame] = m
        track.points.pop(frame, None)
        return self._prompt(track, frame, points=None, mask=m)

    def _prompt(self, track: ObjectTrack, frame: int, points: PointInputs | None, mask: torch.Tensor | None,
                choice: int | None = None) -> FrameResult:
        is_init_cond = frame not in track.tracked
        reverse = False if is_init_cond else track.tracked[frame]
        policy = policy_for(track.memory)
        # a policy other than SAM 2's makes a correction a conditioning frame (docs/memory_policies.md)
        is_cond = is_init_cond or self.corrections_as_conditioning or policy.corrections_as_conditioning
        prev_logits = None
        prev = None
        if points is not None:
            prev = track.latest_output(frame, is_cond)
            if prev is not None and prev.pred_masks is not None:
                prev_logits = torch.clamp(prev.pred_masks, -32.0, 32.0)
        if frame not in self._features:  # the encoder runs: heavy work
            self._adapt_threads()
        feats = self._features.get(frame)
        outs: list = []  # the heads' output when SAM 2 gives three masks (the annotator may choose another)
        entry = prompt_step(self._ctx, track, frame, feats, points, mask, is_init_cond, reverse, prev_logits, choice, outs)
        if entry.seed_box is None and points is not None and prev is not None:
            entry.seed_box = prev.seed_box  # a later click with one mask keeps the frame's first box
        (track.temp_cond if is_cond else track.temp_non_cond)[frame] = entry
        policy.on_prompt(track, frame)
        masks = to_object_masks({track.obj_id: entry}, self.video_size, self.keep_logits)
        self._results.setdefault(track.obj_id, {})[frame] = masks[track.obj_id]
        alternatives = {track.obj_id: alternative_masks(track.obj_id, outs[0], self._ctx.fill_hole_area, self.video_size)} if outs else {}
        return FrameResult(frame, masks, alternatives)

    # ------------------------------------------------------------------ propagation
    def propagate(
        self,
        start_frame: int | None = None,
        direction: Direction = Direction.BOTH,
        *,
        end_frame: int | None = None,
        obj_ids: Collection[int] | None = None,
        locked: Callable[[int, int], bool] | None = None,
        cancel: Callable[[], bool] | None = None,
        return_logits: bool = False,
    ) -> Iterator[FrameResult]:
        """Track objects through the video, yielding each finished frame.

        start_frame: default the earliest conditioning frame of the objects. direction: FORWARD
        to ``end_frame`` (default the last frame), BACKWARD to ``end_frame`` (default 0), BOTH:
        forward to the end, then backward from ``start_frame`` to 0 (nothing backward from 0).
        obj_ids: the objects to track (default every object with a prompt); others are left as
        they are. locked(obj_id, frame) -> True: that mask is neither changed nor yielded (the
        object is still tracked there, so later frames keep their memory). cancel() is checked
        before each frame. Every finished frame stays in the session, also when the generator
        is closed early. Raises ValueError at once (not on the first ``next``) for bad input.
        """
        direction = Direction(direction)
        if end_frame is not None:
            self._check_frame(end_frame)
            if direction is Direction.BOTH:
                raise ValueError("end_frame needs a direction (forward or backward), not both")
        tracks = self._selected_tracks(obj_ids)
        for track in tracks:
            commit_pending(self._ctx, track, self._features.get)
        if start_frame is None:
            start_frame = min(t for track in tracks for t in track.cond)
        self._check_frame(start_frame)
        for track in tracks:
            track.starts.append(start_frame)
        plan = passes(Leg(start_frame, direction, end_frame), self.num_frames)
        return self._run(tracks, plan, locked, cancel, return_logits or self.keep_logits)

    def _run(
        self,
        tracks: list[ObjectTrack],
        plan: tuple[Pass, ...],
        locked: Callable[[int, int], bool] | None,
        cancel: Callable[[], bool] | None,
        with_logits: bool,
    ) -> Iterator[FrameResult]:
        cfg = self.model.config
        max_ptrs = min(self.num_frames, cfg.max_obj_ptrs_in_encoder)
        for step_pass in plan:
            order, reverse = step_pass.frames(), step_pass.reverse
            if not order:  # both ways from an end frame: one way has nothing to visit
                continue
            for track in tracks:
                commit_pending(self._ctx, track, self._features.get)
                policy_for(track.memory).start_pass(track, order[0], reverse)
            for step, frame in enumerate(order):
                if cancel is not None and cancel():
                    return
                self._adapt_threads()
                if step % READ_AHEAD_FRAMES == 0:
                    self._read_ahead(order[step + 1 : step + 1 + 2 * READ_AHEAD_FRAMES])
                feats: ImageFeatures = self._features.get(frame)
                entries = {t.obj_id: t.cond[frame] for t in tracks if frame in t.cond}
                for t in tracks:
                    if frame in t.cond:
                        policy_for(t.memory).visit_conditioning(t, frame, reverse)
                to_track = [t for t in tracks if frame not in t.cond]
                if to_track:
                    entries.update(track_frame(self._ctx, to_track, frame, reverse, feats, locked))
                for track in tracks:
                    track.tracked[frame] = reverse
                    keep = policy_for(track.memory).memory_frames(
                        self.model, track, frame + (-1 if reverse else 1), reverse, self.num_frames,
                        None if locked is None else (lambda f, o=track.obj_id: locked(o, f)),
                    )
                    spare, needed = track.evict(frame, reverse, cfg.num_maskmem, max_ptrs, keep)
                    for obj_id, t in self._spare.update(track.obj_id, spare, needed):
                        self._tracks[obj_id].drop_features(t)
                shown = {
                    o: e for o, e in entries.items() if locked is None or not locked(o, frame)
                }
                masks = to_object_masks({t.obj_id: shown[t.obj_id] for t in tracks if t.obj_id in shown}, self.video_size, with_logits)
                for obj_id, m in masks.items():
                    kept = m if self.keep_logits else _without_logits(m)
                    self._results.setdefault(obj_id, {})[frame] = kept
                yield FrameResult(frame, masks)
                yield from self._revised(tracks, locked, with_logits, final=False)
            yield from self._revised(tracks, locked, with_logits, final=True)

    def _adapt_threads(self) -> None:
        if self._threads is not None:
            self._threads.update()

    def _revised(self, tracks: list[ObjectTrack], locked: Callable[[int, int], bool] | None, with_logits: bool,
                 final: bool) -> Iterator[FrameResult]:
        """Earlier frames of the pass whose output a policy replaced (SAM2Long's final pathway),
        shown again, in frame order; locked masks stay."""
        by_frame: dict[int, dict] = {}
        for track in tracks:
            for frame, entry in policy_for(track.memory).revisions(track, final).items():
                if locked is not None and locked(track.obj_id, frame):
                    continue
                if frame in track.non_cond:
                    track.non_cond[frame] = entry
                by_frame.setdefault(frame, {})[track.obj_id] = entry
        for frame in sorted(by_frame):
            masks = to_object_masks(by_frame[frame], self.video_size, with_logits)
            for obj_id, m in masks.items():
                self._results.setdefault(obj_id, {})[frame] = m if self.keep_logits else _without_logits(m)
            yield FrameResult(frame, masks)

    def _read_ahead(self, frames: range) -> None:
        """Ask the frame source to decode the coming frames on its background thread.

        Decoding overlaps with the model's work on the current frame; sources without
        read-ahead (a list of arrays in tests) are simply read on demand.
        """
        prefetch = getattr(self.frames, "prefetch", None)
        if prefetch is not None and len(frames):
            prefetch(list(frames))

    # ------------------------------------------------------------------ editing
    def remove_object(self, obj_id: int) -> None:
        """Forget an object: its prompts, memories and results (unknown ids are ignored)."""
        self._tracks.pop(obj_id, None)
        self._results.pop(obj_id, None)
        self._spare.forget_object(obj_id)

    def clear_prompts(self, frame: int, obj_id: int | None = None) -> None:
        """Remove the prompts of one object (or of every object) on ``frame``.

        A conditioning frame becomes an ordinary tracked frame (its output stays as a memory,
        as in the official predictor); a prompt never propagated disappears with its mask.
        """
        self._check_frame(frame)
        ids = self.object_ids if obj_id is None else [obj_id]
        for oid in ids:
            track = self._tracks.get(oid)
            if track is None:
                continue
            track.points.pop(frame, None)
            track.masks.pop(frame, None)
            pending = track.temp_cond.pop(frame, None) or track.temp_non_cond.pop(frame, None)
            out = track.cond.pop(frame, None)
            if out is not None:
                track.non_cond[frame] = out
                track.tracked.pop(frame, None)
            if pending is not None and out is None and frame not in track.non_cond:
                self._results.get(oid, {}).pop(frame, None)

    def checkpoint(self) -> "EngineCheckpoint":
        """The whole tracking state as it is now (prompts, memories, results), to return to with
        :meth:`restore`. Cheap: tensors are shared, only the records holding them are copied."""
        return EngineCheckpoint(
            {o: t.copy() for o, t in self._tracks.items()}, self._spare.copy(),
            {o: dict(r) for o, r in self._results.items()},
        )

    def restore(self, checkpoint: "EngineCheckpoint") -> None:
        """Return to a state taken by :meth:`checkpoint` (which stays usable for another restore)."""
        self._tracks = {o: t.copy() for o, t in checkpoint.tracks.items()}
        self._spare = checkpoint.spare.copy()
        self._results = {o: dict(r) for o, r in checkpoint.results.items()}

    def reset(self) -> None:
        """Forget every object (cached image features stay: the video is the same)."""
        self._tracks.clear()
        self._results.clear()
        self._spare.clear()

    # ------------------------------------------------------------------ helpers
    def _check_frame(self, frame: int) -> None:
        if not isinstance(frame, (int, np.integer)) or not 0 <= frame < self.num_frames:
            raise ValueError(f"frame {frame} is outside the video (0 to {self.num_frames - 1})")

    def _track(self, obj_id: int, create: bool) -> ObjectTrack:
        track = self._tracks.get(obj_id)
        if track is None:
            if not create:
                raise ValueError(f"no object {obj_id} in this session")
            track = self._tracks[obj_id] = ObjectTrack(int(obj_id))
        return track

    def _selected_tracks(self, obj_ids: Collection[int] | None) -> list[ObjectTrack]:
        def prompted(t: ObjectTrack) -> bool:
            return bool(t.cond or t.temp_cond)

        if obj_ids is None:
            tracks = [t for t in self._tracks.values() if prompted(t)]
            if not tracks:
                raise ValueError("no object has a prompt yet: click on an object first")
            return tracks
        tracks = []
        for oid in obj_ids:
            track = self._tracks.get(oid)
            if track is None or not prompted(track):
                raise ValueError(f"object {oid} has no prompt to propagate from")
            tracks.append(track)
        return tracks


@dataclass(frozen=True)
class EngineCheckpoint:
    """A VideoSession's tracking state at one moment (see :meth:`VideoSession.checkpoint`)."""

    tracks: dict[int, ObjectTrack]
    spare: SpareMemories
    results: dict[int, dict[int, ObjectMask]]


def policy_for_default() -> MemoryPolicyConfig:
    from core.video.memory_policy import parse_policy

    return parse_policy(None)


def _without_logits(m: ObjectMask) -> ObjectMask:
    if m.low_res_logits is None:
        return m
    return ObjectMask(m.obj_id, m.rle, m.object_score, m.iou, None)
