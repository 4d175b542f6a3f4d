"""Frame-exact random access to a video file through PyAV.

Frame i is the frame whose presentation timestamp is the i-th smallest of the stream (see
core.frames.index). Reaching it: keep decoding forward when the decoder is already at or
past the keyframe that precedes i (sequential reading never seeks); otherwise seek to that
keyframe and decode forward to exactly i's timestamp. Reading backward (i, i-1, ...) keeps
a window of the frames decoded just before i in the cache, so one decode from the keyframe
serves the next ``backward_window`` requests. Colours: see core.frames.colour.
"""

from __future__ import annotations

import math
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from core.frames.base import CachedFrames
from core.frames.colour import PLANAR_420, frame_to_rgb
from core.frames.errors import FrameSourceError
from core.frames.fingerprint import fingerprint_file
from core.frames.index import PtsIndex, open_index
from core.frames.probe import open_decoder as _open_decoder, open_gpu_decoder, reason
from core.media import VIDEO_EXTENSIONS  # noqa: F401 - re-exported by core.frames
from core.types import CancelCheck, VideoInfo
from core.validation.bounds import MAX_FPS


# Frames kept from one decode run when reading backward, at most a third of the cache: a
# 250-frame GOP read backward is then decoded ~4 times over instead of once per frame.
BACKWARD_WINDOW = 64

# Frame 0 of each index in use, read-only. The window and the model worker open the video on
# screen at the same moment and share its index (core.frames.index); the second takes frame 0
# from here instead of decoding it again while the first click's image encoder waits for it.
_first_frames: "weakref.WeakKeyDictionary[PtsIndex, np.ndarray]" = weakref.WeakKeyDictionary()
_first_lock = threading.Lock()  # held while frame 0 decodes, so a second opener waits for it


_OPENER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="masklet-open")


