"""The byte-bounded frame cache and read-ahead (background decoding into the cache)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from core.frames import FrameCache, ReadAhead, open_frames
from tests.test_frames_synthetic import decode_all, write_video


def test_cache_is_lru_and_never_exceeds_its_bytes() -> None:
    cache = FrameCache(max_bytes=1000)
    rng = np.random.default_rng(0)
    for key in range(300):
        arr = np.zeros(int(rng.integers(1, 400)), np.uint8)
        assert cache.put(key, arr)
        assert cache.nbytes <= 1000
        assert cache.nbytes == sum(cache.get(k).nbytes for k in cache.keys())  # type: ignore[union-attr]
    small = FrameCache(max_bytes=300)
    small.put("a", np.zeros(100, np.uint8))
    small.put("b", np.zeros(100, np.uint8))
    small.put("c", np.zeros(100, np.uint8))
    assert small.get("a") is not None  # "a" is now the most recent
    small.put("d", np.zeros(100, np.uint8))
    assert small.keys() == ["c", "a", "d"]  # "b", the least recently used, went
    assert not small.put("huge", np.zeros(301, np.uint8))  # larger than the budget: not stored
    assert small.nbytes == 300 and "huge" not in small
    stored = small.get("d")
    assert stored is not None and not stored.flags.writeable
    empty = FrameCache(0)
    assert not empty.put(1, np.zeros(1, np.uint8)) and empty.nbytes == 0
    with pytest.raises(ValueError):
        FrameCache(-1)


@pytest.mark.slow
def test_source_cache_bound_holds_through_random_access_and_prefetch(shared_data: Path) -> None:
    limit_mb = 8  # bedroom frames are 1.48 MiB: 5 fit
    with open_frames(shared_data / "videos" / "bedroom.mp4", cache_mb=limit_mb) as src:
        limit = limit_mb * 2**20
        for i in [5, 4, 3, 2, 1, 0, 60, 59, 58, 120, 119, 30]:
            src.get(i)
            assert src.cache.nbytes <= limit
        src.prefetch(range(150, 190))  # far more than fits: cut to half the cache
        assert src.wait_prefetch(20)
        assert src.cache.nbytes <= limit
        assert 1 <= len(src.cache) <= 5


def test_read_ahead_fills_the_cache_with_the_right_frames(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", 80, gop=10)
    ref = decode_all(path)
    with open_frames(path, cache_mb=64) as src:
        src.get(0)
        src.prefetch(range(20, 40))
        assert src.wait_prefetch(20)
        assert all(i in src.cache for i in range(20, 40))
        misses = src.cache.misses
        for i in range(20, 40):
            assert np.array_equal(src.get(i), ref[i])
        assert src.cache.misses == misses  # all served from the cache
        # backward read-ahead (propagating towards frame 0)
        src.prefetch(range(70, 50, -1))
        assert src.wait_prefetch(20)
        assert all(i in src.cache for i in range(51, 71))
        for i in range(70, 50, -1):
            assert np.array_equal(src.get(i), ref[i])


def test_caller_and_read_ahead_share_the_decoder_safely(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", 120, gop=8)
    ref = decode_all(path)
    with open_frames(path, cache_mb=1) as src:  # 18 KB frames, ~56 fit: lots of eviction and re-decoding
        rng = np.random.default_rng(3)
        for _ in range(6):
            start = int(rng.integers(0, 120))
            src.prefetch([(start + k) % 120 for k in range(25)])
            for i in rng.integers(0, 120, 10):
                assert np.array_equal(src.get(int(i)), ref[int(i)]), int(i)
        assert src.wait_prefetch(20)
        assert src._readahead.error is None


def test_close_stops_read_ahead(tmp_path: Path) -> None:
    path = write_video(tmp_path / "v.mp4", 200, width=320, height=240, gop=50)
    src = open_frames(path, cache_mb=64)
    src.prefetch(range(199, 100, -1))
    thread = src._readahead._thread
    assert thread is not None and thread.is_alive()
    src.close()
    assert not thread.is_alive()
    assert src.cache.nbytes == 0
    src.close()  # twice is fine


def test_read_ahead_thread_order_and_replacement() -> None:
    seen: list[int] = []
    gate = threading.Event()

    def load(i: int, stop: object) -> bool:
        gate.wait(60)  # only guards a hang
        seen.append(i)
        return True

    ra = ReadAhead(load, lambda i: i == 3)
    ra.request([1, 2, 3, 4])
    ra.request([7, 3, 8])  # replaces what is still pending; 3 is cached and skipped
    gate.set()
    assert ra.wait_idle(60)
    ra.close()
    assert seen[-2:] == [7, 8] and 3 not in seen and 2 not in seen
