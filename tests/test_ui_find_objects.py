"""The real window's "Find objects on this frame" with the real engine and a small random model:
search on the worker, candidates over the frame, keep/drop by click, "Keep all", the minimum area
slider, one undoable add of ``auto n`` objects, then tracking them like any other."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from annotator.auto_objects import AUTOMATIC
from annotator.document import MaskSource
from annotator.session_controller import ModelState
from core.sam2.auto_params import AutoMaskParams
from core.types import Direction
from tests.ui_helpers import LEFT, close_window, open_window, present_checkpoint, settings_with_model, wait_shown
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui
# random weights give large, overlapping masks that the default thresholds (0.8, 0.95) and box NMS
# (0.7) all remove; these let 16 of the 48 candidates through
PARAMS = AutoMaskParams(points_per_side=4, pred_iou_thresh=0.4, stability_score_thresh=0.1, box_nms_thresh=1.0)


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, present_checkpoint(tmp_path / "random.pt")))
    w.session.open_video(str(shared_data / "frames" / "bedroom"))
    wait_shown(qtbot, w)
    qtbot.waitUntil(lambda: w.session.model_status.state is ModelState.READY, timeout=180000)  # a hang guard; the machine may be busy
    yield w
    close_window(w)


def found_dialog(qtbot, w: MainWindow):
    w.find_objects.params = PARAMS
    w.actions["object.find"].trigger()
    dialog = w.find_objects.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: not w.find_objects.finder.busy, timeout=300000)
    return dialog


@pytest.mark.slow
def test_find_keep_drop_add_undo_track(qtbot, window: MainWindow, tmp_path: Path) -> None:
    w, s = window, window.session
    assert "Ctrl+Shift+N" in [k.toString() for k in w.actions["object.find"].shortcuts()]
    dialog = found_dialog(qtbot, w)
    n = len(dialog.found)
    assert n >= 2, "the random model should give a few candidates"
    assert dialog.list.count() == n and len(dialog.kept_masks()) == n
    assert [m.predicted_iou for m in dialog.found] == sorted((m.predicted_iou for m in dialog.found), reverse=True)

    # a click on a mask drops the smallest candidate under it; a second click keeps it again
    target = min(range(n), key=lambda i: dialog.found[i].area)
    ys, xs = dialog.masks[target].nonzero()
    x, y = int(xs[len(xs) // 2]), int(ys[len(ys) // 2])
    under = dialog.view.candidate_at(x, y)
    qtbot.mouseClick(dialog.view, LEFT, pos=dialog.view.widget_pos(x, y).toPoint())
    assert dialog.kept[under] is False and len(dialog.kept_masks()) == n - 1
    assert dialog.list.item(under).checkState() == Qt.CheckState.Unchecked
    qtbot.mouseClick(dialog.view, LEFT, pos=dialog.view.widget_pos(x, y).toPoint())
    assert dialog.kept[under] is True

    # drop all, keep all; the slider hides (and leaves out) masks under the minimum area
    dialog.drop_all.click()
    assert dialog.kept_masks() == [] and not dialog.buttons.buttons()[0].isEnabled()
    dialog.keep_all.click()
    assert len(dialog.kept_masks()) == n
    largest = max(m.area for m in dialog.found)
    dialog.min_area.setValue(dialog.min_area.maximum())
    assert [m.area for m in dialog.kept_masks()] == [largest]
    assert sum(not dialog.list.item(i).isHidden() for i in range(n)) == 1
    dialog.min_area.setValue(0)
    grab = tmp_path / "find_objects.png"
    dialog.grab().save(str(grab))
    assert grab.stat().st_size > 0

    # drop one by its row, add the rest: one undo step
    dialog.list.item(0).setCheckState(Qt.CheckState.Unchecked)
    kept = dialog.kept_masks()
    assert len(kept) == n - 1
    steps = s.undo_stack.count()
    dialog.buttons.buttons()[0].click()
    assert not dialog.isVisible()
    records = s.doc.objects()
    assert [r.name for r in records] == [f"auto {i}" for i in range(1, n)]
    assert all(r.source == AUTOMATIC for r in records)
    for r, m in zip(records, kept):
        entry = s.doc.mask(r.obj_id, 0)
        assert entry.rle == m.rle and entry.source is MaskSource.EDITED
    assert s.undo_stack.count() == steps + 1
    s.undo()
    assert s.doc.objects() == [] and s.doc.document.inputs == []
    s.redo()
    assert len(s.doc.objects()) == n - 1

    # tracked like any other object
    ids = [r.obj_id for r in s.doc.objects()]
    done: list[bool] = []
    s.runs.finished.connect(lambda cancelled, frames: done.append(cancelled))
    s.runs.propagate(Direction.FORWARD, frame_range=(0, 3))
    qtbot.waitUntil(lambda: bool(done), timeout=120000)
    assert done == [False]
    for obj_id in ids:
        assert sorted(s.doc.document.masks[obj_id]) == [0, 1, 2, 3]
