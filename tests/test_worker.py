"""The model worker thread with an injected engine: requests, streaming, cancel, following the log, shutdown."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QObject, Qt, Signal

from annotator.model_loading import LoadedModel
from annotator.requests import LoadModelRequest, OpenVideoRequest, PrefetchRequest, PromptRequest, PropagateRequest
from annotator.worker import WorkerHandle
from core.masks import encode
from core.checkpoints.runtime import ModelSelection
from core.types import Direction, FrameResult, ObjectMask, Prompt, VideoInfo
from core.video.inputs import MaskInput, PromptInput, RemoveInput, TrackInput
from core.video.legs import Leg


class ArrayFrames:
    def __init__(self, n: int = 30, h: int = 24, w: int = 32) -> None:
        self._info = VideoInfo(w, h, n, 10.0)

    @property
    def info(self) -> VideoInfo:
        return self._info

    def __len__(self) -> int:
        return self._info.frame_count

    def get(self, index: int) -> np.ndarray:
        return np.full((self._info.height, self._info.width, 3), index, np.uint8)


class FakeEngine:
    """Records calls; a prompt's mask is its box; propagation copies the last prompt's box."""

    def __init__(self, model: object, frames: ArrayFrames, cache: int, gate: threading.Event | None = None) -> None:
        self.frames = frames
        self.gate = gate or _open_gate()
        self.calls: list[tuple] = []
        self.thread: threading.Thread | None = None
        self.boxes: dict[int, np.ndarray] = {}

    def _mask(self, obj_id: int) -> ObjectMask:
        m = np.zeros((self.frames.info.height, self.frames.info.width), bool)
        x0, y0, x1, y1 = self.boxes.get(obj_id, np.zeros(4)).astype(int)
        m[y0:y1, x0:x1] = True
        return ObjectMask(obj_id, encode(m), 1.0, 0.9)

    def checkpoint(self) -> dict:
        return dict(self.boxes)

    def restore(self, boxes: dict) -> None:
        self.calls.append(("restore",))
        self.boxes = dict(boxes)

    def add_prompt(self, prompt: Prompt, clear_old: bool = True) -> FrameResult:
        self.thread = threading.current_thread()
        self.calls.append(("add_prompt", prompt.obj_id, prompt.frame))
        if prompt.box is not None:
            self.boxes[prompt.obj_id] = prompt.box
        return FrameResult(prompt.frame, {prompt.obj_id: self._mask(prompt.obj_id)})

    def add_mask(self, frame: int, obj_id: int, mask: np.ndarray) -> FrameResult:
        self.calls.append(("add_mask", obj_id, frame, int(mask.sum())))
        return FrameResult(frame, {})

    def clear_prompts(self, frame: int, obj_id: int | None = None) -> None:
        self.calls.append(("clear_prompts", obj_id, frame))

    def remove_object(self, obj_id: int) -> None:
        self.calls.append(("remove_object", obj_id))

    def has_features(self, frame: int) -> bool:
        return True

    def set_memory_policy(self, obj_id: int, policy: object) -> None:
        pass  # every run names its objects' policies; this engine has no memory

    def prefetch_features(self, frame: int) -> None:
        self.calls.append(("prefetch", frame))
        self.gate.wait(10)  # the next requests queue up meanwhile

    def propagate(self, start_frame=None, direction=Direction.BOTH, *, end_frame=None, obj_ids=None,
                  locked=None, cancel=None, return_logits=False):
        self.calls.append(("propagate", start_frame, direction, end_frame, tuple(obj_ids)))
        last = len(self.frames) - 1 if end_frame is None else end_frame
        for frame in range(start_frame, last + 1):
            if cancel is not None and cancel():
                return
            self.gate.wait(10)
            yield FrameResult(frame, {o: self._mask(o) for o in obj_ids if not locked(o, frame)})


def _open_gate() -> threading.Event:
    gate = threading.Event()
    gate.set()
    return gate


class Relay(QObject):
    """Re-emits the worker's signals on the GUI thread (as the window receives them), so that
    pytest-qt's waits, whose timers live on the GUI thread, are stopped from that thread."""

    modelReady = Signal(str)
    modelFailed = Signal(str)
    videoReady = Signal(str)
    promptDone = Signal(int, object)
    frameDone = Signal(int, object)
    progress = Signal(int, int, int)
    runFinished = Signal(object)

    def __init__(self, worker) -> None:
        super().__init__()
        for name in ("modelReady", "modelFailed", "videoReady", "promptDone", "frameDone", "progress", "runFinished"):
            getattr(worker, name).connect(getattr(self, name))


