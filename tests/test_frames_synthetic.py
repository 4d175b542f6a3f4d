"""Videos written in the test: every container we accept, B-frames and short GOPs, exact in
random order; a long video read through with a small cache keeps memory bounded."""

from __future__ import annotations

import random
import struct
from pathlib import Path

import av
import numpy as np
import pytest

from core.frames import FrameSourceError, VideoFrames, open_frames
from core.frames.colour import frame_to_rgb


def synthetic_frame(i: int, width: int, height: int) -> np.ndarray:
    """A frame that differs from every other: moving gradients and a moving white square."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([(xx * 3 + i * 5) % 256, (yy * 4 + i * 3) % 256, ((xx + yy) * 2 + i * 7) % 256], -1)
    img = img.astype(np.uint8)
    y, x = (i * 3) % (height - 10), (i * 5) % (width - 10)
    img[y : y + 10, x : x + 10] = 255
    return img


def write_video(path: Path, frames: int, width: int = 96, height: int = 64, codec: str = "libx264",
                fps: int = 24, gop: int = 12) -> Path:
    """Encode ``frames`` synthetic frames; libx264 gets 2 B-frames and a fixed GOP of ``gop``."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.codec_context.gop_size = gop
        if codec == "libx264":
            stream.options = {"preset": "veryfast",
                              "x264-params": f"bframes=2:b-adapt=0:keyint={gop}:min-keyint={gop}:scenecut=0"}
        elif codec == "mpeg4":
            stream.codec_context.max_b_frames = 2
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def decode_all(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [frame_to_rgb(f) for f in container.decode(video=0)]


@pytest.mark.parametrize(
    "name,codec",
    [("clip.mp4", "libx264"), ("clip.mov", "libx264"), ("clip.mkv", "libx264"),
     ("clip.avi", "mpeg4"), ("clip.webm", "libvpx-vp9")],
)
def test_every_frame_exact_in_random_order(tmp_path: Path, name: str, codec: str) -> None:
    path = write_video(tmp_path / name, 60, codec=codec)
    ref = decode_all(path)
    assert len(ref) == 60
    with open_frames(path, cache_mb=0) as src:
        assert isinstance(src, VideoFrames)
        assert (src.info.width, src.info.height, len(src)) == (96, 64, 60)
        assert src.info.fps == pytest.approx(24.0)
        assert len(src.keyframes) >= 5  # several GOPs: seeks really go to different keyframes
        order = list(range(60))
        random.Random(name).shuffle(order)
        for i in order:
            assert np.array_equal(src.get(i), ref[i]), f"{name}: frame {i}"
        # and the frames are the ones encoded (lossy, but each is closest to its own original)
        got = src.get(30).astype(np.int16)
        errors = [np.abs(got - synthetic_frame(j, 96, 64).astype(np.int16)).mean() for j in (29, 30, 31)]
        assert int(np.argmin(errors)) == 1


@pytest.mark.slow
def test_frames_are_served_while_the_index_is_still_being_built(tmp_path: Path) -> None:
    path = write_video(tmp_path / "long.mp4", 3000, width=32, height=32, gop=50)
    with av.open(str(path)) as container:
        ref = {i: frame_to_rgb(f) for i, f in enumerate(container.decode(video=0)) if i in (0, 1, 2999, 1234, 1235)}
    src = open_frames(path, cache_mb=8)
    try:
        assert isinstance(src, VideoFrames)
        assert len(src) == 3000  # known from the MP4 sample table before the scan ends
        # the far end right away: waits for the scan to pass it, then decodes exactly
        for i in (2999, 0, 1234, 1235, 1):
            assert np.array_equal(src.get(i), ref[i]), i
        assert src.index.done and len(src.keyframes) == 60
    finally:
        src.close()
    # closing during a scan stops it (or it had already finished)
    early = open_frames(path, cache_mb=8)
    early.close()
    try:
        early.index.wait(60)  # only guards a hang
    except FrameSourceError as err:
        assert "closed" in str(err)
    assert early.index.done


def test_display_rotation_is_applied(tmp_path: Path) -> None:
    """A phone video tagged "rotate 90 degrees clockwise" comes out upright, as players show it."""
    path = write_video(tmp_path / "phone.mp4", 6, width=64, height=32)
    data = bytearray(path.read_bytes())
    tkhd = data.find(b"tkhd")
    assert tkhd > 0 and data[tkhd + 4] == 0  # version 0 track header
    matrix = tkhd + 4 + 4 + 5 * 4 + 8 + 8  # flags, 5 x 32-bit fields, reserved, layer/group/volume/reserved
    assert struct.unpack(">9I", data[matrix : matrix + 36])[0] == 0x00010000  # identity before
    data[matrix : matrix + 36] = struct.pack(">9I", 0, 0x00010000, 0, 0xFFFF0000, 0, 0, 0, 0, 0x40000000)
    path.write_bytes(bytes(data))
    with open_frames(path) as src:
        assert (src.info.width, src.info.height) == (32, 64)
        got = src.get(3)
    stored = synthetic_frame(3, 64, 32)
    turned = np.rot90(stored, k=-1)  # clockwise
    assert got.shape == turned.shape == (64, 32, 3)
    assert np.abs(got.astype(int) - turned.astype(int)).mean() < 12
    assert np.abs(got.astype(int) - np.rot90(stored, k=1).astype(int)).mean() > 30


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/statm").exists(), reason="reads resident memory from /proc")
def test_long_video_memory_stays_bounded(tmp_path: Path) -> None:
    path = write_video(tmp_path / "long.mp4", 600, width=320, height=240, gop=30)
    cache_mb = 4  # 230 KB per frame: ~18 frames
    with open_frames(path, cache_mb=cache_mb) as src:
        assert len(src) == 600
        limit = cache_mb * 2**20
        rss_at: dict[int, int] = {}
        for i in range(600):
            frame = src.get(i)
            assert frame.shape == (240, 320, 3)
            assert src.cache.nbytes <= limit
            if i in (100, 599):
                rss_at[i] = rss_bytes()
        for i in range(599, 400, -1):  # backward too, with read-ahead running
            src.get(i)
            src.prefetch(range(i - 1, i - 9, -1))
            assert src.cache.nbytes <= limit
        assert src.wait_prefetch(10)
        rss_end = rss_bytes()
        assert src.cache.nbytes <= limit
    # 500 more frames decoded (110 MB of RGB) must not have stayed in memory
    assert rss_at[599] - rss_at[100] < 16 * 2**20, (rss_at, rss_end)
    assert rss_end - rss_at[100] < 24 * 2**20, (rss_at, rss_end)
