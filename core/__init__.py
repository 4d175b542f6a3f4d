"""Masklet's Qt-free core: SAM 2, the streaming video engine, frames, masks and dataset formats."""

import os as _os

__version__ = "0.1.0"

# torch's CPU allocator reads this once, at its first allocation: blocks of 2 MB and more are
# then page-aligned and advised as transparent huge pages, so the pages a block faults in when
# it is first used (the heap growing to a frame's working set, core/allocator.py) come 2 MB at
# a time instead of 4 kB. It takes effect only when core is imported before torch, as all of
# Masklet's entry points do; THP_MEM_ALLOC_ENABLE=0 turns it off.
_os.environ.setdefault("THP_MEM_ALLOC_ENABLE", "1")

# OpenMP's threads (torch's intra-op threads) sleep when they wait at the end of a parallel
# region instead of spinning for a while first. On an idle machine that costs a wake-up per
# region; when another program holds a core, a spinning thread takes the very core its late
# partner needs, and every one of the thousands of regions of a frame waits for the scheduler
# (docs/benchmarks.md, "Speed with other programs running"). Read once, when torch loads
# OpenMP: like the line above it needs core imported before torch; OMP_WAIT_POLICY=ACTIVE
# restores spinning.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
