"""Memory policies (core.video.memory_policy, core.video.policies): each policy's decisions on
constructed cases, both directions, corrections, locks, replays, and the saved choice."""

from __future__ import annotations

import pytest
import torch

from core.sam2.model import SamHeadsOutput
from core.types import Direction
from core.video import EngineFollower, TrackInput, VideoSession
from core.video.inputs import PromptInput
from core.video.legs import Leg
from core.video.memory_policy import (
    POLICY_NAMES, Dam4samMemory, Sam2LongMemory, Sam2Memory, SamuraiMemory, parse_policy,
)
from core.video.policies import policy_for
from core.video.policies.dam4sam import Dam4samState
from core.video.policies.kalman import BoxFilter
from core.video.policies.sam2long import Sam2LongState
from core.video.policies.samurai import SamuraiState
from core.video.state import MemoryEntry, ObjectTrack
from tests.video_helpers import click, moving_square_video, small_model


# ---------------------------------------------------------------------- names and configs
def test_names_parse_to_typed_configs_with_the_papers_defaults() -> None:
    assert POLICY_NAMES == ("sam2", "samurai", "dam4sam", "sam2long")
    assert parse_policy(None) == Sam2Memory() and parse_policy(" SAMURAI ") == SamuraiMemory()
    s = SamuraiMemory()
    assert (s.kf_score_weight, s.stable_frames_threshold, s.stable_ious_threshold) == (0.25, 15, 0.3)
    assert (s.memory_bank_iou_threshold, s.memory_bank_obj_score_threshold, s.memory_bank_kf_score_threshold) == (0.5, 0.0, 0.0)
    d = Dam4samMemory()
    assert (d.ram_stride, d.drm_size, d.min_iou, d.area_ratio, d.min_gap, d.max_alt_box_iou) == (5, 4, 0.8, 0.2, 5, 0.7)
    long = Sam2LongMemory()
    assert (long.num_pathways, long.iou_threshold, long.object_score_threshold) == (3, 0.1, 0.0)
    with pytest.raises(ValueError, match="choose one of sam2, samurai, dam4sam, sam2long"):
        parse_policy("xmem")


# ---------------------------------------------------------------------- constructed cases
def _entry(iou: float = 0.9, score: float = 5.0, area: int = 10) -> MemoryEntry:
    return MemoryEntry(torch.zeros(1, 4, 2, 2, dtype=torch.bfloat16), torch.zeros(1, 1, 8, 8), torch.zeros(1, 8),
                       torch.tensor([[score]]), iou, area)


def _masks(*boxes: tuple[int, int, int, int], size: int = 64) -> torch.Tensor:
    out = torch.full((len(boxes), size, size), -5.0)
    for k, (x0, y0, x1, y1) in enumerate(boxes):
        out[k, y0 : y1 + 1, x0 : x1 + 1] = 5.0
    return out


def test_samurai_filter_rejects_a_box_jump_once_stable() -> None:
    policy = policy_for(SamuraiMemory(stable_frames_threshold=3))
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    pick = policy.chooser([track], 5, False)
    still = _masks((10, 10, 20, 20), (40, 40, 50, 50), (0, 0, 63, 63))
    # the object sits still: the filter starts, learns, becomes stable
    for _ in range(4):
        assert int(pick(torch.tensor([[0.9, 0.5, 0.1]]), still[None])[0]) == 0
    st: SamuraiState = track.policy_state
    assert st.stable >= 3 and st.counts["filter_started"] == 1
    # a far box with a slightly higher predicted IoU loses to the box where the filter expects it
    jump = _masks((40, 40, 50, 50), (10, 10, 20, 20), (0, 0, 63, 63))
    assert int(pick(torch.tensor([[0.85, 0.8, 0.1]]), jump[None])[0]) == 1
    assert st.counts["motion_changed_choice"] == 1
    # a chosen mask with a low predicted IoU resets stability: the filter starts again next frame
    pick(torch.tensor([[0.2, 0.1, 0.1]]), still[None])
    assert st.stable == 0 and st.counts["filter_reset"] == 1
    assert int(pick(torch.tensor([[0.1, 0.9, 0.2]]), still[None])[0]) == 1 and st.counts["filter_started"] == 2


def test_kalman_filter_follows_constant_motion() -> None:
    f = BoxFilter.start((0.0, 0.0, 10.0, 10.0))
    for step in range(1, 8):
        f.predict()
        f.update((2.0 * step, 0.0, 10.0 + 2.0 * step, 10.0))
    f.predict()
    x0, _, x1, _ = f.box()
    assert abs((x0 + x1) / 2 - (5 + 16)) < 1.0  # centre moved on by one more step of 2 px


