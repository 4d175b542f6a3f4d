"""Opening a video container and what its header says before a packet is read: a video stream
there, its declared size against the file's (MP4/MOV sample table, Matroska segment, MPEG-TS
packets: core.frames.truncation), the frame count bound, FFmpeg's words for a failure."""

from __future__ import annotations

from pathlib import Path

import av

from av.codec.hwaccel import HWAccel, hwdevices_available

from core.frames.errors import FrameSourceError
from core.frames.truncation import truncation_problem
from core.validation.bounds import MAX_FRAME_PIXELS, MAX_FRAMES, MAX_SIDE


def reason(exc: BaseException) -> str:
    """FFmpeg's own words for a failure, without the errno prefix and file name PyAV adds."""
    strerror = getattr(exc, "strerror", None)
    return str(strerror or exc).strip().rstrip(".")


def open_container(path: Path, whole: bool = True, hwaccel: HWAccel | None = None) -> tuple[av.container.InputContainer, int]:
    """``path`` opened, its first video stream checked; (container, frames its MP4/MOV sample
    table lists, 0 for other containers). whole: also check the declared sizes against the
    file's (the index does; the decoder, opened beside it, need not again). hwaccel: decode on
    that device. Raises FrameSourceError (one line) and then closes it."""
    try:
        container = av.open(str(path), hwaccel=hwaccel)
    except (av.FFmpegError, OSError, ValueError, UnicodeDecodeError, MemoryError) as exc:  # a damaged header
        raise FrameSourceError(f"{path}: not a readable video ({reason(exc)})") from None
    try:
        if not container.streams.video:
            raise FrameSourceError(f"{path}: contains no video stream")
        stream = container.streams.video[0]
        ctx = stream.codec_context  # None for a stream no decoder knows: the scan says what is wrong
        if ctx is not None and (ctx.width * ctx.height > MAX_FRAME_PIXELS or max(ctx.width, ctx.height) > MAX_SIDE):
            raise FrameSourceError(f"{path}: its frames are {ctx.width}x{ctx.height} pixels, more than Masklet opens "
                                   f"({MAX_FRAME_PIXELS} pixels, {MAX_SIDE} a side)")
        count = 0
        if not whole:
            pass
        elif container.format.name.startswith("mov"):
            end = 0
            for entry in stream.index_entries:
                count += not entry.is_discard
                end = max(end, entry.pos + entry.size)
            size = path.stat().st_size
            if count > MAX_FRAMES:
                raise FrameSourceError(f"{path}: its sample table lists {count} frames, more than {MAX_FRAMES}")
            if count and end > size:
                raise FrameSourceError(
                    f"{path}: truncated or damaged, the file has {size} bytes but its frames run to byte {end}"
                )
        else:
            problem = truncation_problem(path, container.format.name)
            if problem:
                raise FrameSourceError(problem)
    except BaseException:
        container.close()
        raise
    return container, count


def open_decoder(path: Path) -> av.container.InputContainer:
    """``path`` opened for decoding its first video stream (threaded where the codec can)."""
    container, _ = open_container(path, whole=False)
    if container.streams.video[0].codec_context is None:
        container.close()
        raise FrameSourceError(f"{path}: no decoder knows its video stream (damaged, or an unsupported codec)")
    try:
        container.streams.video[0].codec_context.thread_type = "AUTO"
    except (av.FFmpegError, ValueError, AttributeError):  # some decoders refuse threads
        pass
    return container



def open_gpu_decoder(path: Path) -> av.container.InputContainer | None:
    """``path`` opened for decoding on the GPU's video decoder (NVDEC); None where FFmpeg has no
    CUDA device it can use or its decoder cannot take this stream (the CPU decodes it then).
    Its frames come as NV12: see ``core.frames.colour.frame_to_rgb``'s ``planar``."""
    if "cuda" not in hwdevices_available():
        return None
    try:
        container, _ = open_container(path, whole=False, hwaccel=HWAccel("cuda", allow_software_fallback=True))
    except FrameSourceError:  # the driver refused (no GPU, no NVDEC): the CPU decodes
        return None
    if not container.streams.video[0].codec_context.is_hwaccel:
        container.close()
        return None
    return container
