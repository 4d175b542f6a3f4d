"""The background index scan of an MP4 gives way to the model: it rests while nobody waits on it
(and stands still inside quiet_scans()), and runs flat out the moment a reader needs it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import av
import numpy as np
import pytest

import core.frames.index as index_mod
from core.frames import VideoFrames, open_frames, quiet_scans
from core.frames.colour import frame_to_rgb
from core.video import VideoSession
from tests.test_frames_synthetic import write_video
from tests.thread_helpers import HANG_S, WatchedCondition, watch_conditions
from tests.video_helpers import click, moving_square_video, small_model

FRAMES = 3000


@pytest.fixture(scope="module")
def long_mp4(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_video(tmp_path_factory.mktemp("scan") / "long.mp4", FRAMES, width=32, height=32, gop=50)


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    # many batches, so the scan of a short test video has many chances to rest
    monkeypatch.setattr(index_mod, "_BATCH", 16)


def last_frame(path: Path) -> np.ndarray:
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            last = frame
    return frame_to_rgb(last)


def in_thread(fn, timeout: float = HANG_S):  # noqa: ANN001, ANN201
    """fn() on another thread; its result, or a test failure if it has not returned in time."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(timeout)
    assert out, f"still waiting after {timeout} s"
    return out[0]


def wait_done(src: VideoFrames, timeout: float = HANG_S) -> bool:
    """Poll (not wait on) the index: a waiting reader would itself wake the scan. The deadline
    only guards a hang."""
    deadline = time.monotonic() + timeout
    while not src.index.done and time.monotonic() < deadline:
        time.sleep(0.02)
    return src.index.done


def scan_condition(src: VideoFrames) -> WatchedCondition:
    cond = src.index._cond  # noqa: SLF001 - the condition the scan sleeps on
    assert isinstance(cond, WatchedCondition), "the index was shared with an earlier open"
    return cond


def resting(waits: list[float | None]) -> bool:
    """The scan went to sleep for a rest of its own (readers wait without a timeout; a quiet
    poll lasts _QUIET_POLL_S; a rest at IDLE_SHARE = 1e-7 lasts minutes)."""
    return any(t is not None and t > 1.0 for t in waits)


def test_an_unwatched_scan_rests_and_a_reader_wakes_it(
    long_mp4: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a share this small makes every rest last for ages: only a waking reader can finish the scan
    monkeypatch.setattr(index_mod, "IDLE_SHARE", 1e-7)
    watch_conditions(monkeypatch, index_mod)
    src = open_frames(long_mp4, cache_mb=8)
    try:
        assert isinstance(src, VideoFrames)
        assert scan_condition(src).wait_until(resting)  # asleep, not merely slow
        assert not src.index.done
        assert np.array_equal(in_thread(lambda: src.get(FRAMES - 1)), last_frame(long_mp4))
        assert src.index.done
    finally:
        src.index.close()  # first: a reader still waiting holds the source's lock
        src.close()


def test_quiet_scans_hold_an_unwatched_scan_until_the_block_ends(
    long_mp4: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_mod, "IDLE_SHARE", 1.0)  # no rest of its own: only the quiet block can hold it
    monkeypatch.setattr(index_mod, "_QUIET_POLL_S", 0.001)
    watch_conditions(monkeypatch, index_mod)
    with quiet_scans():
        src = open_frames(long_mp4, cache_mb=8)
        # the scan looked again five times and went back to sleep each time, unfinished
        looked = scan_condition(src).wait_until(lambda waits: waits.count(0.001) >= 5)
        standing = not src.index.done
    try:
        assert looked and standing
        assert wait_done(src)  # nobody reads, yet it finishes once the block is closed
    finally:
        src.close()


def test_a_reader_inside_quiet_scans_still_gets_its_frame(long_mp4: Path, small_batches: None) -> None:
    with quiet_scans():
        src = open_frames(long_mp4, cache_mb=8)
        try:
            assert np.array_equal(in_thread(lambda: src.get(FRAMES - 1)), last_frame(long_mp4))
        finally:
            src.close()


def test_closing_wakes_a_resting_scan(long_mp4: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_mod, "IDLE_SHARE", 1e-7)
    watch_conditions(monkeypatch, index_mod)
    src = open_frames(long_mp4, cache_mb=8)
    assert scan_condition(src).wait_until(resting)  # asleep for minutes: only the close can wake it
    src.close()
    assert wait_done(src)


def test_the_engine_runs_the_image_encoder_inside_quiet_scans(monkeypatch: pytest.MonkeyPatch) -> None:
    model = small_model(64)
    seen: list[int] = []
    encode = model.encode_image

    def spy(image):  # noqa: ANN001, ANN202
        seen.append(index_mod._quiet)
        return encode(image)

    monkeypatch.setattr(model, "encode_image", spy)
    session = VideoSession(model, moving_square_video(3))
    session.add_prompt(click(1, 1, 20, 24))
    assert seen == [1]
    assert index_mod._quiet == 0


def test_two_opens_of_one_file_share_one_index_until_both_close(long_mp4: Path) -> None:
    a = open_frames(long_mp4, cache_mb=8)
    b = open_frames(long_mp4, cache_mb=8)
    try:
        assert isinstance(a, VideoFrames) and isinstance(b, VideoFrames)
        assert a.index is b.index  # one scan for the window's copy and the worker's
        a.close()
        assert not b.index._stop  # still serving b
        assert np.array_equal(b.get(FRAMES - 1), last_frame(long_mp4))
        c = open_frames(long_mp4, cache_mb=8)
        assert c.index is b.index
        c.close()
    finally:
        b.close()
    assert b.index._stop  # the last user stopped it
    d = open_frames(long_mp4, cache_mb=8)
    try:
        assert d.index is not b.index  # a released index is not handed out again
        assert np.array_equal(d.get(FRAMES - 1), last_frame(long_mp4))
    finally:
        d.close()


def test_a_changed_file_gets_its_own_index(tmp_path: Path) -> None:
    path = write_video(tmp_path / "clip.mp4", 30, width=32, height=32)
    a = open_frames(path, cache_mb=8)
    try:
        write_video(path, 40, width=32, height=32)  # rewritten in place: new size and time
        b = open_frames(path, cache_mb=8)
        try:
            assert b.index is not a.index and len(b) == 40 and len(a) == 30
        finally:
            b.close()
    finally:
        a.close()


def test_opens_racing_on_two_threads_share_one_index(long_mp4: Path) -> None:
    sources: list[VideoFrames] = []
    threads = [threading.Thread(target=lambda: sources.append(open_frames(long_mp4, cache_mb=8))) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    try:
        assert len(sources) == 2 and sources[0].index is sources[1].index
    finally:
        for src in sources:
            src.close()


def test_a_second_open_takes_frame_0_from_the_first_without_decoding(long_mp4: Path) -> None:
    a = open_frames(long_mp4, cache_mb=8)
    b = open_frames(long_mp4, cache_mb=8)
    try:
        assert isinstance(a, VideoFrames) and isinstance(b, VideoFrames)
        assert a.seeks == 1 and b.seeks == 0  # b never positioned its decoder
        first = a.get(0)
        assert np.array_equal(b.get(0), first)
        b.get(0)[:] = 0  # callers get copies: the shared frame cannot be spoiled
        assert np.array_equal(a.get(0), first) and np.array_equal(b.get(1), a.get(1))
    finally:
        a.close()
        b.close()
