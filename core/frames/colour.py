"""YUV to RGB the way video players show it.

Decoded frames are converted to 8-bit RGB at the stream's full coded picture size (no
cropping, no scaling). The matrix and range are the ones the stream is tagged with
(BT.709, BT.601, BT.2020, limited or full range); an untagged stream is treated as players
treat it: BT.709 from 720 lines up, BT.601 below, limited range unless the pixel format is
a full-range ("yuvj") one. A display-rotation tag (phone videos) is applied, so frames are
upright as a player shows them; width and height in VideoInfo are after rotation.

Frames from a GPU's decoder arrive as NV12 (the chroma planes interleaved). swscale converts
NV12 to RGB by another path than the planar 4:2:0 a CPU decoder gives (up to 19 levels apart
on a test video), so such a frame is first laid out as the planar format the CPU decoder would
have produced, which makes its RGB the same to the bit.
"""

from __future__ import annotations

import av
import numpy as np

from core.allocator import kept_array

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


PLANAR_420 = ("yuv420p", "yuvj420p")  # the 8-bit 4:2:0 layouts a GPU's decoder can give as NV12


def frame_to_rgb(frame: av.VideoFrame, planar: str | None = None) -> np.ndarray:
    """(H, W, 3) uint8 RGB of a decoded frame, upright. See the module docstring for the colours.

    planar: the stream's format as a CPU decoder gives it (one of PLANAR_420) when frames may
    come from a GPU's decoder as NV12; they are converted as that format would be.
    """
    rotation = int(round(frame.rotation)) % 360 if frame.rotation else 0
    colorspace = player_colorspace(frame.colorspace, frame.height)
    if planar in PLANAR_420 and frame.format.name == "nv12":
        frame = nv12_as_planar(frame, planar)
    if frame.format.name in ("rgb24",):
        rgb = frame.to_ndarray()
    elif frame.format.name.startswith(("yuv", "nv", "p0", "p2", "p4", "y2", "uyvy", "yuyv")):
        rgb = frame.to_ndarray(format="rgb24", src_colorspace=colorspace)
    else:  # gray, palette, other RGB layouts: swscale's own conversion is exact enough
        rgb = frame.to_ndarray(format="rgb24")
    if rotation:
        # FFmpeg's display rotation is counter-clockwise degrees; players turn the picture back.
        rgb = np.ascontiguousarray(np.rot90(rgb, k=rotation // 90))
    # Frames stay in the frame cache for a while: keep them off the heap (core/allocator.py).
    return kept_array(rgb)


def nv12_as_planar(frame: av.VideoFrame, planar: str) -> av.VideoFrame:
    """An NV12 frame (even width and height) as a ``planar`` (yuv420p or yuvj420p) frame with the
    same samples, range and matrix tag."""
    h, w = frame.height, frame.width
    nv = frame.to_ndarray()  # (h * 3/2, w): the luma rows, then rows of interleaved U, V
    uv = nv[h:].reshape(h // 2, w // 2, 2)
    samples = np.concatenate((nv[:h].reshape(-1), uv[..., 0].reshape(-1), uv[..., 1].reshape(-1)))
    out = av.VideoFrame.from_ndarray(samples.reshape(h * 3 // 2, w), format=planar)
    out.color_range = frame.color_range
    out.colorspace = frame.colorspace
    return out
