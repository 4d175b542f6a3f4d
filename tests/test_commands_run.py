"""A propagation run's bookkeeping: which results it keeps, what one undo step restores, its legs."""

from __future__ import annotations

import numpy as np

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.session_run import PropagationRun
from core.video.legs import Leg, frames_in, legs_for
from core.masks import encode
from core.types import Direction, FrameResult, ObjectMask, Prompt


def _mask(n: int) -> np.ndarray:
    m = np.zeros((8, 8), bool)
    m[:n, :n] = True
    return m


def test_results_never_replace_hand_edits_or_locked_masks_and_keep_the_first_old_entry() -> None:
    doc = AnnotationDocument(VideoRef("v", 8, 8, 10, 5.0))
    doc.add_object()
    doc.set_mask(1, 1, MaskEntry(encode(_mask(2)), MaskSource.EDITED))
    doc.set_mask(1, 2, MaskEntry(encode(_mask(2)), MaskSource.PROPAGATED, locked=True))
    old3 = MaskEntry(encode(_mask(1)), MaskSource.PROPAGATED, object_score=1.0, iou=0.5)
    doc.set_mask(1, 3, old3)
    doc.set_prompt(1, 0, Prompt(0, 1, box=np.array([0, 0, 4, 4], np.float32)))
    run = PropagationRun(7, (1,))
    for frame in (0, 1, 2, 3, 3):  # frame 3 twice, as both directions of a run yield their start
        result = FrameResult(frame, {1: ObjectMask(1, encode(_mask(5)), 2.0, 0.9), 9: ObjectMask(9, encode(_mask(5)), 2.0, 0.9)})
        for (obj_id, f), entry in run.accept(doc, result).items():
            doc.set_mask(obj_id, f, entry)
    assert set(run.changes) == {(1, 0), (1, 3)}  # object 9 does not exist; frames 1 and 2 are protected
    assert run.changes[(1, 0)][1].source is MaskSource.PROMPTED
    assert run.changes[(1, 3)][0] is old3 and run.changes[(1, 3)][1].source is MaskSource.PROPAGATED
    progress = run.progress(5, 20, now=run.started + 2.0)
    assert progress.rate == 2.5 and progress.eta == 6.0 and progress.text() == "5/20 frames, 2.5 frames/s, 0:06 left"


def test_progress_reads_seconds_per_frame_on_slow_runs_and_smooths_the_time_left() -> None:
    run = PropagationRun(1, (1,), started=0.0)
    assert run.progress(0, 100, now=0.0).text() == "0/100 frames"
    first = run.progress(1, 100, now=10.0)  # the first frame also encodes: slow
    assert first.text() == "1/100 frames, 10.0 s/frame, 16:30 left"
    steady = [run.progress(n, 100, now=10.0 + 4.0 * (n - 1)) for n in range(2, 12)]
    lefts = [p.eta for p in steady]
    assert all(a > b for a, b in zip(lefts, lefts[1:]))  # falls steadily, no swing
    assert abs(steady[-1].rate - 0.25) < 0.02 and "s/frame" in steady[-1].text()


def test_legs() -> None:
    assert legs_for(Direction.FORWARD, None, 4) == (Leg(4, Direction.FORWARD),)
    assert legs_for(Direction.BACKWARD, (9, 3), 0) == (Leg(9, Direction.BACKWARD, 3),)
    assert legs_for(Direction.BOTH, (3, 9), 20) == (Leg(9, Direction.FORWARD, 9), Leg(9, Direction.BACKWARD, 3))


def test_leg_frames_are_what_the_engine_yields() -> None:
    """Both ways from frame 0 is 10 frames in a 10-frame video (nothing backward from 0)."""
    assert frames_in((Leg(0, Direction.BOTH),), 10) == 10
    assert frames_in((Leg(4, Direction.BOTH),), 10) == 6 + 5
    assert frames_in((Leg(4, Direction.BACKWARD, 1),), 10) == 4
    assert frames_in(legs_for(Direction.BOTH, (3, 9), 5), 10) == 5 + 3
