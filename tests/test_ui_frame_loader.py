"""Frames decode off the GUI thread; a burst of requests (scrubbing) collapses into the newest."""

from __future__ import annotations

import threading

import numpy as np

from core.types import VideoInfo
from tests.thread_helpers import HANG_S
from ui.frame_loader import FrameLoader


class HeldFrames:
    """Frames whose decoding waits, inside ``get``, until the test lets it go on (``release``)."""

    info = VideoInfo(8, 6, 100, 25.0)

    def __init__(self) -> None:
        self.decoded: list[int] = []
        self.threads: set[str] = set()
        self.decoding = threading.Event()  # set once a decode has started and is held
        self.release = threading.Event()

    def __len__(self) -> int:
        return 100

    def get(self, index: int) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        self.decoding.set()
        assert self.release.wait(HANG_S)
        if index == 66:
            raise ValueError("damaged frame\nwith details")
        self.decoded.append(index)
        return np.full((6, 8, 3), index, np.uint8)


def test_newest_request_wins_and_decoding_stays_off_the_gui_thread(qtbot) -> None:
    loader, frames = FrameLoader(), HeldFrames()
    shown: list[int] = []
    loader.loaded.connect(lambda frame, image: shown.append(int(image[0, 0, 0])))
    loader.request(frames, 0)
    assert frames.decoding.wait(HANG_S)  # frame 0 is decoding, and stays so until released
    for frame in range(1, 20):  # a scrub across 19 more frames within that one decode
        loader.request(frames, frame)
    frames.release.set()
    qtbot.waitUntil(lambda: loader.idle() and shown[-1:] == [19], timeout=60000)
    assert frames.decoded == [0, 19]  # the 18 requests between were replaced before they started
    assert shown == [19]  # frame 0 came too late to be shown
    assert frames.threads == {"masklet-frame-loader"}
    with qtbot.waitSignal(loader.failed, timeout=60000) as failed:
        loader.request(frames, 66)
    assert failed.args == ["cannot show frame 66: damaged frame"]
    loader.stop()
    assert not loader._thread.is_alive()