def relayed(h: WorkerHandle) -> WorkerHandle:
    h.relay = Relay(h.worker)
    return h


@pytest.fixture
def handle(qtbot):
    engines: list[FakeEngine] = []

    def factory(model, frames, cache):
        engines.append(FakeEngine(model, frames, cache))
        return engines[-1]

    h = relayed(WorkerHandle(loader=lambda sel: LoadedModel(("model", sel.path), "cpu · fp32"), factory=factory,
                             opener=lambda p, mb: ArrayFrames()))
    h.engines = engines
    yield h
    assert h.shutdown(5000)


def _ready(qtbot, h: WorkerHandle) -> None:
    with qtbot.waitSignals([h.relay.modelReady, h.relay.videoReady], timeout=60000):
        h.submit(LoadModelRequest(ModelSelection(Path("ckpt.pt"))))
        h.submit(OpenVideoRequest("video.mp4"))


def test_prompt_runs_on_the_worker_thread_and_returns_a_mask(qtbot, handle) -> None:
    _ready(qtbot, handle)
    prompt = Prompt(3, 1, box=np.array([2, 4, 10, 12], np.float32))
    with qtbot.waitSignal(handle.relay.promptDone, timeout=60000) as blocker:
        handle.submit(PromptRequest(7, (), PromptInput(prompt)))
    request_id, result = blocker.args
    assert request_id == 7 and result.frame == 3
    assert result.objects[1].rle.area == 8 * 8
    assert handle.engines[0].thread is not threading.main_thread()


def test_model_label_reaches_the_window(qtbot, handle) -> None:
    with qtbot.waitSignal(handle.relay.modelReady, timeout=60000) as blocker:
        handle.submit(LoadModelRequest(ModelSelection(Path("ckpt.pt"))))
    assert blocker.args == ["cpu · fp32"]


def test_model_failure_is_one_line(qtbot) -> None:
    def broken(spec):
        raise FileNotFoundError("no checkpoint at /nowhere.pt\nmore detail")

    h = relayed(WorkerHandle(loader=broken, factory=FakeEngine, opener=lambda p, mb: ArrayFrames()))
    try:
        with qtbot.waitSignal(h.relay.modelFailed, timeout=60000) as blocker:
            h.submit(LoadModelRequest(ModelSelection(Path("/nowhere.pt"))))
        assert blocker.args == ["no checkpoint at /nowhere.pt"]  # the annotator's words, no class name
    finally:
        assert h.shutdown(5000)


