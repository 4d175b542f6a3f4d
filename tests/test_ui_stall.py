"""The GUI thread never waits on the model, checked by instrumenting the model's calls, not by timing.

- With an engine that holds each call until the test lets it go on, the real window's gestures
  (a click on the canvas, stepping frames, starting a propagation) return while the engine is
  held inside a call, and the event loop goes on running (a zero-delay timer fires, the next
  frame is decoded and shown) until the test releases it.
- With the real loader and engine (a small random SAM 2), every forward of a torch module runs
  off the GUI thread while the window loads the model, clicks and propagates.

How long the event loop actually pauses is measured in bench/gui_latency.py (docs/benchmarks.md).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt, QTimer

from annotator.session_controller import ModelState
from annotator.model_loading import LoadedModel, load_model, make_engine, open_frames
from annotator.worker import WorkerHandle
from core.masks import encode
from core.checkpoints.runtime import ModelSelection
from core.types import Direction, FrameResult, ObjectMask
from tests.thread_helpers import HANG_S
from tests.ui_helpers import LEFT, close_window, open_window, present_checkpoint, settings_with_model, view_point, wait_shown
from ui.main_window import MainWindow

pytestmark = pytest.mark.gui
WAIT_MS = 60_000  # only guards a hang


class Gate:
    """Records the thread of every engine call; while closed, each call waits inside the engine
    until the test lets one through (``let_one_through``) or opens the gate."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int]] = []  # (method, thread ident)
        self.held: str | None = None  # the call now waiting inside the engine
        self._closed = False
        self._passes = 0
        self._cond = threading.Condition()

    def close(self) -> None:
        with self._cond:
            self._closed = True

    def open(self) -> None:
        with self._cond:
            self._closed = False
            self._cond.notify_all()

    def let_one_through(self) -> None:
        with self._cond:
            self._passes += 1
            self._cond.notify_all()

    def record(self, name: str) -> None:
        """A call that never waits (the engine's own bookkeeping)."""
        with self._cond:
            self.calls.append((name, threading.get_ident()))

    def enter(self, name: str) -> None:
        with self._cond:
            self.calls.append((name, threading.get_ident()))
            if not self._closed:
                return
            self.held = name
            if not self._cond.wait_for(lambda: not self._closed or self._passes > 0, HANG_S):
                raise RuntimeError(f"{name} held for {HANG_S} s")
            if self._closed:
                self._passes -= 1
            self.held = None


class GatedEngine:
    """A square mask for every object; every call that computes passes the gate first."""

    def __init__(self, gate: Gate, frames) -> None:
        self.gate, self.h, self.w = gate, frames.info.height, frames.info.width

    def _result(self, frame: int, obj_ids) -> FrameResult:
        m = np.zeros((self.h, self.w), bool)
        m[50:150, 100:300] = True
        return FrameResult(frame, {o: ObjectMask(o, encode(m), 2.0, 0.9) for o in obj_ids})

    def add_prompt(self, prompt, clear_old=True):
        self.gate.enter("add_prompt")
        return self._result(prompt.frame, [prompt.obj_id])

    def add_mask(self, frame, obj_id, mask):
        self.gate.enter("add_mask")
        return self._result(frame, [obj_id])

    def remove_object(self, obj_id) -> None:
        self.gate.enter("remove_object")

    def clear_prompts(self, frame, obj_id=None) -> None:
        self.gate.enter("clear_prompts")

    def prefetch_features(self, frame) -> None:
        self.gate.enter("prefetch_features")

    def set_memory_policy(self, obj_id, policy) -> None:
        pass  # policies change no mask here

    def has_features(self, frame) -> bool:
        self.gate.record("has_features")
        return True

    def checkpoint(self) -> None:
        self.gate.record("checkpoint")

    def restore(self, checkpoint) -> None:
        self.gate.record("restore")

    def propagate(self, start_frame=None, direction=Direction.FORWARD, *, end_frame=None, obj_ids=None,
                  locked=None, cancel=None, return_logits=False):
        self.gate.enter("propagate")
        for frame in range(start_frame, end_frame + 1):
            if cancel():
                return
            yield self._result(frame, obj_ids)


def event_loop_runs(qtbot) -> bool:
    """Posts a zero-delay timer and waits until the GUI thread's event loop has fired it."""
    fired: list[bool] = []
    QTimer.singleShot(0, lambda: fired.append(True))
    qtbot.waitUntil(lambda: bool(fired), timeout=WAIT_MS)
    return fired == [True]


