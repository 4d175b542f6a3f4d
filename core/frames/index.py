"""The presentation-timestamp index of a video stream, built by demuxing packets (no decoding).

Frame i is the packet with the i-th smallest presentation timestamp (pts); to reach it a
decoder seeks to the last keyframe whose pts is at or before it and decodes forward until a
frame with exactly that pts comes out.

Reading every packet costs ~11 us per frame (0.2 s for 10 minutes at 30 fps). For MP4/MOV the
container's own sample table already gives the frame count, so the scan runs on a background
thread and a question about frame i waits only until the scan has passed it: packets come in
decode order with rising decode timestamps (dts) and pts >= dts, so once a packet with dts D
has been read every pts below D is final. Other containers are scanned before opening returns.

While no reader waits on it, the background scan takes at most ``IDLE_SHARE`` of one core: an
hour of video is ~100,000 packets and the scan is Python, so at full speed it would take a
quarter of a second from the image encoder working on the annotator's first click. As soon as
a reader asks about a frame the scan has not reached, it runs flat out again. Inside
``quiet_scans()`` (the video engine wraps its image-encoder runs in it) an unwatched scan
stands still: on two cores even a tenth of one, taking Python's lock in bursts, delayed the
first click on an hour-long video by 0.1-0.2 s.

The window and the model worker each open the video on screen at the same moment: opening the
same unchanged file again while its index is in use shares that index (one scan, one pass over
the sample table; ``release()`` when done).
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np

from core.frames.errors import FrameSourceError
from core.frames.probe import open_container, reason  # noqa: F401 - reason is re-exported
from core.validation.bounds import MAX_FRAMES

_BATCH = 256  # packets the scanner reads between publishing to waiting readers
IDLE_SHARE = 0.1  # of one core, for the background scan while no reader waits on it
_QUIET_POLL_S = 0.05  # how often a scan standing still inside quiet_scans() looks again
_quiet = 0  # quiet_scans() blocks open, over all threads
_quiet_lock = threading.Lock()

_FileKey = tuple[str, int, int]  # real path, size in bytes, modification time in ns
_shared: dict[_FileKey, "PtsIndex"] = {}  # indexes in use, by the file they index
_gates: dict[_FileKey, threading.Lock] = {}  # one opening at a time per file, so the next can share
_shared_lock = threading.Lock()


@contextmanager
def quiet_scans() -> Iterator[None]:
    """Within this block, background scans that no reader waits on stand still (any thread)."""
    global _quiet
    with _quiet_lock:
        _quiet += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet -= 1


class PtsIndex:
    """Sorted pts of every frame (stream time_base units) and the keyframes, possibly still filling.

    Every query blocks until the scan has covered what it asks about, and raises
    FrameSourceError when the scan found the file broken before reaching it.
    """

    def __init__(self, path: Path, frame_count: int, time_base: float) -> None:
        self.path = path
        self.time_base = time_base  # seconds per pts unit
        self._count = frame_count  # 0: unknown until the scan ends
        self._pts: list[int] = []  # sorted
        self._keys: list[int] = []  # sorted pts of keyframes
        self._frontier = -(2**63)  # every pts below this is final
        self._done = False
        self._error: str | None = None
        self._stop = False
        self._waiting = 0  # readers blocked on the scan
        self._users = 1  # open_index() callers that have not released it yet
        self._key: _FileKey | None = None  # set while other openers may share it
        self._cond = threading.Condition()
        # True once a reader found this file's timestamps or seeking unreliable: then frame i
        # is the i-th frame decoded from the start (core.frames.video), for every user.
        self.counting = False

    # -- queries -------------------------------------------------------------------
    def __len__(self) -> int:
        return self._count

    @property
    def done(self) -> bool:
        return self._done

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the scan has finished; False on timeout. Raises if it found damage."""
        with self._cond:
            finished = self._wait_for(lambda: self._done, timeout)
            if finished and self._error:
                raise FrameSourceError(self._error)
            return finished

    def pts_of(self, frame: int) -> int:
        """The pts of frame number ``frame`` (0-based, presentation order)."""
        with self._cond:
            self._wait_for(lambda: self._done or bisect.bisect_left(self._pts, self._frontier) > frame)
            if frame >= len(self._pts):
                raise FrameSourceError(self._error or f"{self.path}: frame {frame} is beyond the end of the video")
            return self._pts[frame]

    def frame_of_pts(self, pts: int) -> int | None:
        """The frame number with exactly this pts, or None."""
        with self._cond:
            self._wait_for(lambda: self._done or pts < self._frontier)
            i = bisect.bisect_left(self._pts, pts)
            return i if i < len(self._pts) and self._pts[i] == pts else None

    def frame_of_keyframe_pts(self, pts: int | None) -> int | None:
        """The frame number of the keyframe with exactly this pts, or None when it is not one."""
        if pts is None:
            return None
        frame = self.frame_of_pts(int(pts))
        with self._cond:
            k = bisect.bisect_left(self._keys, pts)
            known = k < len(self._keys) and self._keys[k] == pts
        return frame if known else None

    def keyframe_at_or_before(self, frame: int) -> int:
        """The frame number of the last keyframe <= ``frame`` (frame 0 counts as one)."""
        target = self.pts_of(frame)
        with self._cond:  # every keyframe with pts <= target is already known (pts_of waited)
            k = bisect.bisect_right(self._keys, target) - 1
            return bisect.bisect_left(self._pts, self._keys[k]) if k >= 0 else 0

    def keyframe_before(self, keyframe: int) -> int | None:
        """The keyframe preceding keyframe number ``keyframe``, or None for the first."""
        target = self.pts_of(keyframe)
        with self._cond:
            k = bisect.bisect_left(self._keys, target) - 1
            return bisect.bisect_left(self._pts, self._keys[k]) if k >= 0 else None

    def all_pts(self) -> np.ndarray:
        """(N,) int64 sorted pts of every frame (waits for the scan)."""
        self.wait()
        return np.array(self._pts, dtype=np.int64)

    def keyframes(self) -> np.ndarray:
        """(K,) int64 sorted frame numbers of the keyframes, 0 included (waits for the scan)."""
        self.wait()
        return np.array(sorted({bisect.bisect_left(self._pts, k) for k in self._keys} | {0}), dtype=np.int64)

    def release(self) -> None:
        """One user is done with the index; the last one stops its scan (``close``)."""
        with _shared_lock:
            self._users -= 1
            last = self._users <= 0
            if last and self._key is not None and _shared.get(self._key) is self:
                del _shared[self._key]
                _gates.pop(self._key, None)
        if last:
            self.close()

    def close(self) -> None:
        """Ask a running scan to stop (for every user; see ``release``)."""
        with self._cond:
            self._stop = True
            self._cond.notify_all()

    def _wait_for(self, predicate, timeout: float | None = None) -> bool:  # noqa: ANN001
        """``Condition.wait_for`` (lock held) that also wakes a throttled scan to full speed."""
        if predicate():
            return True
        self._waiting += 1
        self._cond.notify_all()
        try:
            return self._cond.wait_for(predicate, timeout)
        finally:
            self._waiting -= 1

    def _idle_pause(self, busy_s: float) -> None:
        """After ``busy_s`` CPU seconds of scanning, rest while unwatched: to IDLE_SHARE of a
        core, and for as long as a quiet_scans() block is open anywhere."""
        with self._cond:
            watched = lambda: self._waiting or self._stop  # noqa: E731
            if not watched():
                self._cond.wait_for(watched, busy_s * (1.0 / IDLE_SHARE - 1.0))
            while _quiet and not watched():
                self._cond.wait_for(watched, _QUIET_POLL_S)

    # -- the scan ------------------------------------------------------------------
    def scan(
        self, container: av.container.InputContainer, expected: int, expected_s: float = 0.0, background: bool = False
    ) -> None:
        """Read every packet of the container's first video stream; closes the container.

        expected: frames the container announces (0 when unknown); fewer readable packets
        than that means a truncated or damaged file. expected_s: the video's announced
        duration in seconds (0 when unknown), checked when the frame count is not announced.
        background: the scan's own thread; it rests while no reader waits (IDLE_SHARE).
        """
        stream = container.streams.video[0]
        pts_batch: list[int] = []
        key_batch: list[int] = []
        frontier = self._frontier
        seen = 0
        error: str | None = None
        started = time.thread_time()  # CPU seconds of this thread: its share of a core
        try:
            for packet in container.demux(stream):
                if self._stop:
                    error = f"{self.path}: the frame source is closed"
                    break
                if packet.size == 0 or packet.is_discard:
                    continue  # the end-of-stream flush packet; samples an edit list hides
                if packet.is_corrupt:
                    total = f" of {expected}" if expected else ""
                    error = f"{self.path}: truncated or damaged, frame data breaks off at frame {seen + 1}{total}"
                    break
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None:
                    error = f"{self.path}: video packets carry no timestamps; convert it to mp4 first"
                    break
                seen += 1
                if seen > MAX_FRAMES:
                    error = f"{self.path}: more than {MAX_FRAMES} frames"
                    break
                pts_batch.append(int(ts))
                if packet.is_keyframe:
                    key_batch.append(int(ts))
                if packet.dts is not None:
                    frontier = max(frontier, int(packet.dts))
                if len(pts_batch) >= _BATCH:
                    error = self._publish(pts_batch, key_batch, frontier)
                    pts_batch, key_batch = [], []
                    if error:
                        break
                    if background:
                        self._idle_pause(time.thread_time() - started)
                        started = time.thread_time()
        except (av.FFmpegError, ValueError, UnicodeDecodeError, MemoryError) as exc:  # damaged, in PyAV's words
            error = f"{self.path}: truncated or damaged after {seen} frames ({reason(exc)})"
        finally:
            container.close()
        if not error:
            error = self._publish(pts_batch, key_batch, frontier)
        if not error and expected and seen < expected:
            error = f"{self.path}: truncated or damaged, only {seen} of {expected} frames are readable"
        if not error and seen == 0:
            error = f"{self.path}: the video stream has no frames"
        if not error and not expected and expected_s > 0 and seen > 1:
            span = (self._pts[-1] - self._pts[0]) * self.time_base
            span += span / (seen - 1)  # the last frame lasts one frame duration too
            if span < 0.9 * expected_s - 0.1:
                error = (f"{self.path}: truncated or damaged, its frames cover {span:.1f} s "
                         f"of the {expected_s:.1f} s it announces")
        with self._cond:
            self._error = error
            self._done = True
            if not error:
                self._count = len(self._pts)
            self._cond.notify_all()

    def _publish(self, pts: list[int], keys: list[int], frontier: int) -> str | None:
        with self._cond:
            for p in pts:
                i = bisect.bisect_left(self._pts, p)
                if i < len(self._pts) and self._pts[i] == p:
                    return f"{self.path}: several frames share one timestamp; cannot seek exactly"
                self._pts.insert(i, p)
            for k in keys:
                bisect.insort(self._keys, k)
            self._frontier = frontier
            self._cond.notify_all()
        return None