def test_propagation_streams_and_cancel_keeps_finished_frames(qtbot, handle) -> None:
    _ready(qtbot, handle)
    frames: list[int] = []
    handle.relay.frameDone.connect(lambda run, result: frames.append(result.frame))
    # on the worker thread, as the frame finishes: the engine sees the flag before the next frame
    handle.worker.frameDone.connect(lambda run, result: handle.cancel(run) if result.frame == 5 else None,
                                    Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(handle.relay.runFinished, timeout=10000) as blocker:
        handle.submit(PropagateRequest(1, (), TrackInput((Leg(0, Direction.FORWARD),), (1,))))
    end = blocker.args[0]
    assert end.run_id == 1 and end.cancelled
    assert frames == [0, 1, 2, 3, 4, 5] and end.frames == 6
    assert end.run.frames_done == (6,)  # the run as it went, for the document's log


def test_the_engine_follows_the_log_an_undone_prompt_is_taken_back(qtbot, handle) -> None:
    _ready(qtbot, handle)
    p0 = PromptInput(Prompt(0, 1, points=np.array([[3, 3]], np.float32), labels=np.array([1], np.int32)))
    p9 = PromptInput(Prompt(9, 1, points=np.array([[5, 5]], np.float32), labels=np.array([1], np.int32)))
    with qtbot.waitSignal(handle.relay.promptDone, timeout=60000):
        handle.submit(PromptRequest(1, (), p0))
    with qtbot.waitSignal(handle.relay.promptDone, timeout=60000):
        handle.submit(PromptRequest(2, (p0,), p9))
    edited = np.zeros((24, 32), bool)
    edited[1:4, 1:5] = True
    log = (p0, MaskInput(1, 4, encode(edited)))  # frame 9's click was undone, frame 4 edited
    with qtbot.waitSignal(handle.relay.runFinished, timeout=10000):
        handle.submit(PropagateRequest(2, log, TrackInput((Leg(0, Direction.FORWARD, 4),), (1,))))
    calls = handle.engines[0].calls
    after = calls[calls.index(("add_prompt", 1, 9)) + 1:]
    assert after[:3] == [("restore",), ("add_mask", 1, 4, 12), ("propagate", 0, Direction.FORWARD, 4, (1,))]
    assert handle.worker.service.follower.applied[:2] == log


def test_locked_frames_reach_the_engine(qtbot, handle) -> None:
    _ready(qtbot, handle)
    results: list[FrameResult] = []
    handle.relay.frameDone.connect(lambda run, r: results.append(r))
    with qtbot.waitSignal(handle.relay.runFinished, timeout=10000):
        handle.submit(PropagateRequest(3, (), TrackInput((Leg(0, Direction.FORWARD, 2),), (1, 2), frozenset({(2, 1)}))))
    assert [sorted(r.objects) for r in results] == [[1, 2], [1], [1, 2]]


def test_superseded_prefetches_are_dropped(qtbot, handle) -> None:
    _ready(qtbot, handle)
    engine = handle.engines[0]
    engine.gate = threading.Event()  # the first prefetch holds the worker until all ten are queued
    handle.submit(PrefetchRequest(0))
    qtbot.waitUntil(lambda: ("prefetch", 0) in engine.calls, timeout=60000)
    for frame in range(1, 10):
        handle.submit(PrefetchRequest(frame))
    engine.gate.set()
    with qtbot.waitSignal(handle.relay.promptDone, timeout=60000):  # a marker after the prefetches
        handle.submit(PromptRequest(1, (), PromptInput(Prompt(0, 1, box=np.array([0, 0, 2, 2], np.float32)))))
    prefetched = [c[1] for c in engine.calls if c[0] == "prefetch"]
    assert prefetched == [0, 9]


def test_a_deletion_in_the_log_reaches_the_engine_before_the_next_prompt(qtbot, handle) -> None:
    _ready(qtbot, handle)
    with qtbot.waitSignal(handle.relay.promptDone, timeout=60000):
        handle.submit(PromptRequest(1, (RemoveInput(4),), PromptInput(Prompt(0, 4, box=np.array([0, 0, 2, 2], np.float32)))))
    assert handle.engines[0].calls[:2] == [("remove_object", 4), ("add_prompt", 4, 0)]


def test_shutdown_during_a_propagation_stops_the_thread(qtbot) -> None:
    gate = threading.Event()  # each frame waits on it: the run is still going when shutdown comes
    h = relayed(WorkerHandle(loader=lambda s: LoadedModel("m", "cpu"), factory=lambda m, f, c: FakeEngine(m, f, c, gate),
                             opener=lambda p, mb: ArrayFrames(n=1000)))
    _ready(qtbot, h)
    with qtbot.waitSignal(h.relay.progress, timeout=60000):
        h.submit(PropagateRequest(1, (), TrackInput((Leg(0, Direction.FORWARD),), (1,))))
    gate.set()
    assert h.shutdown(30000)  # the cancel flag stops the run between frames
    assert not h.thread.isRunning()


def test_the_model_is_announced_once_warmed_up_and_before_the_next_request(qtbot) -> None:
    events: list[str] = []
    opened = threading.Event()

    def opener(path, mb):
        events.append("open")
        opened.set()
        return ArrayFrames()

    h = relayed(WorkerHandle(
        loader=lambda sel: LoadedModel("m", "cpu", warm_up=lambda: events.append("warm up")),
        factory=lambda m, f, c: FakeEngine(m, f, c), opener=opener,
    ))
    # direct: recorded on the worker thread, in the order the worker does things
    h.worker.modelReady.connect(lambda label: events.append("ready"), Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(h.relay.videoReady, timeout=60000):
        h.submit(LoadModelRequest(ModelSelection(Path("ckpt.pt"))))
        h.submit(OpenVideoRequest("video.mp4"))
    assert events == ["warm up", "ready", "open"]
    assert h.shutdown(5000)


def test_every_prefetch_is_answered_and_the_session_is_busy_until_then(qtbot) -> None:
    from annotator.session_controller import ModelState, SessionController

    release = threading.Event()  # the image encoder, until the test lets it finish
    engines: list[FakeEngine] = []

    def factory(m, f, c):
        engines.append(FakeEngine(m, f, c, release))
        return engines[-1]

    h = WorkerHandle(loader=lambda sel: LoadedModel("m", "cpu"), factory=factory, opener=lambda p, mb: ArrayFrames())
    s = SessionController(h, frame_opener=lambda p, mb: ArrayFrames(), fingerprinter=lambda p: "fp")
    busy: list[bool] = []
    s.model_status.busyChanged.connect(busy.append)
    try:
        s.model_status.load(ModelSelection(Path("ckpt.pt")))
        qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=60000)
        s.open_video("v.mp4")  # shows frame 0: its features are computed at once
        assert s.model_status.busy and busy == [True]
        qtbot.waitUntil(lambda: bool(engines and engines[-1].calls), timeout=60000)  # frame 0 computing
        for frame in (3, 4, 5):  # scrubbing meanwhile: the worker skips all but the latest, and answers each
            s.set_frame(frame)
        assert s.model_status.busy and busy == [True]
        release.set()
        qtbot.waitUntil(lambda: not s.model_status.busy, timeout=60000)
        assert busy == [True, False]
        assert [c for c in engines[-1].calls if c[0] == "prefetch"] == [("prefetch", 0), ("prefetch", 5)]
    finally:
        release.set()
        assert s.shutdown()


def _in_a_model_thread(apply, state) -> dict:
    """Run ``apply`` on a fresh thread (the model thread); when it returns True, ``state`` as seen
    there ("model") and on a thread it then starts ("started by it"). Empty when refused."""
    seen: dict = {}

    def model_thread() -> None:
        if apply():
            seen["model"] = state()
            child = threading.Thread(target=lambda: seen.setdefault("started by it", state()))
            child.start()
            child.join()

    thread = threading.Thread(target=model_thread)
    thread.start()
    thread.join()
    return seen


def test_the_nice_policy_puts_the_model_thread_below_the_windows_priority() -> None:
    import os
    import sys

    from annotator.model_priority import lower_priority

    if not sys.platform.startswith("linux"):
        assert not lower_priority(5)
        return
    main = os.getpriority(os.PRIO_PROCESS, 0)
    # once is enough: loading a model again adds nothing
    seen = _in_a_model_thread(lambda: lower_priority(5) and lower_priority(5),
                              lambda: os.getpriority(os.PRIO_PROCESS, 0))
    if not seen:
        pytest.skip("this system refuses to change a thread's priority")
    assert seen == {"model": main + 5, "started by it": main + 5}
    assert os.getpriority(os.PRIO_PROCESS, 0) == main  # the window's thread keeps its own


def test_the_batch_policy_keeps_the_windows_niceness_and_marks_the_model_threads_as_batch() -> None:
    import os
    import sys

    from annotator.model_priority import ModelPriority, apply_priority

    if not sys.platform.startswith("linux"):
        assert not apply_priority(ModelPriority.BATCH)
        return
    main_policy, main_nice = os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)
    seen = _in_a_model_thread(lambda: apply_priority(ModelPriority.BATCH) and apply_priority(ModelPriority.BATCH),
                              lambda: (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)))
    if not seen:
        pytest.skip("this system refuses to change a thread's scheduling policy")
    assert seen == {"model": (os.SCHED_BATCH, main_nice), "started by it": (os.SCHED_BATCH, main_nice)}
    assert (os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0)) == (main_policy, main_nice)


