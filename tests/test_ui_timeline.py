"""The timeline: lane states from the document, squeezing many frames into few pixels, issue frames,
and seeking / range selection with the mouse on the real widget."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt

from annotator.document import AnnotationDocument, MaskEntry, MaskSource, VideoRef
from annotator.session_controller import SessionController
from annotator.worker import WorkerHandle
from core.masks import encode
from core.types import VideoInfo
from ui.timeline import Timeline
from ui.timeline_model import Lane, LaneState, columns, issue_frames, next_issue

H, W, N = 20, 30, 50


def _mask(area_rows: int) -> np.ndarray:
    m = np.zeros((H, W), bool)
    m[:area_rows, :10] = True
    return m


def _doc() -> AnnotationDocument:
    doc = AnnotationDocument(VideoRef("v.mp4", W, H, N, 10.0))
    doc.add_object("a")
    for f in range(10):
        doc.set_mask(1, f, MaskEntry(encode(_mask(5)), MaskSource.PROPAGATED, object_score=2.0, iou=0.9))
    doc.set_mask(1, 0, MaskEntry(encode(_mask(5)), MaskSource.PROMPTED, object_score=2.0, iou=0.95))
    doc.set_mask(1, 3, MaskEntry(encode(_mask(5)), MaskSource.EDITED, locked=True))
    doc.set_mask(1, 6, MaskEntry(encode(_mask(5)), MaskSource.PROPAGATED, object_score=2.0, iou=0.3))  # low
    doc.set_mask(1, 8, MaskEntry(encode(_mask(15)), MaskSource.PROPAGATED, object_score=2.0, iou=0.9))  # jump 5 -> 15 rows
    doc.set_mask(1, 9, MaskEntry(encode(np.zeros((H, W), bool)), MaskSource.PROPAGATED, object_score=-3.0, iou=0.9))
    return doc


def test_lane_states_locks_and_confidence() -> None:
    doc = _doc()
    lane = Lane.empty(N)
    lane.update(doc, 1)
    assert lane.states[0] == LaneState.PROMPTED and lane.states[1] == LaneState.PROPAGATED
    assert lane.states[3] == LaneState.EDITED and lane.locked[3] and not lane.locked[2]
    assert lane.states[9] == LaneState.ABSENT and lane.states[10] == LaneState.NONE
    assert lane.iou[6] == pytest.approx(0.3) and np.isnan(lane.iou[3]) and np.isnan(lane.iou[20])
    doc.set_mask(1, 1, None)
    lane.update(doc, 1, [1])
    assert lane.states[1] == LaneState.NONE


def test_columns_keep_the_strongest_state_and_the_lowest_confidence() -> None:
    states = np.zeros(1000, np.int8)
    states[501] = LaneState.EDITED
    squeezed = columns(states, 100, "max")
    assert squeezed.shape == (100,) and squeezed[50] == LaneState.EDITED and squeezed.sum() == LaneState.EDITED
    iou = np.full(1000, np.nan, np.float32)
    iou[10:20] = 0.9
    iou[15] = 0.2
    low = columns(iou, 100, "min")
    assert low[1] == pytest.approx(0.2) and np.isnan(low[50])


def test_issue_frames_low_confidence_area_jump_and_vanishing() -> None:
    issues = issue_frames(_doc(), [1])
    assert issues == [6, 8, 9]
    assert next_issue(issues, 0) == 6 and next_issue(issues, 6) == 8 and next_issue(issues, 9) is None
    assert next_issue(issues, 8, forward=False) == 6 and next_issue(issues, 6, forward=False) is None


class _Frames:
    info = VideoInfo(W, H, N, 10.0)

    def __len__(self) -> int:
        return N

    def get(self, i: int) -> np.ndarray:
        return np.zeros((H, W, 3), np.uint8)


@pytest.fixture
def session(qtbot):
    handle = WorkerHandle(loader=lambda s: None, factory=lambda *a: None, opener=lambda p, mb: _Frames())
    s = SessionController(handle, frame_opener=lambda p, mb: _Frames(), fingerprinter=lambda p: "fp")
    s.open_video("v.mp4")
    doc = _doc()
    doc.video = s.video
    s._set_video(_Frames(), doc, None)
    yield s
    assert s.shutdown()


def test_click_seeks_and_shift_drag_selects_a_range(qtbot, session) -> None:
    tl = Timeline(session)
    qtbot.addWidget(tl)
    tl.resize(120 + 4 + 500, 80)  # 10 px per frame
    tl.show()
    qtbot.waitExposed(tl)
    assert tl.lanes[1].states[0] == LaneState.PROMPTED
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=QPoint(int(tl.x_of(7.5)), 40))
    assert session.frame == 7
    ranges: list[tuple[int, int]] = []
    tl.rangeChanged.connect(lambda a, b: ranges.append((a, b)))
    qtbot.mousePress(tl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(int(tl.x_of(20.5)), 40))
    qtbot.mouseMove(tl, QPoint(int(tl.x_of(12.5)), 40))
    qtbot.mouseRelease(tl, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(int(tl.x_of(12.5)), 40))
    assert tl.selection == (12, 20) and ranges[-1] == (12, 20)
    assert session.frame == 7  # selecting does not seek
    assert tl.frame_at(-100) == 0 and tl.frame_at(10_000) == N - 1


def test_lanes_follow_mask_changes(qtbot, session) -> None:
    tl = Timeline(session)
    qtbot.addWidget(tl)
    session.doc.set_mask(1, 30, MaskEntry(encode(_mask(3)), MaskSource.EDITED))
    assert tl.lanes[1].states[30] == LaneState.EDITED
    session.add_object("b")
    assert set(tl.lanes) == {1, 2}


# -- thumbnail strip ----------------------------------------------------------------------------
def test_strip_layout_fits_slots_and_picks_the_frame_under_each_centre() -> None:
    from ui.thumbnail_strip import strip_layout

    layout = strip_layout(100, 64, 32, 700.0, 20)  # thumbnails 40 px wide: 17 fit
    assert len(layout.frames) == 17 and layout.slot_w == pytest.approx(700 / 17)
    assert layout.frames[0] == int(0.5 / 17 * 100) and layout.frames[-1] == int(16.5 / 17 * 100)
    assert strip_layout(3, 64, 32, 700.0, 20).frames == (0, 1, 2)  # never more slots than frames
    assert strip_layout(0, 64, 32, 700.0, 20).frames == ()


def test_window_strip_shows_real_thumbnails_decoded_off_the_gui_thread(qtbot, tmp_path, shared_data) -> None:
    import threading

    from tests.ui_helpers import close_window, open_window, settings_with_model
    from ui.thumbnail_strip import strip_layout
    from ui.timeline import THUMB_H

    w = open_window(qtbot, settings_with_model(tmp_path, None), load_model=False)
    strip = w.timeline.thumbnails
    try:
        assert strip.layout.frames == () and not strip.images
        assert w.open_path(str(shared_data / "frames" / "bedroom"))  # 24 frames
        source = w.session.frames
        threads: list[int] = []
        real = source.thumbnail

        def recording(index: int, height: int) -> np.ndarray:
            threads.append(threading.get_ident())
            return real(index, height)

        source.thumbnail = recording  # before the event loop runs: the strip asks only once resizing settles
        qtbot.waitUntil(strip.complete, timeout=60000)
        info = source.info
        expected = strip_layout(len(source), info.width, info.height, w.timeline.track_rect().width(), THUMB_H)
        assert strip.layout == expected and len(expected.frames) >= 2
        assert len(strip.images) == len(expected.frames)
        for frame in expected.frames:
            image = strip.images[frame].convertToFormat(strip.images[frame].Format.Format_RGB888)
            h, wd = image.height(), image.width()
            rows = np.frombuffer(image.constBits(), np.uint8, count=image.sizeInBytes()).reshape(h, image.bytesPerLine())
            assert np.array_equal(rows[:, : 3 * wd].reshape(h, wd, 3), real(frame, THUMB_H))
        # neighbouring slots show different frames, so the pictures differ too
        first, last = expected.frames[0], expected.frames[-1]
        assert not np.array_equal(real(first, THUMB_H), real(last, THUMB_H))
        assert threads and threading.get_ident() not in threads
        assert set(threads) == {strip.loader._thread.ident}

        # narrower: fewer slots, recomputed after the resize settles
        w.resize(w.width() // 2, w.height())  # the timeline's dock narrows with the window
        qtbot.waitUntil(lambda: strip.layout != expected and strip.complete(), timeout=60000)
        assert len(strip.layout.frames) < len(expected.frames)
        assert threading.get_ident() not in threads

        # a closed video leaves an empty strip
        strip.set_source(None)
        assert strip.layout.frames == () and not strip.images
    finally:
        close_window(w)
    assert strip.loader._thread.is_alive() is False


def test_thumbnails_wait_while_the_model_computes_for_the_annotator(qtbot, session, monkeypatch) -> None:
    import ui.background as strip_module  # where the loader threads make their condition
    from tests.thread_helpers import watch_conditions
    from ui.thumbnail_strip import ThumbnailLoader

    decoded: list[int] = []

    class Source:
        def thumbnail(self, frame: int, height: int) -> np.ndarray:
            decoded.append(frame)
            return np.zeros((height, 2 * height, 3), np.uint8)

    made = watch_conditions(monkeypatch, strip_module)
    loader = ThumbnailLoader()
    (cond,) = made
    try:
        loader.hold(True)
        with cond:  # the loader's thread can look at the job only after this block
            before = len(cond.waits)
            loader.request(1, Source(), [0, 1, 2], 20)
        # it saw the job while held and went back to sleep without decoding anything
        assert cond.wait_until(lambda waits: len(waits) > before)
        assert decoded == [] and not loader.idle()
        loader.hold(False)
        qtbot.waitUntil(lambda: decoded == [0, 1, 2] and loader.idle(), timeout=60000)
    finally:
        loader.stop()

    tl = Timeline(session)  # the window's strip follows the session's busy state
    qtbot.addWidget(tl)
    session.model_status.busyChanged.emit(True)
    assert tl.thumbnails.loader._held
    session.model_status.busyChanged.emit(False)
    assert not tl.thumbnails.loader._held
