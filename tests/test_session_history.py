"""The document is the one truth: after any history of edits, undos and runs, the masks the session
holds, and what its engine would track from there, equal a fresh session replaying only the
operations that survive in the document. Real session code on the small random SAM 2, no window."""

from __future__ import annotations

import numpy as np
import pytest

from tests.session_history import Op, apply, masks, new_session, probe, replay, run_history
from tests.video_helpers import one_thread

_threads = pytest.fixture(scope="module", autouse=True)(one_thread)


def check(seed: int) -> None:
    live, survivors = run_history(seed)
    reference = replay(survivors)
    assert masks(live) == masks(reference), f"history {seed}: {survivors}"
    assert probe(live) == probe(reference), f"history {seed}: {survivors}"


def test_click_a_click_b_undo_click_c_equals_a_then_c(qtbot) -> None:
    """The issue's case through the session: the undone click B is not fed back to SAM 2."""
    a, b, c = (Op("click", 1, 2, xy) for xy in ((20, 24, True), (40, 30, True), (12, 20, False)))
    live = new_session()
    for op in (Op("new_object"), a, b, Op("undo"), c):
        apply(live, op)
    reference = replay([Op("new_object"), a, c])
    assert masks(live) == masks(reference)
    assert len(live.doc.prompt(1, 2).points) == 2
    undone_b = replay([Op("new_object"), a, b, c])  # what the old code computed: B's output fed back
    assert masks(undone_b)[(1, 2)][0] != masks(live)[(1, 2)][0]


def test_undoing_a_run_takes_it_out_of_the_engine_memory(qtbot) -> None:
    live = new_session()
    for op in (Op("new_object"), Op("click", 1, 0, (20, 24, True)), Op("propagate", 1, 0, ("forward", None, True, None))):
        apply(live, op)
    follower = live.worker.worker.service.follower
    assert live.undo_stack.count() == 3 and follower.engine.track_state(1).non_cond
    live.undo()
    assert probe(live) == probe(replay([Op("new_object"), Op("click", 1, 0, (20, 24, True))]))
    assert not follower.engine.track_state(1).non_cond and len(follower.applied) == 1


def test_a_deleted_object_restored_by_undo_tracks_as_before(qtbot) -> None:
    ops = [Op("new_object"), Op("click", 1, 1, (20, 24, True)), Op("new_object"), Op("box", 2, 3, (4, 4, 30, 30))]
    live = new_session()
    for op in ops + [Op("delete", 1), Op("click", 2, 3, (10, 10, True)), Op("undo"), Op("undo")]:
        apply(live, op)
    assert live.doc.has_object(1)
    assert masks(live) == masks(replay(ops)) and probe(live) == probe(replay(ops))


def test_random_histories_quick(qtbot) -> None:
    for seed in range(6):
        check(seed)


@pytest.mark.slow
@pytest.mark.parametrize("batch", range(10))
def test_random_histories(batch: int, qtbot) -> None:
    """200 histories in 10 batches (one test's set-up serves 20 histories)."""
    for seed in range(6 + 20 * batch, 6 + 20 * (batch + 1)):
        check(seed)


def test_an_opened_project_is_replayed_into_the_engine_before_any_click(qtbot, tmp_path) -> None:
    from annotator.project import load_project

    video = tmp_path / "square.mp4"
    video.write_bytes(b"")  # the session reads the frames from memory; the project needs a path that exists
    s = new_session(str(video))
    for op in (Op("new_object"), Op("click", 1, 2, (20, 24, True)), Op("stroke", 1, 4, (4, 4, 10, 10, False))):
        apply(s, op)
    project = s.save(str(tmp_path / "p.masklet"))
    assert load_project(project).document.inputs == []  # the log is not saved: it is rebuilt on opening
    other = new_session(str(video))
    other.open_project(project)
    applied = other.worker.worker.service.follower.applied
    assert [type(i).__name__ for i in applied] == ["PromptInput", "MaskInput"]
    assert applied == tuple(other.doc.document.inputs)