class VideoFrames(CachedFrames):
    """A video file as a FrameSource. Opening indexes the packets and decodes frame 0."""

    def __init__(self, path: Path, cache_mb: int = 512) -> None:
        # The decoder's container opens on a helper thread while this one starts the index
        # (which opens a container of its own): PyAV lets go of Python's lock while FFmpeg
        # opens a file, so the two take the time of one (25 ms for a 720p H.264 mp4).
        opening = _OPENER.submit(_open_decoder, path)
        try:
            self.index: PtsIndex = open_index(path)
        except FrameSourceError:
            try:
                opening.result().close()
            except FrameSourceError:
                pass
            raise
        try:
            self._container = opening.result()
        except FrameSourceError:
            self.index.release()
            raise
        self._stream = self._container.streams.video[0]
        self._planar: str | None = None  # set while the GPU's decoder decodes (use_gpu_decoder)
        self.path = path
        self._frames: Iterator[av.VideoFrame] | None = None
        self._pos = -1  # frame number the decoder last produced; -1: must seek first
        self._skip_below = 0  # packets with a smaller pts need not be output: skip non-reference ones
        self._floor = 0  # the keyframe the decoder started from; frames before it are unreliable
        self._from_start = True  # the decoder's last seek was to the start of the file
        self._last_request = -1
        self.seeks = 0  # how often the decoder was repositioned (sequential reading must not)
        first = self._first_frame()
        info = VideoInfo(
            width=int(first.shape[1]), height=int(first.shape[0]),
            frame_count=len(self.index), fps=self._frame_rate(),
        )
        super().__init__(path, info, cache_mb)
        self.cache.put(0, first)

    @property
    def keyframes(self) -> np.ndarray:
        """(K,) int64 frame numbers where a seek can start (waits for the index)."""
        return self.index.keyframes()

    @property
    def gpu_decoding(self) -> bool:
        """Whether frames now decode on the GPU's video decoder."""
        return self._planar is not None

    def use_gpu_decoder(self) -> bool:
        """Decode from now on with the GPU's video decoder (NVDEC) where FFmpeg can; True when so.

        For a model on a GPU: the CPU then no longer decodes (docs/benchmarks.md, "Host work per
        frame"), and the frames are the same to the bit (core.frames.colour). Only 8-bit 4:2:0
        video of even size (what the GPU's NV12 frames can stand for); frames decoded so far
        stay cached; the decoder starts again at the next frame asked for.
        """
        with self._lock:
            self._check_open()
            if self._planar is not None:
                return True
            # The CPU decoder's format is the one the GPU's NV12 frames are laid out as again.
            ctx = self._stream.codec_context
            if ctx.pix_fmt not in PLANAR_420 or ctx.width % 2 or ctx.height % 2:
                return False
            container = open_gpu_decoder(self.path)
            if container is None:
                return False
            self._frames = None
            self._container.close()
            self._container, self._planar = container, ctx.pix_fmt
            self._stream = self._container.streams.video[0]
            self._pos = -1
            return True

    # -- decoding ------------------------------------------------------------------
    def _first_frame(self) -> np.ndarray:
        with _first_lock:
            frame = _first_frames.get(self.index)
            if frame is not None:
                return frame
            try:
                frame = self._decode_to(0, keep_from=0, store=False, abort=None)
            except FrameSourceError:
                self.index.release()
                self._container.close()
                raise
            assert frame is not None
            frame.setflags(write=False)  # in two caches at once; get() hands out copies
            _first_frames[self.index] = frame
            return frame

    def _frame_rate(self) -> float:
        """Frames per second: the stream's, if it is a sane one (finite, within MAX_FPS), else from the pts."""
        for rate in (self._stream.average_rate, self._stream.guessed_rate, self._stream.base_rate):
            if rate and 0 < float(rate) <= MAX_FPS:
                return float(rate)
        pts = self.index.all_pts()
        span = (int(pts[-1]) - int(pts[0])) * self.index.time_base
        rate = (len(self.index) - 1) / span if span > 0 and len(self.index) > 1 else 0.0
        return rate if math.isfinite(rate) and rate <= MAX_FPS else 0.0  # 0: unknown

    def _decode(self, index: int, *, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        backward = 0 <= index < self._last_request
        window = 0
        if store:  # thumbnails (store=False) must not look like a caller reading backward
            self._last_request = index
        if store and backward:
            room = self.cache.capacity_for(self._frame_bytes) // 3
            window = max(0, min(BACKWARD_WINDOW, room))
        return self._decode_to(index, keep_from=index - window, store=store, abort=abort)

    def _decode_to(self, target: int, *, keep_from: int, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        """Decode up to frame ``target`` and return it; frames in [keep_from, target] go to the cache."""
        try:
            if not self.index.counting:
                return self._seek_and_run(target, keep_from, store, abort)
        except _Unreliable:
            # Timestamps or seeking of this file cannot be trusted (frames out of order, a
            # frame missing, a seek that lands elsewhere): from now on frame i is the i-th
            # frame the decoder gives from the start, which is what sequential reading sees.
            self.index.counting = True
            if hasattr(self, "cache"):  # not yet while frame 0 decodes at opening
                self.cache.clear()
            self._frames, self._pos = None, -1
        return self._count_to(target, keep_from, store, abort)

    def _seek_and_run(self, target: int, keep_from: int, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        key = self.index.keyframe_at_or_before(target)
        cost_forward = target - self._pos
        if not (self._frames is not None and 0 <= self._pos < target and cost_forward <= target - key + 2):
            self._seek(key)
        for attempt in range(4):
            result = self._run_to(target, keep_from, store, abort)
            if result is None or isinstance(result, np.ndarray):
                return result
            if self._from_start:
                raise _Unreliable  # even decoding from the start did not meet the target
            # The seek landed after the target (a demuxer that seeks by bytes or decode time,
            # an open GOP): start one keyframe earlier, then three, then from the very start.
            for _ in range(1 if attempt == 0 else 3):
                earlier = self.index.keyframe_before(key) if key > 0 else None
                key = earlier if earlier is not None else 0
            if attempt >= 2:
                key = 0
            self._seek(key, from_start=key == 0)
        raise _Unreliable

    def _count_to(self, target: int, keep_from: int, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        """Frame ``target`` as the target-th frame decoded from the start (no seeking but to 0)."""
        if not (self._frames is not None and 0 <= self._pos < target):
            self._seek(0, from_start=True)
        while True:
            if abort is not None and abort():
                return None
            frame = self._next_frame(target)
            if frame is None:
                raise FrameSourceError(f"{self.path}: the video ended before frame {target}")
            self._pos += 1
            number = self._pos
            if number == target:
                rgb = self._rgb(frame, number)
                if store:
                    self.cache.put(number, rgb)
                return rgb
            if store and number >= keep_from and number not in self.cache:
                self.cache.put(number, self._rgb(frame, number))

    def _rgb(self, frame: av.VideoFrame, number: int) -> np.ndarray:
        """(H, W, 3) RGB of a decoded frame, which must have the video's size (a damaged stream
        can change it mid-way)."""
        try:
            rgb = frame_to_rgb(frame, self._planar)
        except (ValueError, TypeError, MemoryError) as exc:
            raise FrameSourceError(f"{self.path}: frame {number} could not be converted to RGB ({exc})") from None
        info = getattr(self, "_info", None)
        if info is not None and rgb.shape[:2] != (info.height, info.width):
            raise FrameSourceError(f"{self.path}: frame {number} is {rgb.shape[1]}x{rgb.shape[0]}, "
                                   f"the video {info.width}x{info.height} (damaged?)")
        return rgb

    def _seek(self, key: int, from_start: bool = False) -> None:
        from_start = from_start or key == 0
        try:
            if from_start:
                self._container.seek(0, backward=True, any_frame=False)
            else:
                self._container.seek(self.index.pts_of(key), stream=self._stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            raise FrameSourceError(f"{self.path}: seeking to frame {key} failed ({reason(exc)})") from None
        self._stream.codec_context.flush_buffers()
        self.seeks += 1
        self._from_start = from_start
        self._frames = self._stream_frames(verify_key=not from_start)
        self._pos = -1
        self._floor = 0 if from_start else -1  # -1: set by the first keyframe packet after the seek

    def _stream_frames(self, verify_key: bool) -> Iterator[av.VideoFrame]:
        ctx = self._stream.codec_context
        ctx.skip_frame = "DEFAULT"  # an abandoned run may have left it skipping
        skipping = False
        counting = self.index.counting
        for packet in self._container.demux(self._stream):
            if verify_key and packet.size:
                # Decoding starts at a keyframe the index knows, never at whatever packet the
                # demuxer landed on (MPEG-TS and PS seek by bytes and may land mid-GOP).
                floor = self.index.frame_of_keyframe_pts(packet.pts) if packet.is_keyframe else None
                if floor is None:
                    continue
                self._floor = floor
                verify_key = False
            # Frames nothing else references are not decoded at all on the way to the
            # wanted ones (typically the B-frames): they cannot change any other frame.
            skip = not counting and packet.pts is not None and packet.pts < self._skip_below
            if skip != skipping:
                ctx.skip_frame = "NONREF" if skip else "DEFAULT"
                skipping = skip
            yield from packet.decode()

    def _next_frame(self, target: int) -> av.VideoFrame | None:
        """The decoder's next frame; None at the end of the stream."""
        assert self._frames is not None
        try:
            return next(self._frames)
        except StopIteration:
            self._frames = None
            return None
        except (av.FFmpegError, ValueError, UnicodeDecodeError, MemoryError) as exc:  # damaged data, whatever PyAV calls it
            self._frames = None
            self._pos = -1
            raise FrameSourceError(f"{self.path}: frame {target} could not be decoded ({reason(exc)})") from None

    def _run_to(self, target: int, keep_from: int, store: bool, abort: CancelCheck | None) -> np.ndarray | None | object:
        """Decode forward to ``target``; None when aborted, _OVERSHOT when the seek went past it.

        Raises _Unreliable when the frames do not come out as the index says they must: the
        keyframe first, then every frame from the first one needed on, in order.
        """
        first_needed = max(keep_from, 0) if store else target
        self._skip_below = self.index.pts_of(first_needed)
        while True:
            if abort is not None and abort():
                return None
            frame = self._next_frame(target)
            if frame is None:
                self._pos = -1
                if self._floor < 0 or self._floor > target:
                    return _OVERSHOT  # no keyframe at or before the target after this seek
                raise _Unreliable  # the index promises the frame, the decoder ended before it
            if self._floor > target:
                self._frames, self._pos = None, -1
                return _OVERSHOT
            number = self.index.frame_of_pts(int(frame.pts)) if frame.pts is not None else None
            if self._pos < 0:
                if number is None or number < self._floor:
                    continue  # leading frames of an open GOP reference the previous one: not exact
                if number != self._floor:
                    raise _Unreliable  # the keyframe decoded to another frame's timestamp
            elif number is None or number <= self._pos or (number > self._pos + 1 and number > first_needed):
                raise _Unreliable  # out of order, or a frame we need went missing
            self._pos = number
            if number == target:
                rgb = self._rgb(frame, number)
                if store:
                    self.cache.put(number, rgb)
                return rgb
            if number > target:
                raise _Unreliable
            if store and number >= keep_from and number not in self.cache:
                self.cache.put(number, self._rgb(frame, number))

    def _compute_fingerprint(self) -> str:
        return fingerprint_file(self.path, len(self.index))

    def _close_decoder(self) -> None:
        self._frames = None
        self.index.release()
        self._container.close()


_OVERSHOT = object()


class _Unreliable(Exception):
    """The file's timestamps or seeking cannot be trusted; switch to counting from the start."""
