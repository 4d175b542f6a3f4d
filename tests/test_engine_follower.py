"""EngineFollower: the engine ends where a fresh session replaying the document's log would be.

Engine level, no Qt: a log is a list of inputs; undo pops its last input, redo pushes it back.
After any history, every result the live engine gave for an input still in the log equals what
a fresh session gives when it replays the log in order, pixel for pixel.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from core.masks import encode
from core.types import Direction, Prompt
from core.video import (
    ClearInput, EngineFollower, Leg, MaskInput, legs_for, PromptInput, RemoveInput, TrackInput, VideoSession,
)
from tests.video_helpers import click, moving_square_video, one_thread, small_model

N = 8
_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


@pytest.fixture(scope="module")
def video():
    return moving_square_video(N)


def fresh(video, warm: VideoSession | None = None, max_checkpoints: int = 16) -> EngineFollower:
    """A new engine; ``warm`` lends its cached image features (a pure function of the frame)."""
    session = VideoSession(small_model(64), video, feature_cache_frames=N)
    if warm is not None:
        session._features = warm._features
    return EngineFollower(session, max_checkpoints)


def rles(result) -> dict[int, bytes]:
    return {o: m.rle.counts for o, m in result.objects.items()}


def extend(prompt: Prompt | None, obj_id: int, frame: int, x: float, y: float, positive: bool) -> Prompt:
    base = prompt or Prompt(frame, obj_id)
    points = np.concatenate([base.points, np.array([[x, y]], np.float32)])
    labels = np.concatenate([base.labels, np.array([1 if positive else 0], np.int32)])
    return Prompt(frame, obj_id, points.astype(np.float32), labels.astype(np.int32), base.box)


def test_an_undone_click_is_not_fed_back_to_sam2(video) -> None:
    """Click A, click B, undo, click C equals a fresh session given A then C (the issue's case)."""
    a = PromptInput(click(0, 1, 20, 24))
    b = PromptInput(extend(a.prompt, 1, 0, 40, 30, True))
    c = PromptInput(extend(a.prompt, 1, 0, 12, 20, False))
    live = fresh(video)
    live.prompt([], a)
    live.prompt([a], b)
    after_undo = live.prompt([a], c)  # the document holds A only, then C

    reference = fresh(video, live.engine)
    reference.prompt([], a)
    assert rles(after_undo) == rles(reference.prompt([a], c))
    assert live.applied == (a, c)

    # The engine alone, without following the document, feeds B's output back (the old bug):
    naive = VideoSession(small_model(64), video)
    for item in (a, b, c):
        last = naive.add_prompt(item.prompt)
    assert rles(last) != rles(after_undo)


def test_undoing_a_run_takes_its_memories_back_out(video) -> None:
    a = PromptInput(click(2, 1, 20, 24))
    live = fresh(video)
    live.prompt([], a)
    before = live.engine.checkpoint().tracks[1]
    run = live.track([a], TrackInput((Leg(2, Direction.FORWARD),), (1,)), lambda: False, lambda r: None)
    assert run.frames_done == (N - 2,) and live.engine.track_state(1).non_cond
    live.follow([a])  # the run was undone
    after = live.engine.track_state(1)
    assert after.non_cond.keys() == before.non_cond.keys() and after.tracked == before.tracked
    assert after.cond.keys() == before.cond.keys() and list(after.starts) == list(before.starts)
    assert live.applied == (a,)


def test_a_cancelled_run_replays_to_where_it_stopped(video) -> None:
    a = PromptInput(click(3, 1, 20, 24))
    live = fresh(video)
    live.prompt([], a)
    seen: list[int] = []
    run = live.track([a], TrackInput((Leg(3, Direction.BOTH),), (1,)), lambda: len(seen) >= 6,
                     lambda r: seen.append(r.frame))
    assert run.frames_done == (6,) and seen == [3, 4, 5, 6, 7, 3]
    probe = PromptInput(click(2, 1, 10, 10))
    got = live.prompt([a, run], probe)
    reference = fresh(video, live.engine)
    reference.follow([a, run])
    assert rles(reference.prompt([a, run], probe)) == rles(got)


def test_old_inputs_beyond_the_kept_checkpoints_are_replayed(video) -> None:
    items = [PromptInput(click(f, 1, 20 + f, 24)) for f in range(4)]
    live = fresh(video, max_checkpoints=1)
    for i, item in enumerate(items):
        live.prompt(items[:i], item)
    live.follow(items[:1])  # three undos: only the empty state is old enough
    assert live.applied == tuple(items[:1]) and live.replayed == 1
    assert live.engine.track_state(1).points.keys() == {0}


def test_an_input_that_fails_leaves_the_engine_as_it_was(video) -> None:
    a = PromptInput(click(0, 1, 20, 24))
    live = fresh(video)
    live.prompt([], a)
    with pytest.raises(ValueError):
        live.prompt([a], PromptInput(click(N + 5, 1, 1, 1)))
    assert live.applied == (a,)
    assert live.engine.track_state(1).points.keys() == {0}


# ---------------------------------------------------------------------------- histories
def random_history(seed: int, video, steps: int = 9):
    """Live engine through random inputs, undos and redos; returns (follower, log, outputs)."""
    rng = random.Random(seed)
    live = fresh(video)
    log: list = []
    redo: list = []
    outputs: dict[int, list[dict[int, bytes]]] = {}  # id(input) -> frames' masks it produced

    def prompt_on(obj_id: int, frame: int) -> Prompt | None:
        for item in reversed(log):
            if isinstance(item, RemoveInput) and item.obj_id == obj_id:
                return None
            if getattr(item, "obj_id", None) == obj_id and getattr(item, "frame", None) == frame:
                return item.prompt if isinstance(item, PromptInput) else None
        return None

    for _ in range(steps):
        kind = rng.choice(["click", "click", "box", "mask", "clear", "remove", "track", "track", "undo", "redo"])
        obj_id, frame = rng.choice([1, 2]), rng.randrange(N)
        item = None
        if kind == "undo" and log:
            redo.append(log.pop())
        elif kind == "redo" and redo:
            log.append(redo.pop())
        elif kind in ("click", "box"):
            base = prompt_on(obj_id, frame)
            if kind == "click":
                p = extend(base, obj_id, frame, rng.uniform(4, 60), rng.uniform(4, 44), rng.random() < 0.8)
            else:
                x0, y0 = rng.uniform(0, 30), rng.uniform(0, 20)
                p = Prompt(frame, obj_id, (base or Prompt(frame, obj_id)).points,
                           (base or Prompt(frame, obj_id)).labels,
                           np.array([x0, y0, x0 + rng.uniform(8, 30), y0 + rng.uniform(8, 24)], np.float32))
            item = PromptInput(p)
            outputs[id(item)] = [rles(live.prompt(log, item))]
        elif kind == "mask":
            m = np.zeros((48, 64), bool)
            y, x = rng.randrange(30), rng.randrange(40)
            m[y:y + 14, x:x + 20] = True
            item = MaskInput(obj_id, frame, encode(m))
            outputs[id(item)] = [rles(live.prompt(log, item))]
        elif kind == "clear":
            item = ClearInput(obj_id, frame)
            live.follow(log + [item])
        elif kind == "remove":
            item = RemoveInput(obj_id)
            live.follow(log + [item])
        elif kind == "track":
            live.follow(log)
            tracks = live.engine._tracks
            ids = tuple(o for o in (1, 2) if o in tracks and (tracks[o].cond or tracks[o].temp_cond))
            if not ids:
                continue
            direction = rng.choice(list(Direction))
            if rng.random() < 0.3:
                legs = legs_for(direction, (rng.randrange(N), rng.randrange(N)), frame)
            else:
                end = None
                if direction is not Direction.BOTH and rng.random() < 0.5:
                    end = rng.randrange(frame, N) if direction is Direction.FORWARD else rng.randrange(frame + 1)
                legs = (Leg(frame, direction, end),)
            limit = rng.choice([None, rng.randrange(1, N)])
            frames: list[dict[int, bytes]] = []
            locked = frozenset((o, f) for o in ids for f in range(N) if rng.random() < 0.1)
            run = live.track(log, TrackInput(legs, ids, locked),
                             lambda: limit is not None and len(frames) >= limit, lambda r: frames.append(rles(r)))
            item = run
            outputs[id(item)] = frames
        if item is not None:
            log.append(item)
            redo.clear()
    return live, log, outputs


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(4))
def test_random_histories_equal_a_fresh_replay(batch: int, video) -> None:
    """40 histories in 4 batches."""
    for seed in range(10 * batch, 10 * (batch + 1)):
        check_history(seed, video)


def check_history(seed: int, video) -> None:
    live, log, outputs = random_history(seed, video)
    reference = fresh(video, live.engine)
    for i, item in enumerate(log):
        reference.follow(log[:i])
        if isinstance(item, (PromptInput, MaskInput)):
            assert [rles(reference.prompt(log[:i], item))] == outputs[id(item)], f"input {i}: {item}"
        elif isinstance(item, TrackInput):
            frames: list = []
            reference._apply(item, None, lambda r: frames.append(rles(r)))
            assert frames == outputs[id(item)], f"run {i}"
        else:
            reference.follow(log[: i + 1])
    # and the state left behind tracks the same: propagate everything that has a prompt
    live.follow(log)
    probe = []
    for follower in (live, reference):
        tracks = follower.engine._tracks
        ids = tuple(o for o in tracks if tracks[o].cond or tracks[o].temp_cond)
        frames: list = []
        if ids:
            follower.track(log, TrackInput((Leg(0, Direction.FORWARD),), ids), lambda: False,
                           lambda r: frames.append(rles(r)))
        probe.append(frames)
    assert probe[0] == probe[1]
