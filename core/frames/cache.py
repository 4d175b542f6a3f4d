"""A thread-safe least-recently-used cache of decoded frames, bounded by bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Hashable

import numpy as np


class FrameCache:
    """LRU mapping key -> uint8 array whose total ``nbytes`` never exceeds ``max_bytes``.

    Arrays are stored read-only so a caller cannot change a cached frame behind the cache's
    back; callers that need to write get a copy from the frame source. An array larger than
    the whole budget is not stored at all (the bound holds even with ``max_bytes=0``).
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"cache size must be >= 0 bytes, got {max_bytes}")
        self.max_bytes = int(max_bytes)
        self._items: OrderedDict[Hashable, np.ndarray] = OrderedDict()
        self._nbytes = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @property
    def nbytes(self) -> int:
        """Bytes held now (sum of the cached arrays' ``nbytes``)."""
        return self._nbytes

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._items

    def keys(self) -> list[Hashable]:
        """The cached keys, least recently used first."""
        with self._lock:
            return list(self._items)

    def get(self, key: Hashable) -> np.ndarray | None:
        """The cached (read-only) array for ``key``, marking it most recently used; None on a miss."""
        with self._lock:
            arr = self._items.get(key)
            if arr is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return arr

    def put(self, key: Hashable, arr: np.ndarray) -> bool:
        """Store ``arr`` (not copied; made read-only), evicting the least recently used.

        Returns False when the array alone exceeds the budget and was not stored.
        """
        size = int(arr.nbytes)
        if size > self.max_bytes:
            return False
        arr.flags.writeable = False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._nbytes -= int(old.nbytes)
            while self._items and self._nbytes + size > self.max_bytes:
                _, evicted = self._items.popitem(last=False)
                self._nbytes -= int(evicted.nbytes)
            self._items[key] = arr
            self._nbytes += size
            return True

    def capacity_for(self, item_bytes: int) -> int:
        """How many arrays of ``item_bytes`` fit in the budget."""
        return self.max_bytes // item_bytes if item_bytes > 0 else 0

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._nbytes = 0
