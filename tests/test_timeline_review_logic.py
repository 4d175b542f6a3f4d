"""Qt-free rules behind the timeline and review mode: the one suspect rule, run-length summaries and
the cells a view paints, the zoom arithmetic, keyframes, review marks and progress, and the project
file's schema 3 (review marks and notes) with its migration from schema 2."""

from __future__ import annotations

import numpy as np
import pytest

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.frame_table import FrameTable, LaneState
from annotator.keyframes import keyframes, next_keyframe
from annotator.lane_runs import MARK_LOCKED, MARK_REVIEWED, summarize, view_cells
from annotator.project_schema import ProjectError, SCHEMA_VERSION, document_from_json, document_to_json
from annotator.review import accept_changes, progress_of_tables, review_progress, unreviewed_frames, with_note
from annotator.suspect import SuspectThresholds, next_frame, suspect_flags, suspect_frames
from core.masks import encode
from core.types import Prompt
from ui.timeline_model import cell_text, suspect_reason
from ui.timeline_zoom import MAX_PX_PER_FRAME, TimelineView

H, W, N = 20, 30, 60


def _entry(rows: int, source=MaskSource.PROPAGATED, iou=0.95, score=2.0, **kw) -> MaskEntry:
    m = np.zeros((H, W), bool)
    m[:rows, :10] = True
    return MaskEntry(encode(m), source, object_score=score, iou=iou, **kw)


def _doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("v.mp4", W, H, N, 10.0))
    doc.add_object("a")
    doc.add_object("b")
    for f in range(20):
        doc.set_mask(1, f, _entry(5))
    doc.set_mask(1, 0, _entry(5, MaskSource.PROMPTED))
    doc.set_prompt(1, 0, Prompt(0, 1, np.array([[1.0, 1.0]], np.float32), np.array([1], np.int32)))
    doc.set_mask(1, 4, _entry(5, iou=0.6))  # between low and good: not suspect
    doc.set_mask(1, 6, _entry(5, iou=0.3))  # low
    doc.set_mask(1, 8, _entry(15))  # area x3
    doc.set_mask(1, 9, _entry(15))
    doc.set_mask(1, 12, _entry(0, score=-3.0))  # vanishes
    doc.set_mask(1, 15, _entry(5, MaskSource.EDITED, iou=None, score=None, locked=True))
    doc.set_mask(2, 30, _entry(4, MaskSource.EDITED, iou=None, score=None))
    return doc


def test_one_suspect_rule_for_colours_and_j() -> None:
    doc, th = _doc(), SuspectThresholds()
    table = FrameTable.of(doc, 1, N)
    flags = suspect_flags(table, th)
    # 6: low IoU; 8: area jump up; 10: area jump down (15 -> 5 rows); 12: vanishes; 13: appears again
    assert np.flatnonzero(flags).tolist() == [6, 8, 10, 12, 13]
    assert suspect_frames(doc, [1, 2], th) == [6, 8, 10, 12, 13]
    # the cells the timeline paints red are exactly these frames
    runs = summarize(table, th)
    red = np.zeros(N, bool)
    for s, e, sus in zip(runs.starts, runs.ends, runs.suspect):
        red[s:e] = sus
    assert np.array_equal(red, flags)
    # a stricter threshold makes frame 4 (IoU 0.6) suspect in both
    strict = SuspectThresholds(low_iou=0.7)
    assert 4 in suspect_frames(doc, [1], strict) and suspect_flags(table, strict)[4]
    assert suspect_reason(table, 6, th).startswith("predicted IoU below") and suspect_reason(table, 12, th) == "vanishes"
    assert suspect_reason(table, 8, th).startswith("area ×3.0") and suspect_reason(table, 3, th) is None
    assert next_frame([6, 8, 12], 6) == 8 and next_frame([6, 8, 12], 6, False) is None and next_frame([], 0) is None
    with pytest.raises(ValueError):
        SuspectThresholds(low_iou=0.9, good_iou=0.8)


def test_confidence_levels_run_from_low_to_good() -> None:
    th = SuspectThresholds(low_iou=0.5, good_iou=0.9)
    levels = th.confidence_level(np.array([np.nan, 0.2, 0.5, 0.8, 0.9, 1.0], np.float32))
    assert levels.tolist() == [-1, 0, 0, 5, 7, 7]


def _random_table(n: int, seed: int = 0) -> FrameTable:
    rng = np.random.default_rng(seed)
    t = FrameTable.empty(n)
    t.states[:] = rng.choice([0, 1, 2, 2, 2, 3, 4, 5], n)
    present = t.states > 1
    t.iou[present] = rng.uniform(0.2, 1.0, present.sum())
    t.area[present] = rng.choice([50, 60, 400], present.sum())
    t.locked[:] = rng.random(n) < 0.05
    t.reviewed[:] = t.locked & (rng.random(n) < 0.5)
    return t


