"""A corpus of small videos written by the tests themselves with PyAV: every codec PyAV can
encode here (H.264, HEVC, VP9, AV1, MPEG-2, MPEG-4) in every container we open (MP4, MOV, MKV,
WebM, AVI, MPEG-TS, MPEG-PS), with B-frames, open GOPs, a variable frame rate and edit lists.

``CASES`` names each file; ``write_case(case, folder)`` writes it (None when this FFmpeg build
lacks the encoder). Every frame differs from every other (``synthetic_frame``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def synthetic_frame(i: int, width: int, height: int) -> np.ndarray:
    """(H, W, 3) uint8: moving gradients and a moving white square, unlike any other frame."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([(xx * 3 + i * 5) % 256, (yy * 4 + i * 3) % 256, ((xx + yy) * 2 + i * 7) % 256], -1)
    img = img.astype(np.uint8)
    y, x = (i * 3) % (height - 10), (i * 5) % (width - 10)
    img[y : y + 10, x : x + 10] = 255
    return img


@dataclass(frozen=True)
class Case:
    """One corpus file: ``name`` (its file name), the encoder, its options and the timing."""

    name: str
    codec: str
    frames: int = 48
    gop: int = 12
    bframes: int = 2
    options: dict[str, str] = field(default_factory=dict)
    vfr: bool = False  # irregular frame durations
    start_pts: int = 0  # a first timestamp above 0 (an edit list in MP4/MOV)
    width: int = 64
    height: int = 48

    @property
    def id(self) -> str:
        return self.name


def _x264(gop: int, extra: str = "") -> dict[str, str]:
    params = f"bframes=2:b-adapt=0:keyint={gop}:min-keyint={gop}:scenecut=0{extra}"
    return {"preset": "veryfast", "x264-params": params}


def _x265(gop: int, extra: str = "") -> dict[str, str]:
    params = f"bframes=2:keyint={gop}:min-keyint={gop}:scenecut=0:log-level=error{extra}"
    return {"preset": "ultrafast", "x265-params": params}


def _svt(gop: int) -> dict[str, str]:
    return {"preset": "12", "svtav1-params": f"keyint={gop}:scd=0"}


CASES: list[Case] = [
    Case("h264.mp4", "libx264", options=_x264(12)),
    Case("h264.mov", "libx264", options=_x264(12)),
    Case("h264.mkv", "libx264", options=_x264(12)),
    Case("h264.ts", "libx264", options=_x264(12)),
    Case("h264.avi", "libx264", options=_x264(12)),
    Case("h264_opengop.mkv", "libx264", options=_x264(12, ":open-gop=1")),
    Case("h264_opengop.ts", "libx264", options=_x264(12, ":open-gop=1")),
    Case("h264_opengop.mp4", "libx264", options=_x264(12, ":open-gop=1")),
    Case("h264_vfr.mp4", "libx264", options=_x264(12), vfr=True),
    Case("h264_vfr.mkv", "libx264", options=_x264(12), vfr=True),
    Case("h264_editlist.mp4", "libx264", options=_x264(12), start_pts=7),
    Case("h264_editlist.mov", "libx264", options=_x264(12), start_pts=7),
    Case("hevc.mp4", "libx265", options=_x265(12)),
    Case("hevc.mkv", "libx265", options=_x265(12)),
    Case("hevc.ts", "libx265", options=_x265(12)),
    Case("hevc_opengop.mkv", "libx265", options=_x265(12, ":open-gop=1")),
    Case("vp9.webm", "libvpx-vp9", options={"deadline": "realtime", "cpu-used": "8"}),
    Case("vp9.mkv", "libvpx-vp9", options={"deadline": "realtime", "cpu-used": "8"}),
    Case("av1.mkv", "libsvtav1", options=_svt(12)),
    Case("av1.webm", "libsvtav1", options=_svt(12)),
    Case("av1.mp4", "libsvtav1", options=_svt(12)),
    Case("av1_default.mkv", "libsvtav1", frames=96, options={"preset": "12"}),
    Case("av1_default.webm", "libsvtav1", frames=96, options={"preset": "12"}),
    Case("av1_default.mp4", "libsvtav1", frames=96, options={"preset": "12"}),
    Case("av1_opengop.mkv", "libsvtav1", frames=64, options={"preset": "12", "svtav1-params": "keyint=16:irefresh-type=1:scd=0"}),
    Case("mpeg2.ts", "mpeg2video"),
    Case("mpeg2.mpg", "mpeg2video"),
    Case("mpeg2.mkv", "mpeg2video"),
    Case("mpeg4.avi", "mpeg4"),
    Case("mpeg4.mp4", "mpeg4"),
    Case("mpeg4.mkv", "mpeg4"),
]

FAST_CASES = ["h264.mp4", "h264_opengop.mkv", "av1.mkv", "mpeg2.ts"]
"""A small subset for the quick test run: one file per kind of trouble."""


def write_case(case: Case, folder: Path) -> Path | None:
    """Encode ``case`` into ``folder``; None when this build of FFmpeg lacks its encoder."""
    try:
        av.codec.Codec(case.codec, "w")
    except Exception:  # noqa: BLE001 - PyAV raises several kinds for an unknown encoder
        return None
    path = folder / case.name
    rate = 24
    with av.open(str(path), "w") as container:
        stream = container.add_stream(case.codec, rate=rate)
        stream.width, stream.height = case.width, case.height
        stream.pix_fmt = "yuv420p"
        stream.codec_context.gop_size = case.gop
        if case.codec in ("mpeg2video", "mpeg4"):
            stream.codec_context.max_b_frames = case.bframes
        if case.options:
            stream.options = dict(case.options)
        if case.vfr or case.start_pts:
            stream.codec_context.time_base = Fraction(1, rate * 10)
        pts = case.start_pts * 10
        for i in range(case.frames):
            frame = av.VideoFrame.from_ndarray(synthetic_frame(i, case.width, case.height), format="rgb24")
            if case.vfr or case.start_pts:
                frame.pts = pts
                frame.time_base = Fraction(1, rate * 10)
                pts += (5 + (i * 7) % 23) if case.vfr else 10
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