def test_the_priority_can_be_chosen_for_benchmarks(monkeypatch) -> None:
    from annotator.model_priority import DEFAULT_PRIORITY, ENV_VAR, ModelPriority, chosen_priority

    monkeypatch.delenv(ENV_VAR, raising=False)
    assert chosen_priority() is DEFAULT_PRIORITY is ModelPriority.NORMAL
    monkeypatch.setenv(ENV_VAR, "batch")
    assert chosen_priority() is ModelPriority.BATCH
    monkeypatch.setenv(ENV_VAR, " Nice ")
    assert chosen_priority() is ModelPriority.NICE
    monkeypatch.setenv(ENV_VAR, "fastest")
    assert chosen_priority() is DEFAULT_PRIORITY


def test_the_worker_thread_imports_the_decoders_as_it_starts(qtbot, monkeypatch) -> None:
    import annotator.worker as worker_module

    seen: list[threading.Thread] = []
    monkeypatch.setattr(worker_module, "preload_frame_decoding", lambda: seen.append(threading.current_thread()))
    h = WorkerHandle(loader=lambda sel: LoadedModel("m", "cpu"), factory=FakeEngine, opener=lambda p, mb: ArrayFrames())
    try:
        qtbot.waitUntil(lambda: bool(seen), timeout=60000)
        assert seen[0] is not threading.main_thread()  # off the window's thread, before any request
    finally:
        assert h.shutdown()


