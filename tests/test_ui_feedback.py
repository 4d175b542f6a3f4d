"""Never wait without being told why (issue 15), through the real main window with an engine that
holds each call until the test lets it go: pending clicks, what the model is doing, queued clicks
coalesced, empty results, cancel feedback, progress text."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt

from annotator.model_loading import LoadedModel
from annotator.model_status import ModelState
from annotator.worker import WorkerHandle
from core.frames import open_frames
from core.masks import encode
from core.checkpoints.runtime import ModelSelection
from core.types import Direction, FrameResult, ObjectMask
from tests.thread_helpers import HANG_S
from tests.ui_helpers import LEFT, settings_with_model, view_point, wait_shown
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui


class GatedEngine:
    """Every prompt and every tracked frame waits for ``gate``; masks are a fixed square (or
    nothing, with ``empty``); no frame's features are cached until a prompt ran there."""

    def __init__(self, model, frames, cache) -> None:
        self.h, self.w = frames.info.height, frames.info.width
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.prompts: list[int] = []  # points of each prompt the engine got
        self.encoded: set[int] = set()
        self.empty = False
        ENGINES.append(self)

    def _mask(self, frame: int, obj_ids) -> FrameResult:
        m = np.zeros((self.h, self.w), bool)
        if not self.empty:
            m[50:150, 100:300] = True
        return FrameResult(frame, {o: ObjectMask(o, encode(m), 2.0, 0.9) for o in obj_ids})

    def add_prompt(self, prompt, clear_old=True):
        self.entered.set()
        assert self.gate.wait(HANG_S)
        self.prompts.append(len(prompt.points))
        self.encoded.add(prompt.frame)
        return self._mask(prompt.frame, [prompt.obj_id])

    def has_features(self, frame):
        return frame in self.encoded

    def propagate(self, start_frame=None, direction=Direction.FORWARD, *, end_frame=None, obj_ids=None,
                  locked=None, cancel=None, return_logits=False):
        last = 23 if end_frame is None else end_frame
        for frame in range(start_frame, last + 1):
            if cancel():
                return
            self.entered.set()
            assert self.gate.wait(HANG_S)
            yield self._mask(frame, obj_ids)

    def add_mask(self, frame, obj_id, mask): return self._mask(frame, [obj_id])
    def remove_object(self, obj_id): ...
    def set_memory_policy(self, obj_id, policy): ...
    def clear_prompts(self, frame, obj_id=None): ...
    def prefetch_features(self, frame): ...
    def checkpoint(self): ...
    def restore(self, checkpoint): ...


ENGINES: list[GatedEngine] = []


@pytest.fixture
def window(qtbot, tmp_path: Path, shared_data: Path):
    ENGINES.clear()
    worker = WorkerHandle(loader=lambda sel: LoadedModel("fake", "cpu · fp32"), factory=GatedEngine,
                          opener=lambda path, mb: open_frames(path, cache_mb=mb))
    w = MainWindow(settings=settings_with_model(tmp_path, None), worker=worker, load_model=False)
    qtbot.addWidget(w, before_close_func=lambda win: (ENGINES and ENGINES[-1].gate.set(), win.session.undo_stack.setClean()))
    w.show()
    qtbot.waitExposed(w)
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    wait_shown(qtbot, w)
    w.session.model_status.load(ModelSelection(tmp_path / "fake.pt"))
    qtbot.waitUntil(lambda: w.session.model_status.state is ModelState.READY and bool(ENGINES), timeout=60000)
    w.session.add_object()
    yield w
    ENGINES[-1].gate.set()


def click(qtbot, w: MainWindow, x: float, y: float) -> None:
    qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, x, y))


