"""What every frame source shares: the bounded frame cache, read-ahead, thumbnails, closing.

A subclass only knows how to decode frame i (``_decode``); this class makes that safe to
call from the caller's thread and the read-ahead thread at once (one decoder lock, the
caller first) and keeps decoded frames in a byte-bounded LRU cache.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from core.frames.cache import FrameCache
from core.frames.errors import FrameSourceError
from core.frames.readahead import ReadAhead
from core.types import CancelCheck, VideoInfo

THUMBNAIL_CACHE_BYTES = 32 * 2**20


class CachedFrames(ABC):
    """Base of VideoFrames and FolderFrames; implements core.types.FrameSource.

    cache_mb: budget of the decoded-frame cache in MiB (frames are (H, W, 3) uint8, so a
    1280x720 frame takes 2.6 MiB). The cache never holds more; nothing is preloaded.
    """

    def __init__(self, path: Path, info: VideoInfo, cache_mb: int) -> None:
        if cache_mb < 0:
            raise ValueError(f"cache_mb must be >= 0, got {cache_mb}")
        self.path = path
        self._info = info
        self.cache = FrameCache(int(cache_mb) * 2**20)
        self.thumbnails = FrameCache(THUMBNAIL_CACHE_BYTES)
        self._lock = threading.RLock()  # the decoder: one user at a time
        self._priority = threading.Lock()
        self._waiting = 0  # callers waiting for the decoder; read-ahead yields to them
        self._closed = False
        self._fingerprint: str | None = None
        self._readahead = ReadAhead(self._background_load, self.cache.__contains__)

    # -- FrameSource ---------------------------------------------------------------
    @property
    def info(self) -> VideoInfo:
        return self._info

    def __len__(self) -> int:
        return self._info.frame_count

    def get(self, index: int) -> np.ndarray:
        """Frame ``index`` as a fresh, writable (H, W, 3) uint8 RGB array."""
        i = self._check_index(index)
        hit = self.cache.get(i)
        if hit is not None:
            return hit.copy()
        frame = self._foreground_decode(i, store=True)
        return frame.copy()

    def get_shared(self, index: int) -> np.ndarray:
        """Frame ``index`` as a read-only (H, W, 3) uint8 RGB array shared with the frame cache:
        no copy (6 MB at 1080p), for readers that only read it (the engine's model input)."""
        i = self._check_index(index)
        frame = self.cache.get(i)
        if frame is None:
            frame = self._foreground_decode(i, store=True)
        view = frame.view()
        view.flags.writeable = False
        return view

    # -- read-ahead ----------------------------------------------------------------
    def prefetch(self, indices: Sequence[int]) -> None:
        """Decode ``indices`` (in this order) on the read-ahead thread into the cache.

        Replaces any earlier request. Indices outside the video are ignored; the list is cut to
        half of what the cache holds so read-ahead never evicts the frames it just decoded.
        """
        self._check_open()
        room = self.cache.capacity_for(self._frame_bytes) // 2  # 0 with no cache: nothing to fill
        wanted = [int(i) for i in indices if 0 <= int(i) < len(self)][:room]
        self._readahead.request(wanted)

    def wait_prefetch(self, timeout: float | None = None) -> bool:
        """Block until read-ahead has nothing left to do; False on timeout."""
        return self._readahead.wait_idle(timeout)

    # -- thumbnails ----------------------------------------------------------------
    def thumbnail(self, index: int, height: int) -> np.ndarray:
        """Frame ``index`` scaled to ``height`` pixels high (aspect kept): (height, w, 3) uint8 RGB.

        Cached separately (32 MiB); decoding one does not push full frames out of the frame cache.
        """
        i = self._check_index(index)
        if height < 1:
            raise ValueError(f"thumbnail height must be >= 1, got {height}")
        key = (i, int(height))
        hit = self.thumbnails.get(key)
        if hit is not None:
            return hit.copy()
        frame = self.cache.get(i)
        if frame is None:
            frame = self._foreground_decode(i, store=False)
        h, w = frame.shape[:2]
        width = max(1, round(w * height / h))
        small = cv2.resize(frame, (width, int(height)), interpolation=cv2.INTER_AREA)
        self.thumbnails.put(key, small)
        return small.copy()

    # -- identity ------------------------------------------------------------------
    def fingerprint(self) -> str:
        """"sha256:<hex>" of the content (see core.frames.fingerprint); computed once."""
        if self._fingerprint is None:
            self._fingerprint = self._compute_fingerprint()
        return self._fingerprint

    # -- lifetime ------------------------------------------------------------------
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop read-ahead, release the decoder and drop the caches. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        self._readahead.close()
        with self._lock:
            self._close_decoder()
        self.cache.clear()
        self.thumbnails.clear()

    def __enter__(self) -> "CachedFrames":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # a forgotten source must not leave its thread running
        try:
            self._readahead.close(timeout=0.5)
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass

    # -- for subclasses ----------------------------------------------------------------
    @property
    def _frame_bytes(self) -> int:
        return self._info.width * self._info.height * 3

    @abstractmethod
    def _decode(self, index: int, *, store: bool, abort: CancelCheck | None) -> np.ndarray | None:
        """Decode frame ``index`` (caller holds the decoder lock) and return it, uint8 RGB.

        store: put it (and any neighbours worth keeping) in ``self.cache``. abort: checked
        between frames; when it returns True give up and return None.
        """

    @abstractmethod
    def _compute_fingerprint(self) -> str:
        """The content fingerprint of this source."""

    @abstractmethod
    def _close_decoder(self) -> None:
        """Release files and decoders."""

    # -- internals -----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise FrameSourceError(f"{self.path}: the frame source is closed")

    def _check_index(self, index: int) -> int:
        self._check_open()
        i = int(index)
        if not 0 <= i < len(self):
            raise IndexError(f"frame {index} is outside 0..{len(self) - 1} of {self.path.name}")
        return i

    def _foreground_decode(self, i: int, *, store: bool) -> np.ndarray:
        with self._priority:
            self._waiting += 1
        try:
            with self._lock:
                self._check_open()
                hit = self.cache.get(i) if store else None
                if hit is not None:  # read-ahead got there while we waited
                    return hit
                frame = self._decode(i, store=store, abort=None)
                assert frame is not None  # nothing aborts the caller's own decode
                return frame
        finally:
            with self._priority:
                self._waiting -= 1

    def _background_load(self, i: int, stop: CancelCheck) -> bool:
        """Read-ahead's loader: decode frame i into the cache, stepping aside for the caller."""
        while self._waiting:
            if stop():
                return False
            time.sleep(0.002)
        with self._lock:
            if self._closed or stop():
                return False
            if i in self.cache:
                return True
            frame = self._decode(i, store=True, abort=lambda: stop() or self._waiting > 0)
            return frame is not None
