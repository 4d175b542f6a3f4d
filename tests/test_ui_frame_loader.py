"""Frames decode off the GUI thread; a burst of requests (scrubbing) collapses into the newest."""

from __future__ import annotations

import threading
import time

import numpy as np

from core.types import VideoInfo
from ui.frame_loader import FrameLoader


class SlowFrames:
    info = VideoInfo(8, 6, 100, 25.0)

    def __init__(self) -> None:
        self.decoded: list[int] = []
        self.threads: set[str] = set()

    def __len__(self) -> int:
        return 100

    def get(self, index: int) -> np.ndarray:
        self.threads.add(threading.current_thread().name)
        time.sleep(0.05)
        if index == 66:
            raise ValueError("damaged frame\nwith details")
        self.decoded.append(index)
        return np.full((6, 8, 3), index, np.uint8)


def test_newest_request_wins_and_decoding_stays_off_the_gui_thread(qtbot) -> None:
    loader, frames = FrameLoader(), SlowFrames()
    shown: list[int] = []
    loader.loaded.connect(lambda frame, image: shown.append(int(image[0, 0, 0])))
    for frame in range(20):  # a scrub across 20 frames within one decode
        loader.request(frames, frame)
    qtbot.waitUntil(lambda: loader.idle() and shown[-1:] == [19], timeout=5000)
    assert len(frames.decoded) <= 3 and frames.decoded[-1] == 19
    assert frames.threads == {"masklet-frame-loader"}
    with qtbot.waitSignal(loader.failed, timeout=5000) as failed:
        loader.request(frames, 66)
    assert failed.args == ["cannot show frame 66: damaged frame"]
    loader.stop()
    assert not loader._thread.is_alive()
