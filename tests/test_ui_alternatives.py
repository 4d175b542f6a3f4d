"""SAM 2's alternatives in the real window (worker thread, real engine, a random SAM 2 whose objects
are present): after a click the chooser shows three masks; A and Shift+A cycle through them as one
undo step, the document holds the chosen mask, the engine follows (its next click starts from the
chosen one), the choice survives save and load, and undo brings back SAM 2's own choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from annotator.model_status import ModelState
from annotator.project import load_project
from tests.ui_helpers import LEFT, close_window, open_window, present_checkpoint, settings_with_model, view_point, wait_shown

pytestmark = pytest.mark.gui


@pytest.mark.slow
def test_cycling_sam2_masks_is_one_undo_step_the_engine_follows(qtbot, tmp_path: Path, shared_data: Path) -> None:
    checkpoint = present_checkpoint(tmp_path / "random.pt")
    w = open_window(qtbot, settings_with_model(tmp_path, checkpoint))
    try:
        s = w.session
        assert w.open_path(str(shared_data / "frames" / "bedroom"))
        wait_shown(qtbot, w)
        qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=60000)
        chooser = w.label_actions.chooser
        assert not chooser.isVisible()
        qtbot.keyClick(w.canvas, Qt.Key.Key_A)  # nothing to choose yet: said so, nothing changes
        assert s.undo_stack.index() == 0
        qtbot.keyClick(w.canvas, Qt.Key.Key_N)
        steps = s.undo_stack.index()
        qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 300, 200))
        qtbot.waitUntil(lambda: s.undo_stack.index() == steps + 1, timeout=60000)
        qtbot.waitUntil(chooser.isVisible, timeout=10000)
        offer = s.alternatives.available()
        assert offer is not None and len(offer.masks) == 3
        best = offer.best
        assert s.doc.mask(1, 0).rle.counts == offer.masks[best].rle.counts
        assert chooser.buttons[best].isChecked() and "★" in chooser.buttons[best].text()
        qtbot.keyClick(w.canvas, Qt.Key.Key_A)
        qtbot.keyClick(w.canvas, Qt.Key.Key_A)
        third = (best + 2) % 3
        assert s.alternatives.index() == third and chooser.buttons[third].isChecked()
        assert s.undo_stack.index() == steps + 2  # the click, and one step for both choices
        assert s.doc.mask(1, 0).rle.counts == offer.masks[third].rle.counts
        last = s.doc.document.inputs[-1]
        assert last.prompt.choice == third and len(s.doc.document.inputs) == 1
        qtbot.waitUntil(lambda: not s.model_status.busy, timeout=60000)
        # the engine follows the document: the next request brings it to the chosen mask
        chooser.buttons[(third + 1) % 3].click()
        assert s.alternatives.index() == (third + 1) % 3 and s.undo_stack.index() == steps + 2
        s.save(str(tmp_path / "p.masklet"))
        doc, _ = load_project(tmp_path / "p.masklet")
        k = (third + 1) % 3
        assert doc.prompts[1][0].choice == (None if k == best else k)  # SAM 2's own choice is stored as none
        qtbot.mouseClick(w.canvas.viewport(), Qt.MouseButton.RightButton, pos=view_point(w, 600, 400))
        qtbot.waitUntil(lambda: s.undo_stack.index() == steps + 3, timeout=60000)
        service = s.worker.worker.service
        qtbot.waitUntil(lambda: not s.model_status.busy, timeout=60000)
        assert service.follower.applied == tuple(s.doc.document.inputs)
        assert not chooser.isVisible()  # two clicks: SAM 2 gives one mask
        qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the second click
        qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # the choices
        assert s.doc.mask(1, 0).rle.counts == offer.masks[best].rle.counts and s.alternatives.index() == best
        assert chooser.isVisible() and s.doc.document.inputs[-1].prompt.choice is None
    finally:
        close_window(w)
