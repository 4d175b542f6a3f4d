"""The real window, driven like a user, with the real engine and a small random SAM 2 model.

Open a shared video from the menu, add two objects, click one and box the other, see both masks,
propagate ten frames over a timeline range, cancel a second run midway and keep its frames,
undo and redo, brush a correction, save, reopen and find everything, export COCO and reload it.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from annotator.document import MaskSource
from annotator.session_controller import ModelState
from tests.ui_helpers import (
    LEFT, close_window, open_window, overlay_alpha, present_checkpoint, settings_with_model, view_point, wait_shown,
)
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


def key(qtbot, window: MainWindow, k: Qt.Key, mod: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(window.canvas, k, mod)


@pytest.fixture
def window(qtbot, tmp_path: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, present_checkpoint(tmp_path / "random.pt")))
    yield w
    close_window(w)


def wait_model(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.session.model_status.state is ModelState.READY, timeout=60000)


@pytest.mark.slow
def test_annotate_propagate_correct_save_reopen_export(qtbot, window: MainWindow, shared_data: Path,
                                                       tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    w, s = window, window.session
    video = str(shared_data / "videos" / "bedroom.mp4")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (video, ""))
    w.actions["file.open_video"].trigger()
    wait_shown(qtbot, w)
    assert s.frame_count() == 200 and w.canvas.image_size == (960, 540)
    assert w.windowTitle().startswith("bedroom.mp4")
    wait_model(qtbot, w)

    # two objects; the first gets a click, the second a box
    key(qtbot, w, Qt.Key.Key_N)
    key(qtbot, w, Qt.Key.Key_N)
    assert [r.obj_id for r in s.doc.objects()] == [1, 2] and s.current_obj == 2
    assert w.canvas.overlay_image().isNull()  # no masks yet: no frame-sized overlay is painted
    key(qtbot, w, Qt.Key.Key_PageUp)
    assert s.current_obj == 1
    key(qtbot, w, Qt.Key.Key_C)
    qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 300, 200))
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    assert w.canvas.marker_count() == 1
    key(qtbot, w, Qt.Key.Key_PageDown)
    key(qtbot, w, Qt.Key.Key_B)
    qtbot.mousePress(w.canvas.viewport(), LEFT, pos=view_point(w, 500, 100))
    qtbot.mouseMove(w.canvas.viewport(), view_point(w, 650, 250))
    qtbot.mouseRelease(w.canvas.viewport(), LEFT, pos=view_point(w, 800, 400))
    qtbot.waitUntil(lambda: s.doc.mask(2, 0) is not None, timeout=60000)
    assert np.allclose(s.doc.prompt(2, 0).box, [500, 100, 800, 400], atol=2)
    assert s.doc.mask(1, 0).source is MaskSource.PROMPTED and s.doc.mask(2, 0).rle.area > 0

    # both masks on the canvas: solo each object and find exactly its pixels in the overlay
    for obj_id in (1, 2):
        s.select_object(obj_id)
        key(qtbot, w, Qt.Key.Key_S)
        assert np.array_equal(overlay_alpha(w) > 0, s.doc.mask_array(1 if obj_id == 1 else 2, 0))
        key(qtbot, w, Qt.Key.Key_S)

    # propagate frames 0..9 over a range selected on the timeline
    tl = w.timeline
    y = tl.height() - 5
    qtbot.mousePress(tl, LEFT, Qt.KeyboardModifier.ShiftModifier, QPoint(int(tl.x_of(0.5)), y))
    qtbot.mouseMove(tl, QPoint(int(tl.x_of(5.5)), y))
    qtbot.mouseRelease(tl, LEFT, Qt.KeyboardModifier.ShiftModifier, QPoint(int(tl.x_of(9.5)), y))
    qtbot.mouseMove(tl, QPoint(int(tl.x_of(9.5)), y))
    assert tl.selection is not None and tl.selection[0] == 0
    tl.selection = (0, 9)  # the release position is where the drag ended; pin the range exactly
    with qtbot.waitSignal(s.runs.finished, timeout=120000) as finished:
        key(qtbot, w, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert finished.args == [False, 10]
    for frame in range(10):
        assert s.doc.mask(1, frame) is not None and s.doc.mask(2, frame) is not None
    assert s.doc.mask(1, 9).source is MaskSource.PROPAGATED and s.doc.mask(1, 10) is None
    assert tl.lanes[1].states[:10].all() and not tl.lanes[1].states[10:].any()
    steps_after_first_run = s.undo_stack.count()

    # a second run forward from frame 9, cancelled from the status bar after three frames: the
    # worker waits after sending its third frame until the click has landed, so the run cannot
    # end (or go further) before the cancel, however slow or busy the machine
    s.set_frame(9)
    seen: list[int] = []
    clicked = threading.Event()

    def third_frame_waits_for_the_click(run_id, result) -> None:  # on the worker thread
        seen.append(result.frame)
        if len(seen) == 3:
            clicked.wait(60)  # only guards a hang

    s.worker.worker.frameDone.connect(third_frame_waits_for_the_click, Qt.ConnectionType.DirectConnection)
    key(qtbot, w, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(seen) >= 3, timeout=60000)
    with qtbot.waitSignal(s.runs.finished, timeout=60000) as finished:
        qtbot.mouseClick(w.progress.cancel_button, LEFT)
        clicked.set()
    s.worker.worker.frameDone.disconnect(third_frame_waits_for_the_click)
    cancelled, kept = finished.args
    assert cancelled and kept == 3 and seen == [9, 10, 11]
    last = 9 + kept - 1
    assert s.doc.mask(1, last) is not None and s.doc.mask(1, last + 1) is None
    assert not w.progress.isVisible()

    # undo takes the cancelled run back as one step, redo restores it
    assert s.undo_stack.count() == steps_after_first_run + 1
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert s.doc.mask(1, last) is None and s.doc.mask(1, 9) is not None
    key(qtbot, w, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert s.doc.mask(1, last) is not None

    # brush a correction on frame 5: one stroke, one undo step, an edited mask
    s.set_frame(5)
    wait_shown(qtbot, w)
    s.select_object(1)
    key(qtbot, w, Qt.Key.Key_D)
    before = s.doc.mask_array(1, 5)
    count = s.undo_stack.count()
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, LEFT, pos=view_point(w, 100, 450))
    for x in range(110, 260, 10):
        qtbot.mouseMove(vp, view_point(w, x, 450))
    qtbot.mouseRelease(vp, LEFT, pos=view_point(w, 260, 450))
    after = s.doc.mask_array(1, 5)
    assert s.undo_stack.count() == count + 1
    assert s.doc.mask(1, 5).source is MaskSource.EDITED
    assert after[450, 100:260].all() and (after & ~before).sum() > 0
    assert w.isWindowModified()

    # propagating again gives SAM 2 the edit as a mask prompt; the edit itself stays as drawn
    from core.video.inputs import MaskInput

    tl.selection = (5, 7)
    with qtbot.waitSignal(s.runs.finished, timeout=120000) as finished:
        w.actions["track.range"].trigger()
    assert finished.args == [False, 3]
    given = [i for i in s.worker.worker.service.follower.applied if isinstance(i, MaskInput)]
    assert [(i.obj_id, i.frame) for i in given] == [(1, 5)] and np.array_equal(given[0].rle.decode(), after)
    assert s.worker.worker.service.follower.applied == tuple(s.doc.document.inputs)
    assert s.doc.mask(1, 5).source is MaskSource.EDITED and np.array_equal(s.doc.mask_array(1, 5), after)

    # save (Save As on a new project), the title loses its mark
    project = tmp_path / "bedroom.masklet"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(project), ""))
    key(qtbot, w, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert project.is_file() and not w.isWindowModified() and "bedroom.masklet" in w.windowTitle()

    # reopen in a fresh window: every mask, prompt and object is back
    (tmp_path / "other").mkdir()
    other = open_window(qtbot, settings_with_model(tmp_path / "other", None), load_model=False)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(project), ""))
    other.actions["file.open_project"].trigger()
    doc, back = s.doc.document, other.session.doc.document
    assert back.objects == doc.objects
    assert {(o, f): e for o, f, e in back.iter_masks()} == {(o, f): e for o, f, e in doc.iter_masks()}
    assert np.array_equal(back.prompt(1, 0).points, doc.prompt(1, 0).points)
    assert other.timeline.lanes[1].states[5] == 5  # LaneState.EDITED
    other.close()

    # export COCO through the dialog and read it back with pycocotools
    from pycocotools.coco import COCO
    from pycocotools import mask as mask_utils
    from ui.export_dialog import ExportDialog

    out = tmp_path / "coco.json"
    dialog = ExportDialog(s.doc.document, str(tmp_path), w)
    qtbot.addWidget(dialog)
    dialog.set_format("coco")
    dialog.path.setText(str(out))
    with qtbot.waitSignal(dialog.accepted, timeout=60000):
        qtbot.mouseClick(dialog.buttons.button(dialog.buttons.StandardButton.Ok), LEFT)
    coco = COCO(str(out))
    anns = coco.loadAnns(coco.getAnnIds())
    present = [(o, f, e) for o, f, e in doc.iter_masks() if e.rle.area > 0]
    assert len(anns) == len(present)
    ones = [mask_utils.decode(a["segmentation"]).astype(bool) for a in anns if a["track_id"] == 1]
    assert len(ones) == sum(1 for o, _, _ in present if o == 1)
    assert any(np.array_equal(m, after) for m in ones)  # the brushed frame, pixel for pixel
