"""Keep the process's resident memory flat over a long propagation.

glibc's malloc serves blocks above a threshold with mmap and gives them back to the system when
they are freed, but it raises that threshold to the size of every such block freed, up to 32 MB.
Tracking allocates and frees activations of 1 to 30 MB every frame; once the threshold has grown
past them they come from the heap, whose freed pieces are kept and fragment, so the resident
size creeps up frame after frame. Fixing the threshold at 1 MB (which also switches off the
adjustment) keeps those activations on mmap. Elsewhere than glibc this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import sys

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
MMAP_THRESHOLD_BYTES = 1 << 20

_done = False


def keep_large_blocks_on_mmap() -> bool:
    """Fix glibc's mmap threshold at 1 MB, once per process; True when it was applied."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # musl and others: no mallopt
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    _done = bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
    return _done
