"""Video files: frame-exact seeking on every shared video, sequential and backward reading,
metadata, colours, thumbnails and fingerprints."""

from __future__ import annotations

import hashlib
import random
from functools import lru_cache
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from core.frames import FrameSourceError, VideoFrames, fingerprint, open_frames
from core.frames.colour import frame_to_rgb, player_colorspace
from tests.conftest import SHARED_DATA

VIDEOS = sorted((SHARED_DATA / "videos").glob("*.mp4"))


def digest(frame: np.ndarray) -> str:
    return hashlib.sha1(frame.tobytes()).hexdigest() + str(frame.shape)


@lru_cache(maxsize=None)
def reference(path: Path) -> tuple[str, ...]:
    """Digests of every frame decoded from the start with plain PyAV, no seeking."""
    with av.open(str(path)) as container:
        return tuple(digest(frame_to_rgb(f)) for f in container.decode(video=0))


def test_there_are_shared_videos() -> None:
    assert len(VIDEOS) >= 4, VIDEOS


@pytest.mark.slow
@pytest.mark.parametrize("path", VIDEOS, ids=lambda p: p.name)
def test_random_seeks_equal_decoding_from_the_start(path: Path) -> None:
    ref = reference(path)
    src = open_frames(path, cache_mb=0)  # no cache: every get() really decodes
    try:
        assert len(src) == len(ref)
        order = random.Random(path.name).sample(range(len(ref)), 40) + [len(ref) - 1, 0, len(ref) // 2]
        for i in order:
            assert digest(src.get(i)) == ref[i], f"{path.name}: frame {i} differs when reached by seeking"
        # every step back needs a seek; steps forward seek too when a keyframe lies between
        steps_back = sum(b <= a for a, b in zip(order, order[1:]))
        assert src.seeks >= steps_back >= 15
    finally:
        src.close()


@pytest.mark.slow
@pytest.mark.parametrize("path", VIDEOS, ids=lambda p: p.name)
def test_sequential_reading_never_seeks_and_covers_every_frame(path: Path) -> None:
    ref = reference(path)
    with open_frames(path, cache_mb=0) as src:
        assert isinstance(src, VideoFrames)
        assert digest(src.get(0)) == ref[0]  # open decoded frame 0 already: this one seeks back
        seeks = src.seeks
        for i in range(1, len(ref)):
            assert digest(src.get(i)) == ref[i], f"{path.name}: frame {i}"
        assert src.seeks == seeks


@pytest.mark.slow
@pytest.mark.parametrize("path", [p for p in VIDEOS if p.name in ("bedroom.mp4", "01_dog.mp4")], ids=lambda p: p.name)
def test_backward_reading_is_exact_and_decodes_chunks(path: Path) -> None:
    ref = reference(path)
    with open_frames(path, cache_mb=512) as src:
        assert isinstance(src, VideoFrames)
        before = src.seeks
        for i in reversed(range(len(ref))):
            assert digest(src.get(i)) == ref[i], f"{path.name}: frame {i} read backward"
        # one decode run serves a window of frames: far fewer seeks than frames
        assert src.seeks - before <= len(ref) // 32 + 2, src.seeks - before


@pytest.mark.slow
def test_jump_forward_inside_a_gop_continues_without_seeking(shared_data: Path) -> None:
    path = shared_data / "videos" / "bedroom.mp4"  # one keyframe: every jump forward continues
    ref = reference(path)
    with open_frames(path, cache_mb=0) as src:
        assert isinstance(src, VideoFrames)
        src.get(10)
        seeks = src.seeks
        assert digest(src.get(57)) == ref[57]
        assert digest(src.get(58)) == ref[58]
        assert src.seeks == seeks
        assert digest(src.get(5)) == ref[5]  # backward needs a seek
        assert src.seeks == seeks + 1


def test_metadata(shared_data: Path) -> None:
    with open_frames(shared_data / "videos" / "bedroom.mp4") as src:
        assert (src.info.width, src.info.height, src.info.frame_count) == (960, 540, 200)
        assert src.info.fps == pytest.approx(30.0)
        assert src.info.duration == pytest.approx(200 / 30)
        assert len(src) == 200
    with open_frames(shared_data / "videos" / "01_dog.mp4") as src:
        assert (src.info.width, src.info.height, src.info.frame_count) == (1280, 720, 289)
        assert src.info.fps == pytest.approx(30000 / 1001)
        assert list(src.keyframes[:2]) == [0, 250]


def test_frames_are_writable_copies_and_the_cache_is_protected(shared_data: Path) -> None:
    with open_frames(shared_data / "videos" / "bedroom.mp4", cache_mb=64) as src:
        a = src.get(3)
        assert a.dtype == np.uint8 and a.shape == (540, 960, 3) and a.flags.writeable
        a[:] = 0
        assert src.get(3).any()
        with pytest.raises(IndexError):
            src.get(200)
        with pytest.raises(IndexError):
            src.get(-1)


def test_colours_follow_the_stream_tags(shared_data: Path) -> None:
    # bedroom.mp4 is tagged BT.601; the shared JPEG frames were made from it.
    with open_frames(shared_data / "videos" / "bedroom.mp4") as src:
        ours = src.get(0).astype(np.int16)
    jpeg = np.asarray(Image.open(shared_data / "frames" / "bedroom" / "00000.jpg").convert("RGB")).astype(np.int16)
    assert np.abs(ours - jpeg).mean() < 2.5  # JPEG compression noise only
    # 01_dog.mp4 is tagged BT.709: converted with BT.709, not swscale's BT.601 default.
    path = shared_data / "videos" / "01_dog.mp4"
    with av.open(str(path)) as c:
        frame = next(c.decode(video=0))
        as709 = frame.to_ndarray(format="rgb24", src_colorspace="ITU709")
        as601 = frame.to_ndarray(format="rgb24", src_colorspace="ITU601")
    with open_frames(path) as src:
        got = src.get(0)
    assert np.array_equal(got, as709)
    assert not np.array_equal(got, as601)


def test_untagged_streams_use_what_players_use() -> None:
    assert player_colorspace(2, 1080) == 1  # unspecified, HD -> BT.709
    assert player_colorspace(2, 480) == 5  # unspecified, SD -> BT.601
    assert player_colorspace(5, 1080) == 5  # a tag wins
    assert player_colorspace(9, 480) == 9  # BT.2020


def test_thumbnails_are_small_cached_and_leave_the_frame_cache_alone(shared_data: Path) -> None:
    with open_frames(shared_data / "videos" / "bedroom.mp4", cache_mb=64) as src:
        thumb = src.thumbnail(120, 54)
        assert thumb.shape == (54, 96, 3) and thumb.dtype == np.uint8
        assert 120 not in src.cache  # the full frame was not kept
        assert (120, 54) in src.thumbnails
        full = src.get(120).astype(np.float64)
        # an area average of the real frame 120, not another frame
        block = full[:10, :10].mean(axis=(0, 1))
        assert np.abs(thumb[0, 0] - block).max() < 12
        assert np.array_equal(src.thumbnail(120, 54), thumb)
        with pytest.raises(ValueError):
            src.thumbnail(0, 0)


def test_fingerprint_is_stable_and_tells_videos_apart(shared_data: Path, tmp_path: Path) -> None:
    a = shared_data / "videos" / "bedroom.mp4"
    fa = fingerprint(a)
    assert fa.startswith("sha256:") and len(fa) == 7 + 64
    copy = tmp_path / "moved.mp4"
    copy.write_bytes(a.read_bytes())
    assert fingerprint(copy) == fa
    with open_frames(copy) as src:
        assert src.fingerprint() == fa
    assert fingerprint(shared_data / "videos" / "01_dog.mp4") != fa
    with pytest.raises(FrameSourceError):
        fingerprint(tmp_path / "missing.mp4")
