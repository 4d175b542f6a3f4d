"""Issue 17 (timeline and review) through the real window: zoom with Ctrl+wheel, the +/- actions,
fit and a scale in pixels, scrolling with the playhead kept in view on an hour of video, a cell's
tooltip, the legend, lock marks visible under the playhead, the range as numbers, J with the
Preferences' thresholds, keyframe jumps, the timeline's context menu (undoable), and review mode
(accept and step, accept range, notes, progress in the status bar) kept through save and load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QToolTip

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from core.masks import encode
from core.types import Prompt, VideoInfo
from tests.ui_helpers import close_window, open_window, settings_with_model
from ui.timeline import LABEL_W, LANES_TOP
from ui.timeline_paint import LANE_H, LOCKED

pytestmark = pytest.mark.gui
H, W = 24, 32


class _Frames:
    """A frame source of ``n`` grey frames (an hour of video costs nothing to make)."""

    def __init__(self, n: int) -> None:
        self.info = VideoInfo(W, H, n, 30.0)

    def __len__(self) -> int:
        return self.info.frame_count

    def get(self, i: int) -> np.ndarray:
        return np.full((H, W, 3), 90, np.uint8)


def _entry(source=MaskSource.PROPAGATED, iou=0.95, rows=6, **kw) -> MaskEntry:
    m = np.zeros((H, W), bool)
    m[:rows, :8] = True
    return MaskEntry(encode(m), source, object_score=2.0 if source is not MaskSource.EDITED else None,
                     iou=iou if source is not MaskSource.EDITED else None, **kw)


def _load(w, n: int, objects: int = 2) -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("long.mp4", W, H, n, 30.0))
    for k in range(objects):
        doc.add_object(f"obj {k + 1}")
    for f in range(0, min(n, 400)):
        doc.masks[1][f] = _entry()
    doc.masks[1][0] = _entry(MaskSource.PROMPTED)
    doc.prompts[1][0] = Prompt(0, 1, np.array([[3.0, 3.0]], np.float32), np.array([1], np.int32))
    doc.masks[1][100] = _entry(iou=0.55)  # above the default 0.5, below a stricter 0.6
    doc.masks[1][200] = _entry(iou=0.3)
    doc.masks[1][250] = _entry(MaskSource.EDITED, locked=True)
    doc.masks[2][n - 10] = _entry(MaskSource.EDITED)
    w.session._set_video(_Frames(n), doc, None, worker_opened=True)  # no file: the worker is not asked
    return doc


@pytest.fixture
def window(qtbot, tmp_path: Path):
    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    w.resize(1400, 900)
    yield w
    close_window(w)


def _wheel(widget, x: float, y: float, delta: int, mods) -> None:
    pos = QPointF(x, y)
    event = QWheelEvent(pos, widget.mapToGlobal(pos), QPoint(0, 0), QPoint(0, delta), Qt.MouseButton.NoButton, mods,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_zoom_scroll_and_playhead_on_an_hour_of_video(qtbot, window) -> None:
    w, tl = window, window.timeline
    _load(w, 108_000)
    view = tl.view
    assert view.fitted and view.px_per_frame < 0.02  # the whole hour fits: a frame is a fraction of a pixel
    # Ctrl+wheel zooms at the cursor: the frame under it stays under it
    x = LABEL_W + 300.0
    under = tl.frame_at(x)
    for _ in range(20):
        _wheel(tl, x, 40, 120, Qt.KeyboardModifier.ControlModifier)
    assert view.px_per_frame > 1.0 and abs(tl.frame_at(x) - under) <= 1
    # "1 frame = N px" and the +/- actions (anchored at the playhead when it is in view)
    panel = w.findChild(object, "timelinePanel")
    panel.scale.setValue(8.0)
    assert view.px_per_frame == 8.0 and panel.scale.value() == 8.0
    w.actions["timeline.zoom_in"].trigger()
    assert view.px_per_frame == pytest.approx(12.0) and panel.scale.value() == pytest.approx(12.0)
    w.actions["timeline.zoom_out"].trigger()
    assert view.px_per_frame == pytest.approx(8.0)
    # seeking far away scrolls the view so the playhead stays in view
    w.session.set_frame(90_000)
    assert 0 <= view.x_of(90_000) and view.x_of(90_001) <= view.width
    assert panel.hbar.value() == round(view.first * view.px_per_frame)
    # the horizontal scroll bar and Shift+wheel scroll the view
    panel.hbar.setValue(0)
    assert view.first == 0.0
    _wheel(tl, x, 40, -120, Qt.KeyboardModifier.ShiftModifier)
    assert view.first > 0
    # the thumbnails follow the zoomed span, not the whole video
    assert tl.thumbnails._span[1] == pytest.approx(view.visible_frames)
    w.actions["timeline.fit"].trigger()
    assert view.fitted and view.first == 0.0 and tl.thumbnails._span == (0.0, None)


def test_tooltip_legend_and_lock_mark_under_the_playhead(qtbot, window) -> None:
    w, tl = window, window.timeline
    _load(w, 108_000)
    tl.set_px_per_frame(10.0)
    w.session.set_frame(250)  # a locked, hand-edited frame
    y = LANES_TOP + LANE_H // 2
    tl.scroll_to(150)
    x = int(tl.x_of(200.5))
    text = tl.tooltip_at(QPoint(x, y))
    assert text.startswith("Frame 200 · obj 1 (#1)") and "Source: propagated" in text
    assert "Predicted IoU: 0.300" in text and "object score: +2.00" in text and "Area: 48 px" in text
    assert "Suspect: predicted IoU below 0.50" in text
    QApplication.sendEvent(tl, QHelpEvent(QEvent.Type.ToolTip, QPoint(x, y), tl.mapToGlobal(QPoint(x, y))))
    assert QToolTip.isVisible() and QToolTip.text() == text
    # the legend names every colour the lanes use
    panel = w.findChild(object, "timelinePanel")
    assert panel.legend.isHidden()
    panel.legend_button.click()
    assert panel.legend.isVisible()
    # the lock bar of the frame under the playhead is painted over the playhead
    image = tl.grab().toImage()
    lx = int((tl.x_of(250) + tl.x_of(251)) / 2)
    assert image.pixelColor(lx, LANES_TOP + 2).name() == LOCKED.name()


def test_range_numbers_j_thresholds_and_keyframes(qtbot, window, tmp_path) -> None:
    from ui.preferences_dialog import PreferencesDialog

    w, tl = window, window.timeline
    _load(w, 2000)
    panel = w.findChild(object, "timelinePanel")
    panel.first.setValue(120)
    panel.last.setValue(180)
    assert tl.selection == (120, 180)
    panel.last.setValue(100)  # a last frame before the first moves the first along
    assert tl.selection == (100, 100) and (panel.first.value(), panel.last.value()) == (100, 100)
    tl.set_px_per_frame(4.0)
    x = int(tl.x_of(10.5))
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(x, 40))
    qtbot.mouseMove(tl, QPoint(int(tl.x_of(14.5)), 40))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(int(tl.x_of(14.5)), 40))
    assert tl.selection == (10, 14) and (panel.first.value(), panel.last.value()) == (10, 14)
    panel.clear_range.click()
    assert tl.selection is None
    # J visits what the timeline paints red; a stricter threshold in Preferences changes both
    w.session.set_frame(0)
    w.actions["nav.next_issue"].trigger()
    assert w.session.frame == 200
    dialog = PreferencesDialog(w.settings, 0.5, True, 20, w)
    dialog.low_iou.setValue(0.6)
    dialog.accept()
    w.apply_settings()
    assert tl.thresholds.low_iou == pytest.approx(0.6)
    w.session.set_frame(0)
    w.actions["nav.next_issue"].trigger()
    assert w.session.frame == 100 and tl.runs(1).suspect[np.searchsorted(tl.runs(1).ends, 100, side="right")]
    w.actions["nav.previous_issue"].trigger()
    assert w.session.frame == 100  # nothing before: stays
    # keyframes: the selected object's (K) and any object's (Ctrl+K)
    w.session.select_object(1)
    w.session.set_frame(0)
    w.actions["nav.next_keyframe"].trigger()
    assert w.session.frame == 250
    w.actions["nav.next_keyframe"].trigger()
    assert w.session.frame == 250
    w.actions["nav.next_keyframe_any"].trigger()
    assert w.session.frame == 1990
    w.actions["nav.previous_keyframe_any"].trigger()
    assert w.session.frame == 250


def test_context_menu_locks_clears_and_accepts_through_undo(qtbot, window) -> None:
    w, tl = window, window.timeline
    doc = _load(w, 2000)
    tl.set_selection(10, 19)
    menu = w.timeline_menu.build(1, 15)
    entries = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert set(entries) >= {"lockRange", "unlockRange", "clearRange", "acceptRange", "propagateForward"}
    entries["lockRange"].trigger()
    assert all(doc.mask(1, f).locked for f in range(10, 20)) and not doc.mask(1, 20).locked
    assert tl.lanes[1].locked[10:20].all()
    w.session.undo()
    assert not any(doc.mask(1, f).locked for f in range(10, 20))
    w.session.redo()
    assert w.timeline_menu.target(1, 5).first == 5 == w.timeline_menu.target(1, 5).last  # outside: that frame
    unlock = {a.objectName(): a for a in w.timeline_menu.build(1, 12).actions()}["unlockRange"]
    unlock.trigger()
    assert not any(doc.mask(1, f).locked for f in range(10, 20))
    doc_before = {f: doc.mask(1, f) for f in range(10, 20)}
    w.session.set_locked(1, [14], True)
    {a.objectName(): a for a in w.timeline_menu.build(1, 12).actions()}["clearRange"].trigger()
    assert [f for f in range(10, 20) if doc.mask(1, f) is not None] == [14]  # the locked one is kept
    w.session.undo()  # the whole clear is one step
    assert all(doc.mask(1, f) is not None for f in range(10, 20)) and doc.mask(1, 11).rle == doc_before[11].rle
    {a.objectName(): a for a in w.timeline_menu.build(1, 12).actions()}["acceptRange"].trigger()
    assert all(doc.mask(1, f).reviewed and doc.mask(1, f).locked for f in range(10, 20))
    assert tl.lanes[1].reviewed[10:20].all()
    w.session.undo()
    assert not any(doc.mask(1, f).reviewed for f in range(10, 20))
    # propagate from here needs a model: it says so and leaves the frame at the click
    assert {a.objectName(): a for a in w.timeline_menu.build(1, 300).actions()}["propagateForward"].trigger() is None
    assert w.session.frame == 300


def test_review_mode_accepts_steps_notes_and_survives_save_and_load(qtbot, window, tmp_path, shared_data) -> None:
    w = window
    assert w.open_path(str(shared_data / "frames" / "bedroom"))  # a real video, so the project can be saved
    s = w.session
    obj = s.add_object("cat")
    for f in range(3, 9):
        s.doc.set_mask(obj, f, _mask_entry(s.video.height, s.video.width))
    w.actions["review.mode"].trigger()
    assert w.review_dock.isVisible()
    panel = w.review_dock.widget()
    s.set_frame(3)
    qtbot.waitUntil(lambda: "0 / 6" in w.review.label.text())
    assert panel.objects.count() == 1 and panel.objects.item(0).checkState() == Qt.CheckState.Unchecked
    w.actions["review.accept_frame"].trigger()  # R: accept frame 3, step to the next frame to review
    assert s.frame == 4 and s.doc.mask(obj, 3).reviewed and s.doc.mask(obj, 3).locked
    qtbot.waitUntil(lambda: w.review.label.text() == "Reviewed 1 / 6 frames (17 %)")
    panel.objects.item(0).setCheckState(Qt.CheckState.Checked)  # the panel's box accepts frame 4
    assert s.doc.mask(obj, 4).reviewed
    w.timeline.set_selection(5, 8)
    w.actions["review.accept_range"].trigger()
    assert all(s.doc.mask(obj, f).reviewed for f in range(3, 9))
    qtbot.waitUntil(lambda: w.review.label.text() == "Reviewed 6 / 6 frames (100 %)")
    s.undo()  # accept range is one step
    assert not any(s.doc.mask(obj, f).reviewed for f in range(5, 9)) and s.doc.mask(obj, 4).reviewed
    s.redo()
    s.set_frame(6)
    panel.note.setPlainText("tail cut off")
    panel.save_note.click()
    assert s.doc.object(obj).notes == {6: "tail cut off"}
    path = tmp_path / "reviewed.masklet"
    s.save(str(path))
    s.open_project(str(path))
    assert all(s.doc.mask(obj, f).reviewed and s.doc.mask(obj, f).locked for f in range(3, 9))
    assert s.doc.object(obj).notes == {6: "tail cut off"}
    qtbot.waitUntil(lambda: w.review.label.text() == "Reviewed 6 / 6 frames (100 %)")
    s.set_frame(6)
    assert panel.note.toPlainText() == "tail cut off"
    w.actions["review.mode"].trigger()
    assert not w.review_dock.isVisible()


def _mask_entry(height: int, width: int) -> MaskEntry:
    m = np.zeros((height, width), bool)
    m[10:60, 20:90] = True
    return MaskEntry(encode(m), MaskSource.PROPAGATED, object_score=3.0, iou=0.9)