def open_index(path: Path) -> PtsIndex:
    """The index of ``path``: built in the background for MP4/MOV, otherwise completely, now;
    shared with a user of the same unchanged file that has not released it. ``release()`` it.

    Raises FrameSourceError for an unreadable file, one without video, or (MP4/MOV) one
    shorter than its own sample table says.
    """
    try:
        st = os.stat(path)
        key: _FileKey | None = (os.path.realpath(path), st.st_size, st.st_mtime_ns)
    except OSError:
        key = None
    if key is None:
        return _build_index(path)
    with _shared_lock:
        gate = _gates.setdefault(key, threading.Lock())
    with gate:  # a second opener of the same file waits for the first, then shares its index
        with _shared_lock:
            index = _shared.get(key)
            if index is not None and not index._stop:
                index._users += 1
                return index
        index = _build_index(path)
        with _shared_lock:
            index._key = key
            _shared[key] = index
            _gates.setdefault(key, gate)
        return index


def _build_index(path: Path) -> PtsIndex:
    container, count = open_container(path)
    stream = container.streams.video[0]
    time_base = float(stream.time_base) if stream.time_base else 0.0
    index = PtsIndex(path, count, time_base)
    if count:  # MP4/MOV: the sample table gave the count; the scan fills in behind readers
        thread = threading.Thread(
            target=index.scan, args=(container, count), kwargs={"background": True}, name="masklet-index", daemon=True
        )
        thread.start()
    else:
        # the container's duration speaks for the video only when nothing else is in it
        announced = stream.duration * time_base if stream.duration else 0.0
        if not announced and len(container.streams) == 1 and container.duration:
            announced = container.duration / 1e6
        index.scan(container, int(stream.frames or 0), announced)
        index.wait()  # raises what the scan found
    return index
