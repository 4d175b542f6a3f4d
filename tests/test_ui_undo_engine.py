"""Undo reaches the engine, in the real window: click A, click B, undo, click C gives the mask of a
window that only ever saw A then C (the worker thread, the real engine, a random SAM 2)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from annotator.model_status import ModelState
from tests.ui_helpers import LEFT, close_window, open_window, present_checkpoint, settings_with_model, view_point, wait_shown

pytestmark = pytest.mark.gui

A, B, C = (300, 200), (600, 380), (420, 120)


def annotate(qtbot, home: Path, checkpoint: Path, video: Path, gestures: list) -> bytes:
    """Open ``video`` in a new window, add an object, do ``gestures`` (points or "undo"), return the mask."""
    home.mkdir()
    w = open_window(qtbot, settings_with_model(home, checkpoint))
    try:
        s = w.session
        assert w.open_path(str(video))
        wait_shown(qtbot, w)
        qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=60000)
        qtbot.keyClick(w.canvas, Qt.Key.Key_N)
        for gesture in gestures:
            steps = s.undo_stack.index()
            if gesture == "undo":
                qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
                assert s.undo_stack.index() == steps - 1
            else:
                qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, *gesture))
                qtbot.waitUntil(lambda: s.undo_stack.index() == steps + 1, timeout=60000)  # its mask came back
        service = s.worker.worker.service
        qtbot.waitUntil(lambda: not s.model_status.busy, timeout=60000)
        assert service.follower.applied == tuple(s.doc.document.inputs)  # the engine holds what the document holds
        return s.doc.mask(1, 0).rle.counts
    finally:
        close_window(w)


@pytest.mark.slow
def test_click_a_b_undo_c_in_the_window_equals_a_then_c(qtbot, tmp_path: Path, shared_data: Path) -> None:
    checkpoint = present_checkpoint(tmp_path / "random.pt")
    video = shared_data / "frames" / "bedroom"
    with_undo = annotate(qtbot, tmp_path / "one", checkpoint, video, [A, B, "undo", C])
    fresh = annotate(qtbot, tmp_path / "two", checkpoint, video, [A, C])
    assert with_undo == fresh  # before the engine followed the document, B's output was fed back here
