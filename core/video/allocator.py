"""Keep the process's resident memory flat over a long propagation.

glibc's malloc serves blocks above a threshold with mmap and gives them back to the system when
they are freed, but it raises that threshold to the size of every such block freed, up to 32 MB.
Tracking allocates and frees activations of 1 to 30 MB every frame; once the threshold has grown
past them they come from the heap, whose freed pieces are kept and fragment, so the resident
size creeps up frame after frame.

Forcing those blocks onto mmap (a fixed 1 MB threshold) keeps the heap small but makes every
large activation fault its pages in afresh: the image encoder ran 25 to 40% slower. Instead the
engine asks glibc, once per tracked frame, to return the free pages inside its heaps
(``malloc_trim``): a few milliseconds per frame, and within a frame freed blocks are still
reused without page faults. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
_looked_up = False


def _malloc_trim() -> Callable[[int], int] | None:
    global _trim, _looked_up
    if not _looked_up:
        _looked_up = True
        name = ctypes.util.find_library("c") if sys.platform.startswith("linux") else None
        if name is not None:
            try:
                fn = ctypes.CDLL(name).malloc_trim
            except (OSError, AttributeError):  # musl and others: no malloc_trim
                fn = None
            if fn is not None:
                fn.argtypes = (ctypes.c_size_t,)
                fn.restype = ctypes.c_int
                _trim = fn
    return _trim


def release_free_memory() -> bool:
    """Return the free pages of every malloc heap to the system; False where that is not possible."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