def test_the_sessions_handlers_of_worker_signals_run_on_the_gui_thread(qtbot) -> None:
    """Every handler the session connects to a worker signal runs on the thread of the window:
    a failed model load and a failed request change state and say so there, never on the
    worker thread that emits them (a lambda connected to a worker signal would run there)."""
    from annotator.session_controller import SessionController
    from core.video.inputs import PromptInput

    def broken(selection):
        raise FileNotFoundError("no checkpoint at /nowhere.pt")

    h = WorkerHandle(loader=broken, factory=FakeEngine, opener=lambda p, mb: ArrayFrames())
    s = SessionController(h, frame_opener=lambda p, mb: ArrayFrames(), fingerprinter=lambda p: "fp")
    seen: list[tuple[str, threading.Thread]] = []
    for name in ("stateChanged", "busyChanged"):
        getattr(s.model_status, name).connect(lambda *a, n=name: seen.append((n, threading.current_thread())),
                                              Qt.ConnectionType.DirectConnection)
    s.message.connect(lambda text: seen.append((text, threading.current_thread())), Qt.ConnectionType.DirectConnection)
    try:
        s.model_status.load(ModelSelection(Path("/nowhere.pt")))
        qtbot.waitUntil(lambda: s.model_status.state.value == "failed", timeout=60000)
        h.submit(PromptRequest(1, (), PromptInput(Prompt(0, 1, box=np.array([0, 0, 2, 2], np.float32)))))
        qtbot.waitUntil(lambda: ("Error: no model loaded", threading.main_thread()) in seen
                        or any(text.startswith("Error") for text, _ in seen), timeout=60000)
        assert [n for n, _ in seen].count("stateChanged") == 2  # loading, then failed
        assert all(thread is threading.main_thread() for _, thread in seen), seen
    finally:
        assert s.shutdown()
