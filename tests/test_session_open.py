"""Opening a video: the worker starts on frame 0 at once, and a failed open changes nothing."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from annotator.session_controller import ModelState, SessionController
from annotator.model_loading import LoadedModel
from annotator.worker import WorkerHandle
from core.frames import FrameSourceError
from core.checkpoints.runtime import ModelSelection
from tests.test_worker import ArrayFrames, FakeEngine


class Recorder:
    """The worker's side: which videos it opened, and each engine's calls."""

    def __init__(self) -> None:
        self.opened: list[str] = []
        self.engines: list[FakeEngine] = []
        self.encoding = threading.Event()  # set when an engine begins on frame features
        self.refused = threading.Event()  # set when the worker failed to open a file

    def opener(self, path: str, cache_mb: int) -> ArrayFrames:
        self.opened.append(os.path.basename(path))
        if "bad" in path:
            self.refused.set()
            raise FrameSourceError(f"{os.path.basename(path)}: not a video")
        return ArrayFrames()

    def factory(self, model: object, frames: ArrayFrames, cache: int) -> FakeEngine:
        recorder = self

        class Engine(FakeEngine):
            def prefetch_features(self, frame: int) -> None:
                super().prefetch_features(frame)
                recorder.encoding.set()

        self.engines.append(Engine(model, frames, cache))
        return self.engines[-1]


@pytest.fixture
def session(qtbot):
    rec = Recorder()
    gui_opens: list[tuple[str, bool]] = []  # (file, whether the worker was encoding by then)

    def gui_opener(path: str, cache_mb: int) -> ArrayFrames:
        if "bad" in path:
            gui_opens.append((os.path.basename(path), rec.refused.wait(5)))
            raise FrameSourceError(f"{os.path.basename(path)}: not a video")
        gui_opens.append((os.path.basename(path), rec.encoding.wait(5)))
        return ArrayFrames()

    h = WorkerHandle(loader=lambda sel: LoadedModel("m", "cpu"), factory=rec.factory, opener=rec.opener)
    s = SessionController(h, frame_opener=gui_opener, fingerprinter=lambda p: "fp")
    s.model_status.load(ModelSelection(Path("ckpt.pt")))
    qtbot.waitUntil(lambda: s.model_status.state is ModelState.READY, timeout=60000)
    yield s, rec, gui_opens
    assert s.shutdown()


def test_the_worker_encodes_frame_0_while_the_window_opens_the_video(session, qtbot) -> None:
    s, rec, gui_opens = session
    s.open_video("a.mp4")
    # the window's own open ran only once the worker had opened the video and begun frame 0
    assert gui_opens == [("a.mp4", True)]
    assert rec.opened == ["a.mp4"] and rec.engines[0].calls[0] == ("prefetch", 0)
    assert s.video.path == os.path.abspath("a.mp4")


def test_a_video_that_fails_to_open_leaves_the_worker_on_the_shown_one(session, qtbot) -> None:
    s, rec, gui_opens = session
    s.open_video("a.mp4")
    s.set_frame(7)
    qtbot.waitUntil(lambda: ("prefetch", 7) in rec.engines[-1].calls, timeout=60000)
    rec.encoding.clear()
    with pytest.raises(FrameSourceError, match="bad.mp4: not a video"):
        s.open_video("bad.mp4")
    assert s.video.path == os.path.abspath("a.mp4") and s.frame == 7
    assert gui_opens == [("a.mp4", True), ("bad.mp4", True)]
    # the worker tried the new file, then went back to the one on screen and its frame
    qtbot.waitUntil(lambda: rec.opened == ["a.mp4", "bad.mp4", "a.mp4"] and len(rec.engines) == 2, timeout=60000)
    qtbot.waitUntil(lambda: ("prefetch", 7) in rec.engines[-1].calls, timeout=60000)
    obj = s.add_object()
    assert s.prompts.box(2, 2, 10, 10)
    qtbot.waitUntil(lambda: s.doc.mask(obj, 7) is not None, timeout=60000)
    assert ("add_prompt", obj, 7) in rec.engines[-1].calls


def test_a_failed_first_open_closes_the_worker_video(session, qtbot) -> None:
    s, rec, _ = session
    with pytest.raises(FrameSourceError):
        s.open_video("bad.mp4")
    assert s.video is None and s.frames is None
    qtbot.waitUntil(lambda: rec.opened == ["bad.mp4"], timeout=60000)
    assert rec.engines == []
