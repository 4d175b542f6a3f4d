"""SAM 2's alternatives without Qt: a single click comes back with its three masks, a prompt that
says which one gives exactly that mask, and an engine following a log whose click was given again
with a choice ends where a fresh session given that choice does (masks and tracking alike).
Also the track fixes' engine inputs: after a split, the engine tracks the new object from its mask."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from annotator.document import AnnotationDocument, MaskSource, ObjectRecord, VideoRef
from annotator.results import entry_for
from annotator.track_ops import apply_edit, split
from core.types import Direction
from core.video import EngineFollower, PromptInput, TrackInput, VideoSession, legs_for
from tests.sam2_helpers import random_model, tiny_test_config
from tests.video_helpers import click, moving_square_video, one_thread

N = 6
_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


_MODEL = []


@pytest.fixture(scope="module")
def video():
    return moving_square_video(N)


def present_model():
    """A random tiny model whose object-score head says "present" (random weights alone give empty masks)."""
    if not _MODEL:
        model = random_model(tiny_test_config(64), seed=1)
        head = model.sam_mask_decoder.pred_obj_score_head
        last = head.layers[-1] if hasattr(head, "layers") else head
        with torch.no_grad():
            last.bias.fill_(6.0)
        _MODEL.append(model)
    return _MODEL[0]


def session(video) -> VideoSession:
    return VideoSession(present_model(), video, feature_cache_frames=N)


def test_a_click_comes_back_with_its_three_masks_and_a_choice_gives_one_of_them(video) -> None:
    first = session(video).add_prompt(click(0, 1, 20, 24))
    masks = first.alternatives[1]
    assert len(masks) == 3 and all(m.rle.area > 0 for m in masks)
    assert len({m.rle.counts for m in masks}) > 1  # three different masks to choose from
    best = max(range(3), key=lambda k: masks[k].iou)
    assert first.objects[1].rle.counts == masks[best].rle.counts and first.objects[1].iou == masks[best].iou
    for k in range(3):
        chosen = session(video).add_prompt(replace(click(0, 1, 20, 24), choice=k))
        assert chosen.objects[1].rle.counts == masks[k].rle.counts and chosen.objects[1].iou == pytest.approx(masks[k].iou)
    two_clicks = click(0, 1, 20, 24)
    two_clicks = replace(two_clicks, points=np.concatenate([two_clicks.points, [[40, 30]]]).astype(np.float32),
                         labels=np.array([1, 0], np.int32))
    assert session(video).add_prompt(two_clicks).alternatives == {}  # SAM 2 gives one mask for two clicks


def test_the_engine_follows_a_click_given_again_with_a_choice(video) -> None:
    a = PromptInput(click(0, 1, 20, 24))
    live = EngineFollower(session(video))
    live.prompt([], a)
    chosen = PromptInput(replace(a.prompt, choice=2))  # the alternative replaces the click in the log
    run = TrackInput(legs_for(Direction.FORWARD, None, 0), (1,))
    frames_live: dict[int, bytes] = {}
    done = live.track([chosen], run, lambda: False, lambda r: frames_live.update({r.frame: r.objects[1].rle.counts}))
    reference = EngineFollower(session(video))
    frames_ref: dict[int, bytes] = {}
    reference.prompt([], chosen)
    reference.track([chosen], run, lambda: False, lambda r: frames_ref.update({r.frame: r.objects[1].rle.counts}))
    assert frames_live == frames_ref and len(frames_live) == N
    assert live.engine.object_results(1)[0].rle.counts == reference.engine.object_results(1)[0].rle.counts
    assert done.frames_done == (N,)


def test_after_a_split_the_engine_tracks_the_new_object_from_its_mask(video) -> None:
    follower = EngineFollower(session(video))
    doc = AnnotationDocument(VideoRef("v", 64, 48, N, 10.0))
    doc.put_object(ObjectRecord(1, "a"))
    prompt = PromptInput(click(0, 1, 20, 24))
    doc.set_prompt(1, 0, prompt.prompt)
    doc.set_mask(1, 0, entry_for(follower.prompt([], prompt).objects[1], prompted=True))
    doc.inputs.append(prompt)
    run = TrackInput(legs_for(Direction.FORWARD, None, 0), (1,))
    doc.inputs.append(follower.track(doc.inputs, run, lambda: False,
                                     lambda r: doc.set_mask(1, r.frame, entry_for(r.objects[1], prompted=False))))
    edit = split(doc, 1, 3)
    apply_edit(doc, edit)
    assert doc.masks[2][3].source is MaskSource.PROPAGATED
    follower.follow(doc.inputs)
    assert sorted(follower.engine.object_ids) == [1, 2]
    again = TrackInput(legs_for(Direction.FORWARD, None, 3), (2,))
    seen: list[int] = []
    follower.track(doc.inputs, again, lambda: False, lambda r: seen.append(r.frame))
    assert seen == list(range(3, N))
