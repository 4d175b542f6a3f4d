"""The presentation-timestamp index of a video stream, built by demuxing packets (no decoding).

Frame i is the packet with the i-th smallest presentation timestamp (pts); to reach it a
decoder seeks to the last keyframe whose pts is at or before it and decodes forward until a
frame with exactly that pts comes out. Reading the packets touches the whole file once but
decodes nothing: a few milliseconds for a minute of HD video (see bench/open_video.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from core.frames.errors import FrameSourceError


@dataclass(frozen=True)
class PtsIndex:
    """pts: (N,) int64 sorted presentation timestamps in stream time_base units, one per frame.

    keyframes: (K,) int64 sorted frame numbers (indices into pts) of keyframes; frame 0 is
    always counted as a seek point so every frame has one at or before it.
    """

    pts: np.ndarray
    keyframes: np.ndarray
    time_base: float  # seconds per pts unit

    def __len__(self) -> int:
        return int(self.pts.shape[0])

    def frame_of_pts(self, pts: int) -> int | None:
        """The frame number with exactly this pts, or None."""
        i = int(np.searchsorted(self.pts, pts))
        return i if i < len(self.pts) and int(self.pts[i]) == pts else None

    def keyframe_at_or_before(self, frame: int) -> int:
        """The frame number of the last keyframe <= ``frame``."""
        k = int(np.searchsorted(self.keyframes, frame, side="right")) - 1
        return int(self.keyframes[max(k, 0)])

    def keyframe_before(self, keyframe: int) -> int | None:
        """The keyframe preceding keyframe ``keyframe``, or None for the first."""
        k = int(np.searchsorted(self.keyframes, keyframe, side="left")) - 1
        return int(self.keyframes[k]) if k >= 0 else None


def scan_index(path: Path, expected_frames: int = 0) -> PtsIndex:
    """Demux every packet of the first video stream of ``path`` and index their pts.

    expected_frames: the container's own frame count (0 when unknown); fewer readable packets
    than that means a truncated or damaged file. Raises FrameSourceError.
    """
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as exc:
        raise FrameSourceError(f"{path}: not a readable video ({_reason(exc)})") from None
    try:
        if not container.streams.video:
            raise FrameSourceError(f"{path}: contains no video stream")
        stream = container.streams.video[0]
        pts_list: list[int] = []
        key_pts: list[int] = []
        try:
            for packet in container.demux(stream):
                if packet.size == 0 or packet.is_discard:
                    continue  # the end-of-stream flush packet; samples an edit list hides
                if packet.is_corrupt:
                    total = f" of {expected_frames}" if expected_frames else ""
                    raise FrameSourceError(
                        f"{path}: truncated or damaged, frame data breaks off at frame {len(pts_list) + 1}{total}"
                    )
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    raise FrameSourceError(f"{path}: video packets carry no timestamps; convert it to mp4 first")
                pts_list.append(int(ts))
                if packet.is_keyframe:
                    key_pts.append(int(ts))
        except av.FFmpegError as exc:
            raise FrameSourceError(
                f"{path}: truncated or damaged after {len(pts_list)} frames ({_reason(exc)})"
            ) from None
        time_base = float(stream.time_base) if stream.time_base else 0.0
    finally:
        container.close()
    if expected_frames and len(pts_list) < expected_frames:
        raise FrameSourceError(
            f"{path}: truncated or damaged, only {len(pts_list)} of {expected_frames} frames are readable"
        )
    if not pts_list:
        raise FrameSourceError(f"{path}: the video stream has no frames")
    pts = np.array(sorted(pts_list), dtype=np.int64)
    if len(np.unique(pts)) != len(pts):
        raise FrameSourceError(f"{path}: several frames share one timestamp; cannot seek exactly")
    keys = sorted({int(np.searchsorted(pts, k)) for k in key_pts} | {0})
    return PtsIndex(pts=pts, keyframes=np.array(keys, dtype=np.int64), time_base=time_base)


def _reason(exc: BaseException) -> str:
    """FFmpeg's own words for a failure, without the errno prefix and file name PyAV adds."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror or exc).strip().rstrip(".")
