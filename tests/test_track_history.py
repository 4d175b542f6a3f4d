"""Random histories with the issue-17 operations (merge, split, swap, SAM 2's alternatives) mixed
with clicks, strokes, runs, undo and redo, through the real session on an inline worker: the masks
equal a fresh session replaying only the surviving operations, and so does what the engine tracks
next (the engine holds what the document holds)."""

from __future__ import annotations

import random

import pytest

from annotator.alternatives import AlternativeCommand
from annotator.session_controller import SessionController
from tests.session_history import N, Op, apply, masks, new_session, probe, random_op


def apply17(s: SessionController, op: Op) -> None:
    if op.kind in ("merge", "split", "swap", "choose") and not s.doc.has_object(op.obj):
        return
    if op.kind == "merge":
        other, prefer_other = op.args
        if s.doc.has_object(other):
            s.tracks.merge(op.obj, other, other if prefer_other else op.obj)
    elif op.kind == "split":
        s.tracks.split(op.obj, op.frame)
    elif op.kind == "swap":
        if s.doc.has_object(op.args[0]):
            s.tracks.swap(op.obj, op.args[0], op.frame)
    elif op.kind == "choose":
        s.alternatives.choose(op.args[0])
    else:
        apply(s, op)


def random_op17(rng: random.Random, s: SessionController) -> Op:
    objects = sorted(s.doc.document.objects)
    roll = rng.random()
    if len(objects) >= 2 and roll < 0.25:
        a, b = rng.sample(objects, 2)
        kind = rng.choice(["merge", "swap"])
        return Op(kind, a, rng.randrange(N), (b, rng.random() < 0.5) if kind == "merge" else (b,))
    if objects and roll < 0.35:
        return Op("split", rng.choice(objects), rng.randrange(1, N))
    if roll < 0.5 and s.alternatives.available() is not None:
        return Op("choose", s.alternatives.available().click.obj_id, 0, (rng.randrange(3),))
    return random_op(rng, s)


def run_history17(seed: int, steps: int) -> tuple[SessionController, list[Op]]:
    rng = random.Random(seed)
    s = new_session()
    history: list[Op] = []
    for _ in range(steps):
        op = random_op17(rng, s)
        before = s.undo_stack.index()
        apply17(s, op)
        after = s.undo_stack.index()
        if op.kind not in ("undo", "redo") and after == before + 1:
            del history[before:]
            history.append(op)
        elif op.kind == "choose" and after == before and after > 0 and isinstance(
                s.undo_stack.command(after - 1), AlternativeCommand):
            history[after - 1] = op  # merged into the last choice: the newest one stands for both
        assert after <= before + 1
    return s, history[: s.undo_stack.index()]


def check(seed: int, steps: int) -> None:
    s, ops = run_history17(seed, steps)
    fresh = new_session()
    for op in ops:
        apply17(fresh, op)
    assert masks(s) == masks(fresh), (seed, ops)
    assert probe(s) == probe(fresh), (seed, ops)
    assert s.worker.worker.service.follower.applied == tuple(s.doc.document.inputs)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3))
def test_histories_with_track_fixes_and_alternatives(seed: int) -> None:
    check(1700 + seed, 12)


@pytest.mark.slow
def test_more_histories_with_track_fixes_and_alternatives() -> None:
    for seed in range(10):  # each history replays through the real engine (~25 s each here)
        check(1800 + seed, 16)
