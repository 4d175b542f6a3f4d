"""Keep the process's resident memory flat over a long propagation, and every frame fast.

A tracked frame allocates and frees a few gigabytes of activations (blocks of 1 to 150 MB for
tiny) and keeps a few results for longer (image features, memories, decoded frames). glibc's
malloc serves large blocks from mmap (given back when freed: every block faults its pages in
afresh, and the kernel zeroes them) or from its heap (freed pieces keep their pages for the
next request that fits). Reusing the heap's pages is what makes a frame fast: with every
activation on mmap, zeroing and faulting in about 3 GB a frame cost 10-15 % of a frame
(docs/benchmarks.md). What kept the activations off the heap before was fragmentation: a
result kept across frames, allocated between activations, splits the free space the next
frame's activations need, and the heap grows frame after frame.

So here the activations live on the heap (``activations_on_heap()``: the mmap threshold at
512 MB, the heap's free pages kept up to 1 GB) and the results kept across frames never do:
``kept_tensor`` and ``kept_array`` copy them into anonymous mappings of their own (64 kB and
more; smaller ones are plain copies). A threshold cannot promise that: malloc serves a request
from any free heap piece it fits, whatever the threshold, so a kept result allocated while the
heap has free pieces lands in one of them. Elsewhere than glibc the set-up does nothing and
the copies still work.

The process then keeps one frame's working set of activations resident between frames and
clicks (about 0.5 GB for tiny), reused by the next.

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
import mmap
import sys
import threading

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported where a tensor is kept: `masklet --version` loads no torch
    import torch

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
HEAP_THRESHOLD = 512 << 20  # activations below this come from the heap...
HEAP_TRIM_THRESHOLD = 1 << 30  # ...which keeps up to this much free at its top
KEPT_MAPPING_BYTES = 64 << 10  # kept results from this size on get a mapping of their own

_libc: ctypes.CDLL | None = None
_looked_up = False
_lock = threading.Lock()
_set = False


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
            except (OSError, AttributeError):  # musl and others: no mallopt
                libc = None
            if libc is not None and libc.mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD):
                _libc = libc
    return _libc


def activations_on_heap() -> bool:
    """Activations from the heap, which keeps their pages for the next frame or click.

    Set once per process (every ``VideoSession`` calls it; later calls tell malloc nothing);
    False where glibc's mallopt is not available.
    """
    global _set
    libc = _glibc()
    if libc is None:
        return False
    with _lock:
        if not _set:
            libc.mallopt(M_TRIM_THRESHOLD, HEAP_TRIM_THRESHOLD)
            libc.mallopt(M_MMAP_THRESHOLD, HEAP_THRESHOLD)
            _set = True
    return True


def one_heap() -> bool:
    """Every thread allocates from the main heap; False where that is not possible.

    Call it before starting the threads that run the model: a thread that has already
    allocated keeps the heap it was given.
    """
    libc = _glibc()
    return libc is not None and bool(libc.mallopt(M_ARENA_MAX, 1))


# Private: on Unix, Python's default for an anonymous mmap is MAP_SHARED, i.e. shared memory
# (tmpfs pages, slower faults, never merged with its neighbours, so one map entry per tensor).
# Windows' anonymous mappings are the process's own and take no flags.
_PRIVATE = {"flags": mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS} if hasattr(mmap, "MAP_PRIVATE") else {}


def _mapping(nbytes: int) -> mmap.mmap:
    return mmap.mmap(-1, nbytes, **_PRIVATE)  # unmapped when the last view of it goes


def kept_tensor(t: torch.Tensor, dtype: torch.dtype | None = None) -> torch.Tensor:
    """A contiguous copy of CPU tensor ``t`` (as ``dtype`` if given) for keeping across frames.

    From KEPT_MAPPING_BYTES on, its memory is an anonymous mapping of its own, outside malloc's
    heap; smaller ones, and tensors on other devices, are plain copies.
    """
    import torch

    dtype = t.dtype if dtype is None else dtype
    nbytes = t.numel() * dtype.itemsize
    if t.device.type != "cpu" or nbytes < KEPT_MAPPING_BYTES:
        return t.to(dtype=dtype, memory_format=torch.contiguous_format, copy=True)
    out = torch.frombuffer(_mapping(nbytes), dtype=torch.uint8).view(dtype).view(t.shape)
    out.copy_(t)
    return out


def kept_array(a: np.ndarray) -> np.ndarray:
    """A C-contiguous copy of ``a`` for keeping (decoded frames), in a mapping of its own from
    KEPT_MAPPING_BYTES on."""
    if a.nbytes < KEPT_MAPPING_BYTES:
        return np.array(a, order="C", copy=True)
    out = np.frombuffer(_mapping(a.nbytes), dtype=a.dtype, count=a.size).reshape(a.shape)
    np.copyto(out, a)
    return out
