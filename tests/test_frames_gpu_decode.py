"""Frames from a GPU's video decoder (NV12) give the CPU decoder's RGB to the bit, and without a
usable GPU the decoder stays on the CPU (core/frames/colour.py, probe.py, video.py).

No GPU here: the NV12 frames are what FFmpeg's rawvideo decoder gives for an NV12 stream, laid
out exactly as NVDEC's downloaded frames are; bench/gpu_host.py checks NVDEC itself on a GPU.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from core.frames import colour, probe, video
from core.frames.colour import frame_to_rgb, nv12_as_planar
from core.frames.video import VideoFrames
from tests.video_corpus import synthetic_frame
from tests.video_helpers import as_nv12


def _write(path: Path, codec: str, pix_fmt: str, frames: int = 6, width: int = 96, height: int = 64,
           colorspace: int | None = None, color_range: int | None = None, nv12: bool = False) -> None:
    """Synthetic frames in ``pix_fmt``; nv12: the same samples written with the chroma interleaved."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "nv12" if nv12 else pix_fmt
        if codec == "libx264":
            stream.options = {"preset": "veryfast", "crf": "10"}
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, width, height), format="rgb24").reformat(format=pix_fmt)
            if colorspace is not None:
                frame.colorspace = colorspace
            if color_range is not None:
                frame.color_range = color_range
            if nv12:
                frame = as_nv12(frame)
            frame.pts, frame.time_base = i, Fraction(1, 25)
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


@pytest.mark.parametrize(("pix_fmt", "colorspace", "color_range"), [("yuv420p", 1, 1), ("yuv420p", 5, 1), ("yuvj420p", 2, 2)])
def test_an_nv12_frame_converts_as_the_planar_frame_it_stands_for(tmp_path: Path, pix_fmt: str, colorspace: int,
                                                                  color_range: int) -> None:
    path = tmp_path / "v.mp4"
    _write(path, "libx264", pix_fmt, colorspace=colorspace, color_range=color_range)
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    assert frames and frames[0].format.name == pix_fmt
    for frame in frames:
        nv = as_nv12(frame)
        assert np.array_equal(frame_to_rgb(nv, pix_fmt), frame_to_rgb(frame))
        back = nv12_as_planar(nv, pix_fmt)
        assert back.format.name == pix_fmt and np.array_equal(back.to_ndarray(), frame.to_ndarray())


def test_real_bedroom_frames_through_nv12_are_unchanged(shared_data: Path) -> None:
    with av.open(str(shared_data / "videos" / "bedroom.mp4")) as container:
        for i, frame in enumerate(container.decode(video=0)):
            assert np.array_equal(frame_to_rgb(as_nv12(frame), frame.format.name), frame_to_rgb(frame))
            if i == 4:
                break


def test_without_a_usable_gpu_the_cpu_decodes(shared_data: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = shared_data / "videos" / "bedroom.mp4"
    # This machine: either FFmpeg has no CUDA device type, or creating the device fails.
    assert probe.open_gpu_decoder(path) is None
    monkeypatch.setattr(probe, "hwdevices_available", lambda: [])
    assert probe.open_gpu_decoder(path) is None
    src = VideoFrames(path, cache_mb=0)
    try:
        first = src.get(3)
        assert src.use_gpu_decoder() is False and not src.gpu_decoding
        assert np.array_equal(src.get(3), first)
    finally:
        src.close()


def test_a_gpu_decoders_frames_read_as_the_cpu_decoders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """VideoFrames switched to a decoder whose frames come as NV12: same frames, same order,
    from wherever the reader was."""
    planar, nv12 = tmp_path / "planar.mkv", tmp_path / "nv12.mkv"
    _write(planar, "rawvideo", "yuv420p", frames=12, colorspace=1, color_range=1)
    _write(nv12, "rawvideo", "yuv420p", frames=12, colorspace=1, color_range=1, nv12=True)
    with av.open(str(nv12)) as container:
        assert next(container.decode(video=0)).format.name == "nv12"
    want = VideoFrames(planar, cache_mb=0)
    got = VideoFrames(planar, cache_mb=0)
    try:
        expected = [want.get(i) for i in range(12)]
        assert np.array_equal(got.get(5), expected[5])
        monkeypatch.setattr(video, "open_gpu_decoder", lambda path: probe.open_decoder(nv12))
        assert got.use_gpu_decoder() and got.gpu_decoding
        assert got.use_gpu_decoder()  # already: nothing reopens
        for i in (6, 7, 2, 11, 0):
            assert np.array_equal(got.get(i), expected[i]), i
    finally:
        want.close()
        got.close()


def test_plain_frames_ignore_the_planar_hint(shared_data: Path) -> None:
    # A frame that is not NV12 converts as before whatever the stream's planar format.
    with av.open(str(shared_data / "videos" / "bedroom.mp4")) as container:
        frame = next(container.decode(video=0))
    assert np.array_equal(frame_to_rgb(frame, "yuv420p"), frame_to_rgb(frame))
    assert colour.PLANAR_420 == ("yuv420p", "yuvj420p")


def test_video_the_gpus_frames_cannot_stand_for_stays_on_the_cpu(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "v444.mp4"
    _write(path, "libx264", "yuv444p", frames=3)

    def never(path: Path) -> None:
        raise AssertionError("a 4:4:4 video must not be opened on the GPU's decoder")

    monkeypatch.setattr(video, "open_gpu_decoder", never)
    src = VideoFrames(path, cache_mb=0)
    try:
        assert src.use_gpu_decoder() is False and not src.gpu_decoding
    finally:
        src.close()