@pytest.mark.parametrize("first,px_per_frame,width", [(0.0, 1000 / 4000, 1000), (123.4, 1 / 7.3, 300),
                                                      (0.0, 4000 / 4000, 4000), (3990.5, 8.0, 200), (10.0, 0.9, 500)])
def test_cells_squeeze_runs_into_columns_like_a_per_frame_reduction(first, px_per_frame, width) -> None:
    n, th = 4000, SuspectThresholds()
    t = _random_table(n)
    runs = summarize(t, th)
    assert runs.starts[0] == 0 and runs.ends[-1] == n and np.all(runs.starts[1:] == runs.ends[:-1])
    cells = view_cells(runs, first, 1 / px_per_frame, width)
    assert len(cells) <= width + 1 and np.all(cells.x1 > cells.x0) and cells.x0.min() >= 0 and cells.x1.max() <= width
    flags = suspect_flags(t, th)
    mark = np.where(t.reviewed, MARK_REVIEWED, np.where(t.locked, MARK_LOCKED, 0))
    for k in range(len(cells)):  # each painted segment shows the strongest frame under it
        for col in range(int(cells.x0[k]), int(np.ceil(cells.x1[k]))):
            lo = max(0, int(np.floor(first + col / px_per_frame)))
            hi = min(n, max(lo + 1, int(np.floor(first + (col + 1) / px_per_frame))))
            if lo >= n:
                continue
            assert cells.state[k] == t.states[lo:hi].max()
            assert cells.mark[k] == mark[lo:hi].max()
            assert cells.suspect[k] == flags[lo:hi].any()


def test_cells_stay_within_the_width_on_an_hour_of_video() -> None:
    t = _random_table(108_000, seed=3)
    runs = summarize(t, SuspectThresholds())
    assert len(runs) > 50_000  # a lane that changes almost every frame
    for px in (1000 / 108_000, 0.1, 1.0, 16.0):
        assert len(view_cells(runs, 5000.0, 1 / px, 1000)) <= 1000


def test_view_zooms_at_an_anchor_and_follows_the_playhead() -> None:
    v = TimelineView()
    v.resize(108_000, 1000.0)
    assert v.fitted and v.px_per_frame == pytest.approx(1000 / 108_000) and v.frame_at(999) == 107_892
    v.set_scale(10.0, anchor_frame=54_000.5, anchor_x=500.0)
    assert v.px_per_frame == 10.0 and not v.fitted and v.frame_at(500) == 54_000
    assert v.x_of(54_000.5) == pytest.approx(500.0)
    v.zoom(1e6)
    assert v.px_per_frame == MAX_PX_PER_FRAME
    v.set_scale(1e-9)
    assert v.fitted and v.first == 0.0
    v.set_scale(20.0, 0, 0)
    assert v.first == 0.0 and v.keep_visible(10) is False
    assert v.keep_visible(5000) and 0 <= v.x_of(5000) and v.x_of(5001) <= v.width
    assert v.keep_visible(0) and v.first == 0.0
    v.scroll_to(1e9)
    assert v.first == v.max_first == 108_000 - 1000 / 20
    v.resize(108_000, 2000.0)  # a wider dock keeps the scale; the scroll is clamped to the video
    assert v.px_per_frame == 20.0 and v.first == v.max_first == 108_000 - 2000 / 20


def test_keyframes_are_prompted_or_edited_frames() -> None:
    doc = _doc()
    assert keyframes(doc, [1]) == [0, 15] and keyframes(doc, [1, 2]) == [0, 15, 30]
    assert next_keyframe(doc, [1], 0) == 15 and next_keyframe(doc, [1], 15) is None
    assert next_keyframe(doc, [1, 2], 15) == 30 and next_keyframe(doc, [2], 30, forward=False) is None


def test_accepting_marks_reviewed_and_locks_and_progress_counts_frames() -> None:
    doc = _doc()
    changes = accept_changes(doc, [1, 2], 10, 30)
    assert set(changes) == {(1, f) for f in range(10, 20)} | {(2, 30)}
    for (obj_id, frame), (old, new) in changes.items():
        assert new.reviewed and new.locked and new.rle is old.rle
        doc.masks[obj_id][frame] = new
    assert accept_changes(doc, [1, 2], 10, 30) == {}  # nothing left to accept
    assert unreviewed_frames(doc, [1]) == list(range(10))
    progress = review_progress(doc)
    assert (progress.frames_reviewed, progress.frames_with_masks, progress.masks_reviewed, progress.masks) == (11, 21, 11, 21)
    tables = [FrameTable.of(doc, o, N) for o in (1, 2)]
    assert progress_of_tables(tables) == progress and progress.text() == "Reviewed 11 / 21 frames (52 %)"
    undo = accept_changes(doc, [1], 12, 12, reviewed=False)
    assert undo[(1, 12)][1].locked and not undo[(1, 12)][1].reviewed  # un-accepting keeps the lock
    doc.set_locked(1, 13, False)  # unlocking clears the review mark: reviewed frames are locked
    assert not doc.mask(1, 13).reviewed
    assert with_note({3: "x"}, 5, "  occluded  ") == {3: "x", 5: "occluded"} and with_note({3: "x"}, 3, " ") == {}