def test_a_click_on_an_unencoded_frame_shows_pending_until_its_mask_arrives(qtbot, window: MainWindow) -> None:
    w, s, engine = window, window.session, ENGINES[-1]
    click(qtbot, w, 150, 100)
    qtbot.waitUntil(engine.entered.is_set, timeout=60000)  # the engine has the click and holds it
    assert w.canvas.pending_marker_count() == 1 and w.canvas.marker_count() == 1
    assert w.canvas.viewport().cursor().shape() == Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: "encoding frame 0" in w.status.model_label.text(), timeout=60000)
    assert s.doc.mask(1, 0) is None
    engine.gate.set()
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    assert w.canvas.pending_marker_count() == 0 and w.canvas.marker_count() == 1
    assert w.canvas.viewport().cursor().shape() != Qt.CursorShape.BusyCursor
    qtbot.waitUntil(lambda: w.status.model_label.text() == "SAM 2: model ready (cpu · fp32)", timeout=60000)


def test_clicks_queued_on_one_frame_go_to_sam2_as_one_prompt(qtbot, window: MainWindow) -> None:
    w, s, engine = window, window.session, ENGINES[-1]
    click(qtbot, w, 150, 100)
    qtbot.waitUntil(engine.entered.is_set, timeout=60000)
    click(qtbot, w, 200, 120)
    click(qtbot, w, 250, 130)
    assert "2 clicks queued" in w.status.model_label.text()
    assert w.canvas.marker_count() == 3 and w.canvas.pending_marker_count() == 3
    engine.gate.set()
    qtbot.waitUntil(lambda: s.undo_stack.index() == 3, timeout=60000)  # add object, first click, the rest
    assert engine.prompts == [1, 3]  # two requests: the first click, then all three together
    assert len(s.doc.prompt(1, 0).points) == 3 and w.canvas.pending_marker_count() == 0


def test_an_empty_result_says_so(qtbot, window: MainWindow) -> None:
    w, s, engine = window, window.session, ENGINES[-1]
    engine.empty = True
    engine.gate.set()
    click(qtbot, w, 150, 100)
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    assert "SAM 2 found no object here" in w.status.currentMessage()


def test_cancel_says_cancelling_at_once_and_ends_with_the_frames_kept(qtbot, window: MainWindow) -> None:
    w, s, engine = window, window.session, ENGINES[-1]
    engine.gate.set()
    click(qtbot, w, 150, 100)
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    engine.gate.clear()
    engine.entered.clear()
    w.actions["track.forward"].trigger()
    qtbot.waitUntil(engine.entered.is_set, timeout=60000)  # the first frame is being tracked
    progress = w.progress
    assert progress.isVisible() and progress.cancel_button.isEnabled()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Escape)
    assert progress.label.text() == "Cancelling…" and not progress.cancel_button.isEnabled()
    assert w.status.currentMessage().startswith("Cancelling")
    engine.gate.set()  # the frame in progress finishes; the engine sees the flag before the next
    qtbot.waitUntil(lambda: s.runs.current is None, timeout=60000)
    assert w.status.currentMessage() == "Cancelled: kept 1 frame."
    assert not progress.isVisible()
    assert s.undo_stack.undoText().startswith("Propagate (cancelled) 1 frames")


def test_progress_reads_in_frames_per_second_or_seconds_per_frame_with_the_time_left(qtbot, window: MainWindow) -> None:
    w, s, engine = window, window.session, ENGINES[-1]
    engine.gate.set()
    click(qtbot, w, 150, 100)
    qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=60000)
    shown: list[str] = []
    s.runs.progress.connect(lambda p: shown.append(w.progress.label.text()))
    with qtbot.waitSignal(s.runs.finished, timeout=60000):
        s.runs.propagate(Direction.FORWARD, None, (0, 5))
    assert shown[0] == "0/6 frames"  # nothing measured yet: no rate, no time left
    assert all(t.startswith(f"{n}/6 frames, ") and ("frames/s" in t or "s/frame" in t) and t.endswith(" left")
               for n, t in enumerate(shown[1:], start=1)), shown
    assert w.status.currentMessage() == "Propagation done: 6 frames."