@pytest.fixture
def gated(qtbot, tmp_path: Path, shared_data: Path):
    """A window on the bedroom frames with a gated engine, the model ready, frame 0 shown."""
    gate = Gate()
    loader_threads: list[int] = []

    def loader(selection: ModelSelection) -> LoadedModel:
        loader_threads.append(threading.get_ident())
        return LoadedModel("fake", "cpu · fp32")

    worker = WorkerHandle(loader=loader, factory=lambda model, frames, cache: GatedEngine(gate, frames),
                          opener=lambda path, mb: open_frames(path, mb))
    w = MainWindow(settings=settings_with_model(tmp_path, None), worker=worker, load_model=False)
    qtbot.addWidget(w, before_close_func=lambda win: win.session.undo_stack.setClean())
    w.show()
    qtbot.waitExposed(w)
    w.activateWindow()
    w.canvas.setFocus()
    s = w.session
    assert w.open_path(str(shared_data / "frames" / "bedroom"))
    s.model_status.load(ModelSelection(tmp_path / "fake.pt"))
    qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=WAIT_MS)
    wait_shown(qtbot, w, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not s.model_status.busy, timeout=WAIT_MS)  # frame 0's features are in
    try:
        yield w, gate, loader_threads
    finally:
        gate.open()
        close_window(w)


def test_gestures_return_and_the_event_loop_runs_while_the_engine_is_busy(qtbot, gated) -> None:
    w, gate, loader_threads = gated
    s = w.session
    s.add_object()

    # the engine is busy with the next frame's features ...
    gate.close()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: gate.held == "prefetch_features", timeout=WAIT_MS)
    wait_shown(qtbot, w, timeout=WAIT_MS)  # ... and frame 1 is decoded and shown meanwhile
    assert s.frame == 1 and w.presenter.shown_frame == 1
    # a click returns at once: the request queues behind the busy engine
    qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 150, 100))
    assert gate.held == "prefetch_features" and "add_prompt" not in {name for name, _ in gate.calls}
    assert s.prompts.shown_prompt(1, 1) is not None and s.doc.mask(1, 1) is None  # the click shows, pending
    assert event_loop_runs(qtbot) and gate.held == "prefetch_features"

    # the engine computes the click's mask; the window keeps answering meanwhile
    gate.let_one_through()
    qtbot.waitUntil(lambda: gate.held == "add_prompt", timeout=WAIT_MS)
    assert event_loop_runs(qtbot) and gate.held == "add_prompt" and s.doc.mask(1, 1) is None
    gate.open()
    qtbot.waitUntil(lambda: s.doc.mask(1, 1) is not None and not s.model_status.busy, timeout=WAIT_MS)

    # a propagation starts without waiting, and streams its frames once the engine goes on
    gate.close()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: gate.held == "prefetch_features", timeout=WAIT_MS)
    run_id = s.runs.propagate(Direction.FORWARD, None, (1, 6))
    assert run_id is not None and s.runs.current is not None and s.runs.current.frames_done == 0
    gate.let_one_through()  # the prefetch; the run's own calls are next
    qtbot.waitUntil(lambda: gate.held not in (None, "prefetch_features"), timeout=WAIT_MS)
    held = gate.held
    assert event_loop_runs(qtbot) and gate.held == held and s.runs.current is not None and s.runs.current.frames_done == 0
    with qtbot.waitSignal(s.runs.finished, timeout=WAIT_MS) as finished:
        gate.open()
    assert finished.args == [False, 6]
    assert all(s.doc.mask(1, f) is not None for f in range(1, 7))

    main = threading.main_thread().ident
    names = {name for name, _ in gate.calls}
    assert {"prefetch_features", "add_prompt", "propagate"} <= names
    assert all(ident != main for _, ident in gate.calls), "an engine call ran on the GUI thread"
    assert loader_threads and main not in loader_threads


@pytest.fixture
def forwards():
    """The thread of every torch module forward run in the process while the test runs."""
    import torch

    seen: set[int] = set()
    hook = torch.nn.modules.module.register_module_forward_pre_hook(lambda module, args: seen.add(threading.get_ident()))
    try:
        yield seen
    finally:
        hook.remove()


@pytest.mark.slow
def test_the_real_model_never_runs_on_the_gui_thread(qtbot, tmp_path: Path, shared_data: Path, forwards) -> None:
    engine_threads: list[int] = []

    def engine(model, frames, cache):
        engine_threads.append(threading.get_ident())
        return make_engine(model, frames, cache)

    checkpoint = present_checkpoint(tmp_path / "random.pt")
    worker = WorkerHandle(loader=load_model, factory=engine, opener=open_frames)
    w = MainWindow(settings=settings_with_model(tmp_path, checkpoint), worker=worker)  # loads the model
    qtbot.addWidget(w, before_close_func=lambda win: win.session.undo_stack.setClean())
    w.show()
    qtbot.waitExposed(w)
    s = w.session
    try:
        assert w.open_path(str(shared_data / "frames" / "bedroom"))
        wait_shown(qtbot, w, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=WAIT_MS)
        s.add_object()
        qtbot.mouseClick(w.canvas.viewport(), LEFT, pos=view_point(w, 300, 200))
        qtbot.waitUntil(lambda: s.doc.mask(1, 0) is not None, timeout=WAIT_MS)
        with qtbot.waitSignal(s.runs.finished, timeout=WAIT_MS) as finished:
            s.runs.propagate(Direction.FORWARD, None, (0, 3))
        assert finished.args == [False, 4]
    finally:
        close_window(w)
    main = threading.main_thread().ident
    assert forwards, "no torch module ran: the hook saw nothing"
    assert main not in forwards, "a torch module ran on the GUI thread"
    assert engine_threads and main not in engine_threads