def test_lock_command_undo_brings_back_a_review_mark() -> None:
    from annotator.commands import LockCommand
    from annotator.observed_document import ObservedDocument

    doc = _doc()
    doc.masks[1][5] = _entry(5, locked=True, reviewed=True)
    observed = ObservedDocument(doc)
    command = LockCommand(observed, 1, [5], False)
    command.redo()
    assert not doc.mask(1, 5).locked and not doc.mask(1, 5).reviewed
    command.undo()
    assert doc.mask(1, 5).locked and doc.mask(1, 5).reviewed


def test_schema_3_keeps_review_marks_and_notes_and_migrates_schema_2() -> None:
    doc = _doc()
    doc.masks[1][5] = _entry(5, locked=True, reviewed=True)
    doc.update_object(1, notes={5: "edge of the mask is off", 7: "check"})
    data = document_to_json(doc)
    assert data["schema_version"] == SCHEMA_VERSION == 3
    back, _ = document_from_json(data)
    assert back.mask(1, 5).reviewed and back.mask(1, 5).locked and not back.mask(1, 4).reviewed
    assert back.object(1).notes == {5: "edge of the mask is off", 7: "check"} and back.object(2).notes == {}
    # a schema-2 file: no review fields at all
    old = document_to_json(_doc())
    old["schema_version"] = 2
    for obj in old["objects"]:
        obj.pop("notes")
        for m in obj["masks"]:
            m.pop("reviewed")
    migrated, _ = document_from_json(old)
    assert not any(e.reviewed for _, _, e in migrated.iter_masks()) and migrated.object(1).notes == {}
    assert migrated.mask(1, 15).locked  # the lock it had is kept
    # an unlocked mask marked reviewed is read as not reviewed (reviewed frames are locked)
    data = document_to_json(doc)
    data["objects"][0]["masks"][5]["locked"] = False
    assert not document_from_json(data)[0].mask(1, 5).reviewed
    data["objects"][0]["notes"] = [{"frame": "x", "text": "t"}]
    with pytest.raises(ProjectError, match="note without a frame number"):
        document_from_json(data)


def test_tooltip_text_names_frame_object_source_scores_area_and_why() -> None:
    doc = _doc()
    doc.update_object(1, notes={6: "blurry"})
    table = FrameTable.of(doc, 1, N)
    text = cell_text(doc.object(1), table, 6, SuspectThresholds())
    assert "Frame 6 · a (#1)" in text and "Source: propagated" in text and "Predicted IoU: 0.300" in text
    assert "object score: +2.00" in text and "Area: 50 px" in text and "Suspect: predicted IoU below 0.50" in text
    assert "Note: blurry" in text
    locked = cell_text(doc.object(1), table, 15, SuspectThresholds(), frames_in_column=(10, 20))
    assert "Source: edited by hand" in locked and "Predicted IoU: –" in locked and "Marks: locked" in locked
    assert "frames 10–20" in locked and LaneState(table.states[15]) is LaneState.EDITED


def test_stacked_columns_keep_each_lane() -> None:
    from annotator.lane_runs import stack_columns, view_columns

    th = SuspectThresholds()
    runs = [summarize(_random_table(5000, seed=s), th) for s in range(3)]
    alone = [view_columns(r, 1234.5, 7.5, 300) for r in runs]
    together = stack_columns(alone)
    assert together.state.shape == (3, 300)
    for k in range(3):
        assert np.array_equal(together.level[k], alone[k].level) and np.array_equal(together.mark[k], alone[k].mark)


def test_j_from_the_summaries_visits_the_suspect_frames() -> None:
    from annotator.lane_runs import next_suspect

    th = SuspectThresholds()
    tables = [_random_table(3000, seed=s) for s in (5, 6)]
    lanes = [summarize(t, th) for t in tables]
    frames = np.flatnonzero(suspect_flags(tables[0], th) | suspect_flags(tables[1], th)).tolist()
    for current in (-1, 0, 1, 17, 1500, 2998, 2999, 3000):
        assert next_suspect(lanes, current) == next_frame(frames, current), current
        assert next_suspect(lanes, current, forward=False) == next_frame(frames, current, False), current
    assert next_suspect([], 5) is None
