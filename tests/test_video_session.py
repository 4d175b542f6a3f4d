"""VideoSession operations on a small random model: prompts, propagation, cancel, locks, edits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from core.types import Direction, Prompt
from core.video import VideoSession
from tests.video_helpers import ListFrames, box, click, moving_square_video, one_thread, small_model

N = 12

_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


@pytest.fixture
def session() -> VideoSession:
    return VideoSession(small_model(64), moving_square_video(N))


def masks_of(results, obj_id):
    return {r.frame: r.objects[obj_id] for r in results if obj_id in r.objects}


def test_first_click_gives_a_video_sized_mask(session: VideoSession) -> None:
    res = session.add_prompt(click(0, 1, 20, 24))
    assert res.frame == 0 and list(res.objects) == [1]
    m = res.objects[1]
    assert (m.rle.height, m.rle.width) == (48, 64)
    assert m.low_res_logits is None
    assert session.object_ids == [1]
    assert session.frame_result(0).objects[1] == m


def test_propagate_forward_yields_every_frame_in_order_and_keeps_results(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    session.add_prompt(box(0, 2, 8, 16, 30, 34))
    results = list(session.propagate(direction=Direction.FORWARD, return_logits=True))
    assert [r.frame for r in results] == list(range(N))
    for r in results:
        assert set(r.objects) == {1, 2}
        assert r.objects[1].low_res_logits.shape == (16, 16)  # 64 / 4
        assert session.frame_result(r.frame).objects[1].rle == r.objects[1].rle
    # logits are not kept in the session unless asked (keep_logits)
    assert session.frame_result(5).objects[1].low_res_logits is None


@pytest.mark.slow
def test_batched_objects_equal_objects_tracked_alone() -> None:
    model = small_model(64)
    together = VideoSession(model, moving_square_video(N))
    alone = VideoSession(model, moving_square_video(N))
    prompts = [click(0, 1, 20, 24), box(0, 2, 8, 16, 30, 34)]
    for p in prompts:
        together.add_prompt(p)
        alone.add_prompt(p)
    both = list(together.propagate(direction=Direction.FORWARD, return_logits=True))
    for obj_id in (1, 2):
        single = list(alone.propagate(direction=Direction.FORWARD, obj_ids=[obj_id], return_logits=True))
        assert all(set(r.objects) == {obj_id} for r in single)
        for a, b in zip(both, single):
            np.testing.assert_allclose(a.objects[obj_id].low_res_logits, b.objects[obj_id].low_res_logits, atol=1e-4)


def test_both_directions_from_a_later_frame(session: VideoSession) -> None:
    session.add_prompt(click(5, 1, 20, 24))
    frames = [r.frame for r in session.propagate(direction=Direction.BOTH)]
    assert frames == list(range(5, N)) + list(range(5, -1, -1))
    assert set(session.object_results(1)) == set(range(N))


@pytest.mark.parametrize("start", [0, N - 1])
def test_both_directions_from_an_end_frame(session: VideoSession, start: int) -> None:
    # one of the two passes has no frame to visit: the run is the other pass alone
    session.add_prompt(click(start, 1, 20, 24))
    frames = {r.frame for r in session.propagate(start_frame=start, direction=Direction.BOTH)}
    assert frames == set(range(N))
    assert set(session.object_results(1)) == set(range(N))


def test_backward_propagation(session: VideoSession) -> None:
    session.add_prompt(click(N - 1, 3, 40, 24))
    frames = [r.frame for r in session.propagate(start_frame=N - 1, direction=Direction.BACKWARD)]
    assert frames == list(range(N - 1, -1, -1))
    assert session.track_state(3).tracked[0] is True  # tracked in reverse


@pytest.mark.slow
def test_object_added_mid_video(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    list(session.propagate(direction=Direction.FORWARD))
    before = session.object_results(1)
    session.add_prompt(click(6, 2, 40, 24))
    out = list(session.propagate(start_frame=6, direction=Direction.BOTH, obj_ids=[2]))
    assert [r.frame for r in out] == list(range(6, N)) + list(range(6, -1, -1))
    assert all(set(r.objects) == {2} for r in out)
    assert session.object_results(1) == before
    assert set(session.object_results(2)) == set(range(N))
    # default start: the earliest prompted frame over all objects
    frames = [r.frame for r in session.propagate(direction=Direction.FORWARD)]
    assert frames == list(range(N))


def test_cancel_keeps_finished_frames(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    done: list[int] = []
    for r in session.propagate(direction=Direction.FORWARD, cancel=lambda: len(done) >= 4):
        done.append(r.frame)
    assert done == [0, 1, 2, 3]
    assert set(session.object_results(1)) == {0, 1, 2, 3}


def test_closing_the_generator_keeps_finished_frames(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    gen = session.propagate(direction=Direction.FORWARD)
    for _ in range(3):
        next(gen)
    gen.close()
    assert set(session.object_results(1)) == {0, 1, 2}
    # tracking can go on from there
    assert [r.frame for r in session.propagate(start_frame=3, direction=Direction.FORWARD)] == list(range(3, N))


def test_locked_frames_are_neither_changed_nor_yielded(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    session.add_prompt(click(0, 2, 40, 24))
    list(session.propagate(direction=Direction.FORWARD))
    before = session.object_results(1)
    # a new prompt changes object 1 everywhere except where it is locked
    session.add_prompt(Prompt(0, 1, np.array([[20, 24], [50, 40]], np.float32), np.array([1, 0], np.int32)))
    locked = {(1, 4), (1, 5), (1, 6)}
    results = list(session.propagate(direction=Direction.FORWARD, locked=lambda o, f: (o, f) in locked))
    for r in results:
        assert (1 in r.objects) == ((1, r.frame) not in locked)
        assert 2 in r.objects
    after = session.object_results(1)
    for _, f in locked:
        assert after[f] is before[f]


def test_remove_object(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    session.add_prompt(click(0, 2, 40, 24))
    session.remove_object(1)
    session.remove_object(99)  # unknown: ignored
    assert session.object_ids == [2]
    assert session.object_results(1) == {}
    assert all(set(r.objects) == {2} for r in session.propagate(direction=Direction.FORWARD))


@pytest.mark.slow
def test_clear_prompts(session: VideoSession) -> None:
    session.add_prompt(click(3, 1, 20, 24))
    session.clear_prompts(3, 1)
    assert session.object_results(1) == {}
    with pytest.raises(ValueError, match="no object has a prompt"):
        session.propagate()
    # a propagated conditioning frame becomes an ordinary tracked frame
    session.add_prompt(click(0, 1, 20, 24))
    session.add_prompt(click(4, 1, 30, 24))
    list(session.propagate(direction=Direction.FORWARD))
    session.clear_prompts(4)
    track = session.track_state(1)
    assert 4 not in track.cond and 4 in track.non_cond and 4 not in track.points
    assert 4 in session.object_results(1)


def test_reset_keeps_features_but_forgets_objects(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    runs = session.encoder_runs
    session.reset()
    assert session.object_ids == [] and session.frame_result(0).objects == {}
    session.add_prompt(click(0, 1, 20, 24))
    assert session.encoder_runs == runs


def test_mask_prompt_is_taken_as_the_output(session: VideoSession) -> None:
    mask = np.zeros((48, 64), bool)
    mask[10:30, 20:44] = True
    res = session.add_mask(2, 7, mask)
    got = res.objects[7].rle.decode()
    iou = (got & mask).sum() / (got | mask).sum()
    assert iou > 0.9
    assert res.objects[7].object_score == pytest.approx(10.0) and res.objects[7].iou == 1.0
    empty = session.add_mask(3, 8, np.zeros((48, 64), bool))
    assert empty.objects[8].object_score == pytest.approx(-10.0) and not empty.objects[8].present
    frames = [r.frame for r in session.propagate(direction=Direction.FORWARD, obj_ids=[7])]
    assert frames == list(range(2, N))
    # the mask frame's own result is the given mask
    assert session.frame_result(2).objects[7].rle == res.objects[7].rle


def test_feature_cache_avoids_the_encoder() -> None:
    frames = moving_square_video(N)
    session = VideoSession(small_model(64), frames, feature_cache_frames=4)
    session.prefetch_features(5)
    assert session.encoder_runs == 1
    session.add_prompt(click(5, 1, 20, 24))
    session.add_prompt(click(5, 1, 30, 24, positive=False), clear_old=False)
    session.add_prompt(click(5, 2, 40, 24))
    assert session.encoder_runs == 1
    list(session.propagate(start_frame=5, direction=Direction.FORWARD))
    assert session.encoder_runs == N - 5  # frame 5 cached, 6..11 encoded once each
    session.add_prompt(click(N - 1, 1, 20, 24))  # recent: cached
    assert session.encoder_runs == N - 5
    session.add_prompt(click(0, 3, 20, 24))  # never seen
    assert session.encoder_runs == N - 4


@pytest.mark.slow
def test_correction_click_on_a_tracked_frame_is_not_conditioning(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    list(session.propagate(direction=Direction.FORWARD))
    session.add_prompt(click(6, 1, 30, 30, positive=False))
    track = session.track_state(1)
    assert 6 in track.temp_non_cond and 6 not in track.temp_cond
    list(session.propagate(direction=Direction.FORWARD))
    assert list(track.cond) == [0]

    fixed = VideoSession(small_model(64), moving_square_video(N), corrections_as_conditioning=True)
    fixed.add_prompt(click(0, 1, 20, 24))
    list(fixed.propagate(direction=Direction.FORWARD))
    fixed.add_prompt(click(6, 1, 30, 30, positive=False))
    list(fixed.propagate(direction=Direction.FORWARD))
    assert sorted(fixed.track_state(1).cond) == [0, 6]


def test_bad_input_gives_one_clear_error(session: VideoSession) -> None:
    with pytest.raises(ValueError, match="outside the video"):
        session.add_prompt(click(N, 1, 1, 1))
    with pytest.raises(ValueError, match="at least one click or a box"):
        session.add_prompt(Prompt(0, 1))
    with pytest.raises(ValueError, match="video size"):
        session.add_mask(0, 1, np.zeros((10, 10), bool))
    session.add_prompt(click(0, 1, 20, 24))
    with pytest.raises(ValueError, match="not both"):
        session.propagate(end_frame=3)
    with pytest.raises(ValueError, match="object 5"):
        session.propagate(obj_ids=[5])


def test_end_frame_limits_the_range(session: VideoSession) -> None:
    session.add_prompt(click(3, 1, 20, 24))
    assert [r.frame for r in session.propagate(direction=Direction.FORWARD, end_frame=6)] == [3, 4, 5, 6]
    assert [r.frame for r in session.propagate(start_frame=3, direction=Direction.BACKWARD, end_frame=1)] == [3, 2, 1]


def test_results_leave_no_autograd_state(session: VideoSession) -> None:
    session.add_prompt(click(0, 1, 20, 24))
    list(session.propagate(direction=Direction.FORWARD))
    for store in (session.track_state(1).cond, session.track_state(1).non_cond):
        for e in store.values():
            assert not e.obj_ptr.requires_grad
    assert not torch.is_inference_mode_enabled()


def test_propagation_asks_the_source_to_read_ahead() -> None:
    class ReadAheadFrames(ListFrames):
        def __init__(self, frames: list) -> None:
            super().__init__(frames)
            self.requests: list[list[int]] = []

        def prefetch(self, indices: list[int]) -> None:
            self.requests.append(list(indices))

    source = ReadAheadFrames(moving_square_video(20)._frames)
    session = VideoSession(small_model(64), source)
    session.add_prompt(click(0, 1, 20, 24))
    list(session.propagate(0, Direction.FORWARD))
    assert source.requests[0][:3] == [1, 2, 3]
    asked = sorted({i for request in source.requests for i in request})
    assert asked == list(range(1, 20))
    source.requests.clear()
    list(session.propagate(19, Direction.BACKWARD))
    assert source.requests[0][:2] == [18, 17]
