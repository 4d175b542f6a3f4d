"""Random annotation histories through the real session (SessionController on an inline worker and
the small random SAM 2), and their replay in a fresh session: the tools of the history tests.

An operation is a plain record replayed through the same public calls the window makes. The
history of a session is its operations that pushed an undo step, in undo-stack order; what
survives is that list up to the stack's index (undone steps are gone, redone ones back).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from annotator.model_loading import LoadedModel
from annotator.session_controller import SessionController
from annotator.worker import InlineWorker
from core.checkpoints.runtime import ModelSelection
from core.types import Direction
from core.video.follower import EngineFollower
from core.video.session import VideoSession
from tests.video_helpers import moving_square_video, small_model

N = 6  # frames
H, W = 48, 64
VIDEO = moving_square_video(N, H, W)
_FEATURES: dict[str, object] = {}


def engine(model, frames, cache_frames) -> VideoSession:
    """The app's engine (corrections become conditioning frames), sharing one feature cache
    between sessions: image features are a pure function of the frame, and encoding each
    frame once keeps hundreds of histories fast."""
    session = VideoSession(model, frames, feature_cache_frames=N, corrections_as_conditioning=True)
    if "cache" not in _FEATURES:
        _FEATURES["cache"] = session._features
    session._features = _FEATURES["cache"]
    return session


def new_session(video_path: str = "square.mp4") -> SessionController:
    worker = InlineWorker(loader=lambda sel: LoadedModel(small_model(64), "cpu"), factory=engine,
                          opener=lambda path, mb: VIDEO)
    s = SessionController(worker, frame_opener=lambda path, mb: VIDEO, fingerprinter=lambda path: "fp")
    s.model_status.load(ModelSelection(Path("small.pt")))
    s.open_video(video_path)
    return s


@dataclass(frozen=True)
class Op:
    """kind: new_object, click, box, stroke, clear, delete, lock, propagate, undo, redo.
    args: what the kind needs (see :func:`apply`)."""

    kind: str
    obj: int = 0
    frame: int = 0
    args: tuple = ()


def apply(s: SessionController, op: Op) -> None:
    """Carry out one operation as the window would."""
    if op.kind == "undo":
        s.undo()
        return
    if op.kind == "redo":
        s.redo()
        return
    if op.kind == "new_object":
        s.add_object()
        return
    if not s.doc.has_object(op.obj):
        return
    s.select_object(op.obj)
    s.set_frame(op.frame)
    if op.kind == "click":
        x, y, positive = op.args
        s.prompts.click(x, y, positive)
    elif op.kind == "box":
        s.prompts.box(*op.args)
    elif op.kind == "stroke":
        y0, x0, h, w, erase = op.args
        before = s.doc.mask_array(op.obj, op.frame)
        before = np.zeros((H, W), bool) if before is None else before
        after = before.copy()
        after[y0:y0 + h, x0:x0 + w] = not erase
        s.prompts.stroke(op.obj, op.frame, before, after, erase)
    elif op.kind == "clear":
        s.prompts.clear_frame(op.obj, op.frame)
    elif op.kind == "delete":
        s.remove_object(op.obj)
    elif op.kind == "lock":
        s.set_locked(op.obj, [op.frame], op.args[0])
    elif op.kind == "propagate":
        direction, frame_range, all_objects, stop_after = op.args
        seen: list[int] = []

        def count(frame: int) -> None:
            seen.append(frame)
            if stop_after is not None and len(seen) >= stop_after:
                s.runs.cancel()  # as Esc: the engine stops before its next frame

        s.runs.frameDone.connect(count)
        try:
            s.runs.propagate(Direction(direction), None if all_objects else [op.obj], frame_range)
        finally:
            s.runs.frameDone.disconnect(count)


def random_op(rng: random.Random, s: SessionController) -> Op:
    objects = sorted(s.doc.document.objects)
    if not objects or rng.random() < 0.08:
        return Op("new_object")
    obj, frame = rng.choice(objects), rng.randrange(N)
    kind = rng.choices(
        ["click", "box", "stroke", "clear", "delete", "lock", "propagate", "undo", "redo"],
        [6, 2, 2, 1, 1, 1, 4, 4, 2])[0]
    if kind == "click":
        return Op(kind, obj, frame, (rng.uniform(2, W - 2), rng.uniform(2, H - 2), rng.random() < 0.75))
    if kind == "box":
        x0, y0 = rng.uniform(0, W / 2), rng.uniform(0, H / 2)
        return Op(kind, obj, frame, (x0, y0, x0 + rng.uniform(6, W / 2), y0 + rng.uniform(6, H / 2)))
    if kind == "stroke":
        return Op(kind, obj, frame, (rng.randrange(H - 8), rng.randrange(W - 8), rng.randrange(2, 12),
                                     rng.randrange(2, 16), rng.random() < 0.3))
    if kind == "lock":
        return Op(kind, obj, frame, (rng.random() < 0.7,))
    if kind == "propagate":
        direction = rng.choice(["forward", "backward", "both"])
        frame_range = (rng.randrange(N), rng.randrange(N)) if rng.random() < 0.3 else None
        stop_after = rng.randrange(1, N) if rng.random() < 0.3 else None
        return Op(kind, obj, frame, (direction, frame_range, rng.random() < 0.6, stop_after))
    return Op(kind, obj, frame)


def run_history(seed: int, steps: int = 10) -> tuple[SessionController, list[Op]]:
    """A session after ``steps`` random operations; returns it with its surviving operations."""
    rng = random.Random(seed)
    s = new_session()
    history: list[Op] = []  # the operation behind each undo step, in stack order
    for _ in range(steps):
        op = random_op(rng, s)
        before = s.undo_stack.index()
        apply(s, op)
        after = s.undo_stack.index()
        if op.kind not in ("undo", "redo") and after == before + 1:
            del history[before:]
            history.append(op)
        assert after <= before + 1  # every operation is at most one undo step
    return s, history[: s.undo_stack.index()]


def replay(ops: list[Op]) -> SessionController:
    s = new_session()
    for op in ops:
        apply(s, op)
    return s


def masks(s: SessionController) -> dict[tuple[int, int], tuple]:
    """Every mask the document holds, with where it came from."""
    return {(o, f): (e.rle.counts, e.source, e.locked) for o, f, e in s.doc.document.iter_masks()}


def probe(s: SessionController) -> dict[tuple[int, int], bytes]:
    """What the engine's state tracks from here: every object propagated over the whole video
    (on the side: the engine returns to its state afterwards)."""
    follower: EngineFollower = s.worker.worker.service.follower
    follower.follow(s.prompts.log())
    engine = follower.engine
    state = engine.checkpoint()
    ids = tuple(o for o in sorted(engine._tracks) if engine._tracks[o].cond or engine._tracks[o].temp_cond)
    out: dict[tuple[int, int], bytes] = {}
    if ids:
        for result in engine.propagate(0, Direction.FORWARD, obj_ids=list(ids)):
            out.update({(o, result.frame): m.rle.counts for o, m in result.objects.items()})
    engine.restore(state)
    return out