def test_samurai_memory_skips_low_scoring_frames_but_never_locked_ones() -> None:
    model = small_model()
    policy = policy_for(SamuraiMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    track.cond[0] = _entry()
    for t in range(1, 20):
        track.non_cond[t] = _entry(iou=0.2 if t in (15, 17, 18) else 0.9, score=-1.0 if t == 16 else 5.0)
    frames = [t for t, _ in policy._memory(model, track, 20, False, 40, None, count=True)]
    assert frames == [10, 11, 12, 13, 14, 19]  # 15..18 fail, 19 is the previous frame (always)
    assert track.policy_state.counts["memory_frame_rejected"] == 4
    locked = [t for t, _ in policy._memory(model, track, 20, False, 40, lambda t: t == 17, count=False)]
    assert locked == [11, 12, 13, 14, 17, 19]
    # backward: the same rule looking at the frames after the current one
    back = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    for t in range(21, 40):
        back.non_cond[t] = _entry(iou=0.2 if t == 21 else 0.9)
    assert [t for t, _ in policy._memory(model, back, 20, True, 40, None, count=False)] == [26, 25, 24, 23, 22, 21]


def test_dam4sam_ram_skips_frames_where_the_object_is_absent() -> None:
    model = small_model()
    policy = policy_for(Dam4samMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    track.cond[0] = _entry()
    for t in range(1, 30):
        track.non_cond[t] = _entry(area=0 if t in (29, 25) else 10)
    frames = sorted(policy.memory_frames(model, track, 30, False, 40, None))
    assert 29 not in frames and 28 in frames  # the previous frame is absent: the one before it
    assert 25 not in frames and 20 in frames  # a stride frame is absent: one stride further back
    locked = policy.memory_frames(model, track, 30, False, 40, lambda t: t == 29)
    assert 29 in locked
    sel = policy.select(model, track, 30, False, 40, None)
    assert track.policy_state.counts["absent_frame_skipped"] >= 2
    # RAM 28, 20, 15, 10, 5 (frame 0 is the prompt's), encodings by order; the prompt gets 0's slot
    assert [e for e, _ in sel.spatial[1:]] == [track.non_cond[t] for t in (5, 10, 15, 20, 28)]
    assert [i for _, i in sel.spatial] == [6, 4, 3, 2, 1, 0]


def _heads(low: torch.Tensor, ious: list[float]) -> SamHeadsOutput:
    return SamHeadsOutput(low[None], low[None], torch.tensor([ious]), low[None, :1], low[None, :1],
                          torch.zeros(1, 8), torch.tensor([[5.0]]))


def test_dam4sam_stores_a_distractor_frame_and_a_prompt_restarts_the_store() -> None:
    policy = policy_for(Dam4samMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    st: Dam4samState = track.policy_state
    target = _masks((10, 10, 20, 20), (10, 10, 20, 20), (10, 10, 20, 20))
    # a steady object: areas build up, alternatives equal the chosen mask (no distractor)
    for t in range(1, 4):
        e = _entry()
        e.pred_masks = target[None, :1].clone()
        track.non_cond[t] = e
        policy.after_frame(track, t, False, e, _heads(target, [0.9, 0.5, 0.5]), 0, (64, 64))
    assert not st.drm and st.counts.get("store_candidate", 0) == 2  # frame 1 has no area history yet
    # an alternative reaches a second blob far away: a distractor, the frame joins the store
    distract = _masks((10, 10, 20, 20), (10, 10, 20, 20), (10, 10, 20, 20))
    distract[1, 40:50, 40:50] = 5.0
    e = _entry()
    e.pred_masks = distract[None, :1].clone()
    track.non_cond[9] = e
    policy.after_frame(track, 9, False, e, _heads(distract, [0.9, 0.5, 0.5]), 0, (64, 64))
    assert list(st.drm) == [9] and 9 not in track.non_cond and st.counts["distractor_frame_stored"] == 1
    assert policy.to_reencode(track) == [e]
    # within min_gap frames of the last addition nothing more is stored
    policy.after_frame(track, 12, False, e, _heads(distract, [0.9, 0.5, 0.5]), 0, (64, 64))
    assert list(st.drm) == [9]
    policy.on_prompt(track, 20)
    assert not st.drm and not st.areas and st.last_added == -1


def test_sam2long_weights_memory_keys_by_object_score_rank() -> None:
    model = small_model()
    policy = policy_for(Sam2LongMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    track.cond[0] = _entry()
    entries = {t: _entry(score=float(s)) for t, s in zip(range(1, 7), (3, 1, 4, 2, 5, 6))}
    entries[3].iou = entries[6].iou = 0.05  # below the IoU threshold: 3 is skipped, 6 (the last) still read
    st: Sam2LongState = track.policy_state
    sel = policy._select(model, track, entries, 7, False, 20, None, st)
    assert [e for e, _ in sel.spatial[1:]] == [entries[t] for t in (1, 2, 4, 5, 6)]  # oldest first
    assert [i for _, i in sel.spatial[1:]] == [4, 3, 2, 1, 0]  # the newest: the nearest encoding
    assert st.counts["memory_frames_failing"] == 2 and st.counts["last_frame_kept_failing"] == 1
    # the prompt ranks as a score of 10; weights 0.95..1.05 by rank
    assert sel.key_weights == pytest.approx([1.05, 0.99, 0.95, 0.97, 1.01, 1.03])
    # pointers: the prompt's, then every read frame but the oldest, placed by rank
    assert [p for p, _ in sel.pointers] == [7, 1, 2, 3, 4]
    assert sel.pointer_weights == pytest.approx([1.05, 1.025, 1.0, 0.975, 0.95])


def test_sam2long_keeps_the_best_branches_or_one_per_predicted_iou_when_uncertain() -> None:
    from core.video.policies.sam2long import keep_branches

    cands = [(-0.1, 0, 2), (-0.2, 1, 2), (-0.3, 0, 0), (-0.4, 2, 2), (-0.5, 1, 0), (-0.9, 2, 1)]
    assert keep_branches(cands, None, 3, 3) == cands[:3]  # certain: the best three
    # uncertain: one branch per IoU rounded to 0.01 (0.621 and 0.618 are the same), best first
    assert keep_branches(cands, [0.621, 0.618, 0.55, 0.62, 0.43, 0.2], 3, 3) == [cands[0], cands[2], cands[4]]
    # too few distinct IoUs: the pathways without a branch add their best one, in pathway order
    assert keep_branches(cands, [0.62, 0.62, 0.62, 0.62, -0.62, 0.62], 3, 3) == [cands[0], cands[4], cands[3]]


def test_sam2long_shows_the_final_best_pathway() -> None:
    from core.video.policies.sam2long import Pathway

    policy = policy_for(Sam2LongMemory())
    track = ObjectTrack(1, memory=policy.config, policy_state=policy.new_state())
    st: Sam2LongState = track.policy_state
    a, b, c = _entry(), _entry(), _entry()
    st.shown = {5: a, 6: c}
    st.pathways = [Pathway(-1.0, {5: b, 6: c}, 1), Pathway(-2.0, {5: a, 6: c}, 2)]
    assert policy.revisions(track, final=False) == {}  # pathways differ on 5; 6 is settled as shown
    assert st.shown == {5: a}
    assert policy.revisions(track, final=True) == {5: b}  # the pass ended: the best pathway's mask
    assert not st.shown and st.counts["final_differs_from_online"] == 1


def test_sam2long_key_weights_scale_keys_and_leave_values() -> None:
    from core.video.tracker import MemorySelection, memory_tokens

    model = small_model()
    e = _entry()
    e.maskmem = torch.randn(1, model.mem_dim, 4, 4).to(torch.bfloat16)
    pos = torch.randn(1, model.mem_dim, 4, 4)
    plain = memory_tokens(model, MemorySelection([(e, 0)], []), 10, pos)
    scaled = memory_tokens(model, MemorySelection([(e, 0)], [], [1.05]), 10, pos)
    assert torch.equal(plain.memory, scaled.memory)  # values unchanged
    assert torch.allclose(scaled.memory + scaled.pos, 1.05 * (plain.memory + plain.pos), atol=1e-5)


# ---------------------------------------------------------------------- whole runs
def _session(name: str, frames: int = 12) -> VideoSession:
    s = VideoSession(small_model(), moving_square_video(frames))
    s.set_memory_policy(1, parse_policy(name))
    return s


@pytest.mark.slow
@pytest.mark.parametrize("name", POLICY_NAMES)
def test_each_policy_tracks_both_ways_with_a_correction_and_a_lock(name: str) -> None:
    s = _session(name)
    s.add_prompt(click(0, 1, 20, 24))
    forward = [r.frame for r in s.propagate(0, Direction.FORWARD, locked=lambda o, f: f == 5) if 1 in r.objects]
    assert forward == [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11]  # the locked frame is tracked, its mask not given
    s.add_prompt(click(8, 1, 30, 24))  # a correction on a tracked frame
    track = s.track_state(1)
    if name == "sam2":
        assert 8 not in track.cond and 8 in track.temp_non_cond
    else:
        assert 8 in track.temp_cond  # the other policies make a correction a conditioning frame
    backward = [r.frame for r in s.propagate(11, Direction.BACKWARD)]
    assert backward == list(range(11, -1, -1))
    assert len(s.object_results(1)) == 12


def test_sam2long_prunes_branches_and_keeps_its_pathways() -> None:
    s = _session("sam2long", frames=8)
    s.add_prompt(click(0, 1, 20, 24))
    results = [r.frame for r in s.propagate(0, Direction.FORWARD)]
    st: Sam2LongState = s.track_state(1).policy_state
    assert len(st.pathways) == 3
    # frame 1: tracked as SAM 2 does, three pathways start from it; frames 2..7: 9 branches, 3 kept
    assert st.counts["frames_branched"] == 6 and st.counts["branches_pruned"] == 6 * 6
    scores = [p.score for p in st.pathways]
    assert scores[0] == max(scores)  # the best first (when uncertain, pathways added for diversity follow)
    # after the pass every frame's output is the best pathway's (frames it changed were shown again)
    track = s.track_state(1)
    assert all(track.non_cond[t] is st.pathways[0].entries[t] for t in range(1, 8)) and not st.shown
    assert len(results) == 8 + st.counts.get("final_differs_from_online", 0)
    assert sorted(set(results)) == list(range(8))


def test_samurai_restarts_its_filter_on_the_prompted_frame() -> None:
    s = _session("samurai")
    s.add_prompt(click(0, 1, 20, 24))
    assert s.track_state(1).temp_cond[0].seed_box is not None  # one click: three masks, a box
    list(s.propagate(0, Direction.FORWARD))
    st: SamuraiState = s.track_state(1).policy_state
    assert st.counts["filter_started"] >= 1 and st.filter is not None


def _masks_of(session: VideoSession) -> dict[int, bytes]:
    return {f: m.rle.counts for f, m in session.object_results(1).items()}


@pytest.mark.slow
@pytest.mark.parametrize("name", ("samurai", "dam4sam", "sam2long"))
def test_an_undone_run_replays_to_the_same_policy_state(name: str) -> None:
    """The policy state is part of the engine's checkpoints: a follower that rewinds and replays
    gives what a fresh one gives."""
    model = small_model()
    frames = moving_square_video(10)
    a = PromptInput(click(0, 1, 20, 24))
    run = TrackInput((Leg(0, Direction.FORWARD),), (1,), memory=((1, name),))
    fresh = EngineFollower(VideoSession(model, frames))
    done = fresh.track([a], run, lambda: False, lambda r: None)
    b = PromptInput(click(6, 1, 30, 24))
    run2 = TrackInput((Leg(6, Direction.BACKWARD),), (1,), memory=((1, name),))
    done2 = fresh.track([a, done, b], run2, lambda: False, lambda r: None)
    assert fresh.engine.memory_policy(1).name == name
    # undo the second run and the correction, then do them again: same masks
    fresh.follow([a, done])
    fresh.track([a, done, b], run2, lambda: False, lambda r: None)
    replay = EngineFollower(VideoSession(model, frames))
    replay.follow([a, done, b, done2])
    assert _masks_of(fresh.engine) == _masks_of(replay.engine)


def test_the_policy_is_saved_with_the_object_and_read_back(tmp_path) -> None:
    from annotator.document import AnnotationDocument, ObjectRecord
    from annotator.project_schema import document_from_json, document_to_json

    doc = AnnotationDocument()
    doc.put_object(ObjectRecord(1, "a", memory="samurai"))
    doc.put_object(ObjectRecord(2, "b"))
    data = document_to_json(doc)
    assert data["objects"][0]["memory"] == "samurai" and "memory" not in data["objects"][1]
    back, _ = document_from_json(data)
    assert back.objects[1].memory == "samurai" and back.objects[2].memory == "sam2"
    data["objects"][0]["memory"] = "xmem"
    with pytest.raises(Exception, match="object 1: unknown memory policy 'xmem'"):
        document_from_json(data)


def test_prompts_json_names_a_policy_per_object() -> None:
    from annotator.cli.track_prompts import PromptsError, parse_prompts

    objs = parse_prompts({"objects": [
        {"id": 1, "memory": "DAM4SAM", "prompts": [{"frame": 0, "points": [[1, 1]]}]},
        {"id": 2, "prompts": [{"frame": 0, "points": [[1, 1]]}]},
    ]})
    assert [o.memory for o in objs] == ["dam4sam", None]
    with pytest.raises(PromptsError, match="object 1: unknown memory policy"):
        parse_prompts({"objects": [{"id": 1, "memory": "x", "prompts": [{"frame": 0, "points": [[1, 1]]}]}]})


def test_track_command_takes_a_memory_policy() -> None:
    from annotator.cli.track import build_parser

    args = build_parser().parse_args(["v.mp4", "--prompts", "p.json", "--checkpoint", "c.pt", "--out", "o.masklet",
                                      "--memory", "sam2long"])
    assert args.memory == "sam2long"
    assert build_parser().parse_args(["v.mp4", "--checkpoint", "c.pt", "--out", "o"]).memory == "sam2"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["v.mp4", "--checkpoint", "c.pt", "--out", "o", "--memory", "xmem"])
