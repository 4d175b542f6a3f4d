"""Worker threads that each run torch on one core, for kernels split into many independent blocks.

A kernel written as a long series of small torch operations (the blocked attention runs about ten
per block of 512 keys) pays one fork and join of torch's intra-op threads per operation. On an
idle machine that costs little; when another program holds a core, a thread preempted in the
middle of an operation stalls every other thread at that operation's join, thousands of times
per frame. Handing whole blocks to threads that each compute theirs with single-threaded torch
operations leaves one join per kernel call, and a thread that loses its core for a while simply
takes fewer blocks (blocks are taken from a shared queue, not split up front).

``run_blocks(fn, items)`` calls ``fn(item)`` for every item on ``torch.get_num_threads()`` threads
of the calling thread; with one thread it runs them in order on the caller.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

import torch

T = TypeVar("T")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_scratch = threading.local()


def _single_threaded() -> None:
    # torch sets a thread's intra-op count (OpenMP keeps one per thread) from its process-wide
    # default on the thread's first query; query first so that this thread's 1 is not overwritten
    # later. Setting 1 also makes 1 the process-wide default: _pool_for restores that.
    torch.get_num_threads()
    torch.set_num_threads(1)


def _pool_for(threads: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _lock:
        if _pool is None or _pool_size != threads:
            if _pool is not None:
                _pool.shutdown(wait=True)
            pool = ThreadPoolExecutor(threads, thread_name_prefix="masklet-block", initializer=_single_threaded)
            # Start every worker now (each runs the initializer once), then give torch back the
            # caller's count as the default for threads started from here on.
            barrier = threading.Barrier(threads)
            list(pool.map(lambda _: barrier.wait(), range(threads)))
            torch.set_num_threads(threads)
            _pool, _pool_size = pool, threads
        return _pool


def _forget_pool() -> None:
    # A forked child has none of the parent's threads: it starts its own pool when it needs one.
    global _pool, _pool_size, _lock
    _pool, _pool_size, _lock = None, 0, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def scratch(numel: int, like: torch.Tensor) -> torch.Tensor:
    """A float buffer of at least ``numel`` elements (1-D, ``like``'s dtype and device), kept per
    thread and reused by the next call on the same thread: a block kernel's scratch then costs
    no allocation (and no page faults) per block. Contents are undefined."""
    buf = getattr(_scratch, "buf", None)
    if buf is None or buf.numel() < numel or buf.dtype != like.dtype or buf.device != like.device:
        with torch.inference_mode(False):
            buf = torch.empty(numel, dtype=like.dtype, device=like.device)
        _scratch.buf = buf
    return buf[:numel]


def run_blocks(fn: Callable[[T], None], items: Iterable[T]) -> None:
    """Call ``fn`` on every item, on as many single-threaded workers as the caller's torch threads.

    fn must write its results into memory no other item writes. Exceptions propagate.
    """
    items = list(items)
    threads = torch.get_num_threads()
    if threads <= 1 or len(items) <= 1:
        for item in items:
            fn(item)
        return
    in_callers_modes = _with_callers_modes(fn)
    for future in [_pool_for(threads).submit(in_callers_modes, item) for item in items]:
        future.result()


def _with_callers_modes(fn: Callable[[T], None]) -> Callable[[T], None]:
    """fn run under the calling thread's grad, inference and CPU autocast modes (torch keeps each
    per thread: an inference tensor may only be updated in place inside inference mode)."""
    inference = torch.is_inference_mode_enabled()
    grad = torch.is_grad_enabled()
    autocast = torch.is_autocast_enabled("cpu")
    dtype = torch.get_autocast_dtype("cpu")

    def run(item: T) -> None:
        with torch.inference_mode(inference), torch.set_grad_enabled(grad), \
                torch.autocast("cpu", dtype=dtype, enabled=autocast):
            fn(item)

    return run
