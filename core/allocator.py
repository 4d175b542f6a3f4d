"""Keep the process's resident memory flat over a long propagation, and clicks fast.

glibc's malloc serves blocks above a threshold with mmap (given back to the system when freed)
and the rest from heaps, whose freed pieces it keeps. By default it raises that threshold to
the size of every mmapped block freed, up to 32 MB. Tracking allocates and frees activations of
1 to 30 MB every frame and keeps some results for longer (memories, decoded frames); with the
activations on the heap, the kept blocks end up between them, holes left by freed activations
are too small for the next ones, and the heap and the peak resident size creep up frame after
frame (measured: +62 MB from frame 50 to 200 even with ``malloc_trim`` after every frame).

So while tracking (``for_tracking()``) the threshold is 1 MB: activations come from mmap and go
back when freed, and once per tracked frame ``release_free_memory()`` returns the heap's free
pages. Each such block then faults its pages in afresh, which costs the image encoder about a
fifth of its time. A click runs the encoder once and keeps nothing but its features, so for
clicks (``for_clicks()``) every activation comes from the heap and the heap keeps its free
pages (up to 1 GB): the encoder reuses the pages of the previous run (1.8 against 2.4 s,
bench/encoder_allocator.py), and the process keeps about one encoder's working set (~400 MB
for tiny) until the next propagation gives it back. In both, what is kept across frames is
allocated inside ``long_lived()`` (64 kB threshold). Elsewhere than glibc all of this does
nothing.

All of this holds for the main heap. A thread's first allocation may give it a heap of its own
(glibc makes one per core), and those are built of 64 MB pieces: the encoder's larger blocks
(up to 150 MB for tiny) then come from mmap whatever the threshold, and fault in afresh on
every run. The app runs the model on a worker thread, so ``one_heap()``, called before that
thread starts, keeps every thread on the main heap (the encoder in a thread: 1.83 s with it,
1.85 to 2.0 s and 4,400 page faults a run without).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
ACTIVATION_THRESHOLD = 1 << 20  # tracking: activations on mmap
CLICK_THRESHOLD = 512 << 20  # clicks: activations on the heap...
CLICK_TRIM_THRESHOLD = 1 << 30  # ...which keeps their pages for the next click
DEFAULT_TRIM_THRESHOLD = 128 << 10  # glibc's
LONG_LIVED_THRESHOLD = 64 << 10

_libc: ctypes.CDLL | None = None
_looked_up = False
_lock = threading.Lock()
_depth = 0
_activations = ACTIVATION_THRESHOLD  # the threshold outside long_lived(): by mode


def _glibc() -> ctypes.CDLL | None:
    global _libc, _looked_up
    if not _looked_up:
        _looked_up = True
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        if name is not None:
            try:
                libc = ctypes.CDLL(name)
                libc.mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
                libc.mallopt.restype = ctypes.c_int
                libc.malloc_trim.argtypes = (ctypes.c_size_t,)
                libc.malloc_trim.restype = ctypes.c_int
            except (OSError, AttributeError):  # musl and others: no mallopt / malloc_trim
                libc = None
            if libc is not None and libc.mallopt(M_MMAP_THRESHOLD, ACTIVATION_THRESHOLD):
                _libc = libc
    return _libc


def for_tracking() -> bool:
    """Activations on mmap, heap pages given back (once per process, or after clicks).

    False where glibc's mallopt is not available.
    """
    return _set_up(ACTIVATION_THRESHOLD, DEFAULT_TRIM_THRESHOLD, trim_now=True)


def for_clicks() -> bool:
    """Activations on the heap, which keeps their pages; False where that is not possible."""
    return _set_up(CLICK_THRESHOLD, CLICK_TRIM_THRESHOLD, trim_now=False)


def _set_up(activations: int, trim_threshold: int, trim_now: bool) -> bool:
    """Blocks of ``activations`` bytes and more on mmap (outside ``long_lived()``), the heap's
    free top kept up to ``trim_threshold``; ``trim_now``: give the heap's free pages back when
    this changes the set-up. False where glibc's mallopt is not available."""
    libc = _glibc()
    if libc is None:
        return False
    global _activations
    with _lock:
        if _activations != activations:
            _activations = activations
            libc.mallopt(M_TRIM_THRESHOLD, trim_threshold)
            if _depth == 0:
                libc.mallopt(M_MMAP_THRESHOLD, activations)
            if trim_now:
                libc.malloc_trim(0)  # what clicks left in the heap
    return True


def one_heap() -> bool:
    """Every thread allocates from the main heap; False where that is not possible.

    Call it before starting the threads that run the model: a thread that has already
    allocated keeps the heap it was given.
    """
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, 1))


def release_free_memory() -> bool:
    """Return the free pages of every malloc heap to the system; False where that is not possible."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True


@contextmanager
def long_lived() -> Iterator[bool]:
    """Blocks over 64 kB allocated inside come from mmap, outside the heaps; yields whether so.

    For results kept across frames. Process-wide while active (other threads' large blocks
    go to mmap too, which is only slower); nested and concurrent uses are counted.
    """
    global _depth
    libc = _glibc()
    if libc is None:
        yield False
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            libc.mallopt(M_MMAP_THRESHOLD, LONG_LIVED_THRESHOLD)
    try:
        yield True
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                libc.mallopt(M_MMAP_THRESHOLD, _activations)
