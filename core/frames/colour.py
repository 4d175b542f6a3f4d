"""YUV to RGB the way video players show it.

Decoded frames are converted to 8-bit RGB at the stream's full coded picture size (no
cropping, no scaling). The matrix and range are the ones the stream is tagged with
(BT.709, BT.601, BT.2020, limited or full range); an untagged stream is treated as players
treat it: BT.709 from 720 lines up, BT.601 below, limited range unless the pixel format is
a full-range ("yuvj") one. A display-rotation tag (phone videos) is applied, so frames are
upright as a player shows them; width and height in VideoInfo are after rotation.
"""

from __future__ import annotations

import av
import numpy as np

from core.allocator import long_lived

# FFmpeg AVColorSpace values
_UNSPECIFIED = 2
_RGB = 0
_BT709 = 1
_BT601 = 5


def player_colorspace(tagged: int, height: int) -> int:
    """The YUV matrix to use (an AVColorSpace value) given the stream's tag and its height."""
    if tagged in (_UNSPECIFIED, _RGB) or tagged is None:
        return _BT709 if height >= 720 else _BT601
    return tagged


def frame_to_rgb(frame: av.VideoFrame) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame, upright. See the module docstring for the colours."""
    # Frames stay in the frame cache for a while: keep them off the heap (core/allocator.py).
    with long_lived():
        if frame.format.name in ("rgb24",):
            rgb = frame.to_ndarray()
        elif frame.format.name.startswith(("yuv", "nv", "p0", "p2", "p4", "y2", "uyvy", "yuyv")):
            rgb = frame.to_ndarray(
                format="rgb24", src_colorspace=player_colorspace(frame.colorspace, frame.height)
            )
        else:  # gray, palette, other RGB layouts: swscale's own conversion is exact enough
            rgb = frame.to_ndarray(format="rgb24")
        rotation = int(round(frame.rotation)) % 360 if frame.rotation else 0
        if rotation:
            # FFmpeg's display rotation is counter-clockwise degrees; players turn the picture back.
            rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))
        return rgb
